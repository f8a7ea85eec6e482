/// Turns the object classes into diagnostics: ambiguous replication policies, unsatisfiable
/// classes (with a witness object and the reason per zone) and policies that never apply.
struct ClassChecker {
    let set: CompiledPolicySet
    private var diagnostics: [Diagnostic] = []
    private var reportedPairs = Set<[Int]>()
    private var reportedUnsatisfiable = Set<[Int]>()
    private var winners = Set<Int>()
    private var matched = Set<Int>()
    private var ambiguous = Set<Int>()
    private var checkedSpread = Set<[Int]>()

    init(set: CompiledPolicySet) {
        self.set = set
    }

    mutating func check(_ plan: ClassPlan, bits: PolicyBits, witness: ObjectRef) {
        let replication = set.replicationPolicies
        for i in plan.matchingReplication { matched.insert(i) }
        // Ambiguity: two matching replication policies of equal priority.
        let matching = plan.matchingReplication
        for (a, i) in matching.enumerated() {
            for j in matching[(a + 1)...] where replication[i].priority.value == replication[j].priority.value {
                ambiguous.formUnion([i, j])
                guard reportedPairs.insert([i, j]).inserted else { continue }
                let p = replication[i], q = replication[j]
                diagnostics.append(.error(.ambiguousReplication, at: q.metadata.location,
                    "replication policies '\(p.metadata.name)' and '\(q.metadata.name)' have the same priority (\(p.priority.value)) and both match objects such as \(witness)",
                    hints: ["give one of them a higher priority, or make their selectors disjoint"],
                    related: [.init(location: p.metadata.location, message: "'\(p.metadata.name)' is defined here"),
                              .init(location: p.priority.location, message: "its priority")]))
            }
        }
        if let policy = plan.replication, let w = replication.firstIndex(where: { $0.metadata.name == policy.metadata.name }) {
            winners.insert(w)
        }
        if let policy = plan.replication, policy.placement == .spread, !plan.residency.isEmpty, plan.refusal.isEmpty {
            checkSpread(plan, policy: policy, witness: witness)
        }
        // Unsatisfiable: residency policies match and a replication policy applies, but no placement.
        guard !plan.residency.isEmpty, let policy = plan.replication, !plan.refusal.isEmpty else { return }
        let key = plan.residency + [-1, replication.firstIndex { $0.metadata.name == policy.metadata.name } ?? -1]
        guard reportedUnsatisfiable.insert(key).inserted else { return }
        let names = plan.residencyNames.map { "'\($0)'" }.joined(separator: ", ")
        var hints = plan.refusal
        hints.append("eligible zones: " + (plan.eligible.isEmpty ? "none" : plan.eligible.map { set.catalog.zones[$0].code }.joined(separator: ", ")))
        let rejected = set.catalog.zones.filter { !plan.eligible.contains($0.index) }
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
            "objects such as \(witness) cannot be placed: residency \(plan.residency.count == 1 ? "policy" : "policies") \(names) with replication policy '\(policy.metadata.name)' (copies \(policy.copies.value), minProviders \(policy.minProviders.value), minCities \(policy.minCities.value)) leave \(plan.eligible.count) eligible zone\(plan.eligible.count == 1 ? "" : "s")",
            hints: hints, related: related))
    }

    /// With `placement: spread` the candidate order depends on the object: the walk is tried with
    /// every eligible zone first, and an order that cannot be completed is reported, since the
    /// objects whose rendezvous order starts that way would be refused.
    private mutating func checkSpread(_ plan: ClassPlan, policy: ReplicationPolicy, witness: ObjectRef) {
        guard checkedSpread.insert(plan.residency + [-2, set.replicationPolicies.firstIndex { $0.metadata.name == policy.metadata.name } ?? -1]).inserted else { return }
        let chooser = ZoneChooser(policy)
        var failing: [Int] = []
        for first in plan.rest {
            let order = plan.preferred + [first] + plan.rest.filter { $0 != first }
            let chosen = chooser.choose(order, providerID: set.providerID, cityID: set.cityID)
            if !chooser.shortfall(chosen, eligibleCount: plan.eligible.count, providerID: set.providerID, cityID: set.cityID).isEmpty {
                failing.append(first)
            }
        }
        guard !failing.isEmpty else { return }
        let key = plan.residency + [-2, set.replicationPolicies.firstIndex { $0.metadata.name == policy.metadata.name } ?? -1]
        guard reportedUnsatisfiable.insert(key).inserted else { return }
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
        for (i, policy) in set.replicationPolicies.enumerated() where matched.contains(i) && !winners.contains(i) && !ambiguous.contains(i) {
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
