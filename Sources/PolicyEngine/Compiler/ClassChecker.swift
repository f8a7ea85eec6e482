/// Turns the object classes into diagnostics: ambiguous replication policies, unsatisfiable
/// classes (with a witness object and the reason per zone) and policies that never apply.
struct ClassChecker {
    let set: CompiledPolicySet
    private var diagnostics: [Diagnostic] = []
    private var reportedPairs = Set<[Int]>()
    private var reportedUnsatisfiable = Set<FindingKey>()
    private var winners: [Bool]
    private var matched: [Bool]
    private var ambiguous: [Bool]
    private var checkedSpread = Set<FindingKey>()
    private var spreadCheck: SpreadCheck

    /// A finding about a residency set and a replication policy (by its first index by name).
    private struct FindingKey: Hashable {
        var residency: [Int]
        var replication: Int
        var spread: Bool
    }

    init(set: CompiledPolicySet) {
        self.set = set
        let n = set.replicationPolicies.count
        winners = [Bool](repeating: false, count: n)
        matched = [Bool](repeating: false, count: n)
        ambiguous = [Bool](repeating: false, count: n)
        spreadCheck = SpreadCheck(providerID: set.providerID, cityID: set.cityID)
    }

    /// True once a class has produced a diagnostic (`finish` may add warnings of its own).
    var hasFindings: Bool { !diagnostics.isEmpty }

    mutating func check(_ plan: ClassPlan, witness: ObjectRef) {
        let replication = set.replicationPolicies
        for i in plan.matchingReplication { matched[i] = true }
        // Ambiguity: two matching replication policies of equal priority.
        let matching = plan.matchingReplication
        for (a, i) in matching.enumerated() {
            for j in matching[(a + 1)...] where replication[i].priority.value == replication[j].priority.value {
                ambiguous[i] = true
                ambiguous[j] = true
                guard reportedPairs.insert([i, j]).inserted else { continue }
                let p = replication[i], q = replication[j]
                diagnostics.append(.error(.ambiguousReplication, at: q.metadata.location,
                    "replication policies '\(p.metadata.name)' and '\(q.metadata.name)' have the same priority (\(p.priority.value)) and both match objects such as \(witness)",
                    hints: ["give one of them a higher priority, or make their selectors disjoint"],
                    related: [.init(location: p.metadata.location, message: "'\(p.metadata.name)' is defined here"),
                              .init(location: p.priority.location, message: "its priority")]))
            }
        }
        guard let box = plan.replicationBox, let winner = plan.replicationIndex else { return }
        let first = set.firstIndexByName[winner]
        winners[first] = true
        guard !plan.residency.isEmpty else { return }
        // A policy with errors is not the policy as written (an entry was refused, a name did not
        // resolve): whether its classes can be placed says nothing, and its errors say enough.
        if box.policy.hasErrors || plan.residency.contains(where: { set.residency[$0].hasErrors }) { return }
        if box.policy.placement == .spread, plan.refusal.isEmpty {
            checkSpread(plan, policy: box, witness: witness, key: FindingKey(residency: plan.residency, replication: first, spread: true))
        }
        // Unsatisfiable: residency policies match and a replication policy applies, but no placement.
        guard !plan.refusal.isEmpty else { return }
        guard reportedUnsatisfiable.insert(FindingKey(residency: plan.residency, replication: first, spread: false)).inserted else { return }
        let policy = box.policy
        let names = plan.residencyNames.map { "'\($0)'" }.joined(separator: ", ")
        var hints = plan.refusal
        let eligible = plan.eligible
        hints.append("eligible zones: " + (eligible.isEmpty ? "none" : eligible.map { set.catalog.zones[$0].code }.joined(separator: ", ")))
        let rejected = set.catalog.zones.filter { !plan.eligibleSet.contains($0.index) }
        for zone in rejected.prefix(20) {
            let reasons = set.rejectionReasons(zone: zone, residency: plan.residency)
            hints.append("\(zone.code): " + reasons.joined(separator: "; "))
        }
        if rejected.count > 20 { hints.append("… and \(rejected.count - 20) more zones rejected (see `policyctl plan --explain`)") }
        let related = plan.residency.map {
            Diagnostic.Related(location: set.residency[$0].policy.metadata.location,
                               message: "residency policy '\(set.residency[$0].name)'")
        }
        diagnostics.append(.error(.unsatisfiable, at: policy.copies.location,
            "objects such as \(witness) cannot be placed: residency \(plan.residency.count == 1 ? "policy" : "policies") \(names) with replication policy '\(policy.metadata.name)' (copies \(policy.copies.value), minProviders \(policy.minProviders.value), minCities \(policy.minCities.value)) leave \(eligible.count) eligible zone\(eligible.count == 1 ? "" : "s")",
            hints: hints, related: related))
    }

    /// With `placement: spread` the candidate order depends on the object: the walk is tried with
    /// every eligible zone first, and an order that cannot be completed is reported, since the
    /// objects whose rendezvous order starts that way would be refused.
    private mutating func checkSpread(_ plan: ClassPlan, policy box: ReplicationPolicyBox, witness: ObjectRef, key: FindingKey) {
        guard checkedSpread.insert(key).inserted else { return }
        let failing = spreadCheck.failingFirsts(preferred: plan.preferred, rest: plan.restSet, ZoneChooser(box.policy))
        guard !failing.isEmpty else { return }
        guard reportedUnsatisfiable.insert(key).inserted else { return }
        let policy = box.policy
        let zones = set.catalog.zones
        diagnostics.append(.error(.unsatisfiable, at: policy.copies.location,
            "with placement: spread, objects such as \(witness) whose rendezvous order starts with \(failing.map { zones[$0].code }.joined(separator: " or ")) cannot be placed under replication policy '\(policy.metadata.name)' (copies \(policy.copies.value), minProviders \(policy.minProviders.value), minCities \(policy.minCities.value))",
            hints: ["the walk takes zones in order and cannot go back; add zones, lower minProviders/minCities, or name a diverse set in prefer"]))
    }

    func finish(truncated: Bool, classCount: Int) -> [Diagnostic] {
        var result = diagnostics
        if truncated {
            result.append(.warning(.analysisLimit, at: nil,
                "the policies combine into more than \(classCount) object classes; only those were checked",
                hints: ["simplify overlapping selectors (tags × buckets × key prefixes)"]))
            return result
        }
        for (i, policy) in set.replicationPolicies.enumerated() where matched[i] && !winners[i] && !ambiguous[i] {
            result.append(.warning(.neverApplies, at: policy.metadata.location,
                "replication policy '\(policy.metadata.name)' never applies: every object it matches is taken by a policy of higher priority"))
        }
        return result
    }
}

extension CompiledPolicySet {
    /// Why a zone is not eligible under the given residency policies (and the backends file).
    func rejectionReasons(zone: Zone, residency indices: [Int]) -> [String] {
        var reasons = indices.flatMap { residency[$0].rejectionReasons(for: zone) }
        if !usable.contains(zone.index) {
            let location = backendLocations[zone.code] ?? backendsFile.map { SourceLocation(file: $0, line: 1, column: 1) }
            reasons.append("no enabled backend for the zone" + (location.map { " (\($0))" } ?? ""))
        }
        return reasons
    }
}
