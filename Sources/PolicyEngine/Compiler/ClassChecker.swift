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
        let eligible = plan.eligible
        let hints = plan.refusal + eligibilityHints(plan)
        let related = plan.residency.map {
            Diagnostic.Related(location: set.residency[$0].policy.metadata.location,
                               message: "residency policy '\(set.residency[$0].name)'")
        }
        diagnostics.append(.error(.unsatisfiable, at: policy.copies.location,
            "objects such as \(witness) cannot be placed: residency \(plan.residency.count == 1 ? "policy" : "policies") \(names) with replication policy '\(policy.metadata.name)' (copies \(policy.copies.value), minProviders \(policy.minProviders.value), minCities \(policy.minCities.value)) leave \(eligible.count) eligible zone\(eligible.count == 1 ? "" : "s")",
            hints: hints, related: related))
    }

    /// With `placement: spread` the candidate order depends on the object, and the keys of a
    /// class are free: if some order of its eligible zones makes the walk fail, objects of the
    /// class are refused, and the class is reported as unsatisfiable with an object (or an
    /// order) that fails and the reason per zone.
    private mutating func checkSpread(_ plan: ClassPlan, policy box: ReplicationPolicyBox, witness: ObjectRef, key: FindingKey) {
        guard checkedSpread.insert(key).inserted else { return }
        let chooser = ZoneChooser(box.policy)
        guard let start = spreadCheck.failingOrder(preferred: plan.preferred, rest: plan.restSet, chooser) else { return }
        guard reportedUnsatisfiable.insert(key).inserted else { return }
        let policy = box.policy
        let zones = set.catalog.zones
        // An object of the class that really gets a failing order, if one is near the witness.
        var example: ObjectRef?
        var order = plan.preferred + start
        for i in -1..<Self.exampleTries {
            var candidate = witness
            if i >= 0 { candidate.key = witness.key + "-\(i)" }
            guard set.classPlan(for: candidate) === plan else { continue }
            let objectPlan = set.plan(for: candidate)
            if !objectPlan.allowed {
                example = candidate
                order = objectPlan.candidates.map(\.index)
                break
            }
        }
        if example == nil {
            let used = Set(start)
            order += plan.rest.filter { !used.contains($0) }
        }
        let walk = walkReasons(order, chooser)
        let shown = order[...walk.lastTaken].map { zones[$0].code }.joined(separator: ", ") + (walk.lastTaken + 1 < order.count ? ", …" : "")
        let names = plan.residencyNames.map { "'\($0)'" }.joined(separator: ", ")
        let subject = example.map { "objects such as \($0)" } ?? "objects such as \(witness) whose candidate order starts with \(shown)"
        var hints = ["candidate order \(shown): the walk places only \(walk.taken) of \(policy.copies.value) copies while keeping minProviders \(policy.minProviders.value) and minCities \(policy.minCities.value)"]
        hints += walk.reasons.prefix(20)
        if walk.reasons.count > 20 { hints.append("… and \(walk.reasons.count - 20) more zones, all skipped") }
        hints += eligibilityHints(plan)
        hints.append("the rendezvous order differs from object to object and the walk cannot go back: add zones, lower minProviders/minCities, or name a diverse set in prefer")
        let related = plan.residency.map {
            Diagnostic.Related(location: set.residency[$0].policy.metadata.location,
                               message: "residency policy '\(set.residency[$0].name)'")
        }
        diagnostics.append(.error(.unsatisfiable, at: policy.copies.location,
            "with placement: spread, \(subject) cannot be placed: residency \(plan.residency.count == 1 ? "policy" : "policies") \(names) with replication policy '\(policy.metadata.name)' (copies \(policy.copies.value), minProviders \(policy.minProviders.value), minCities \(policy.minCities.value)) leave \(plan.eligibleCount) eligible zone\(plan.eligibleCount == 1 ? "" : "s"), but not every order of them can be walked to \(policy.copies.value) copies",
            hints: hints, related: related))
    }

    /// How many keys next to a class's witness are tried for an object whose spread order fails.
    static let exampleTries = 1000

    /// The walk of step 4 over `order`, zone by zone: taken, or why it is skipped.
    private func walkReasons(_ order: [Int], _ chooser: ZoneChooser) -> (reasons: [String], taken: Int, lastTaken: Int) {
        let zones = set.catalog.zones
        var providers = Set<Int32>(), cities = Set<Int32>()
        var taken = 0, lastTaken = -1
        var reasons: [String] = []
        for (i, z) in order.enumerated() {
            if taken == chooser.copies { break }
            let zone = zones[z]
            let p = set.providerID[z], c = set.cityID[z]
            let newP = !providers.contains(p), newC = !cities.contains(c)
            let remaining = chooser.copies - taken - 1
            let lackP = chooser.minProviders - providers.count - (newP ? 1 : 0)
            let lackC = chooser.minCities - cities.count - (newC ? 1 : 0)
            let label = "\(zone.code) (\(zone.providerName), \(zone.city))"
            if lackP > remaining || lackC > remaining {
                var lacking: [String] = []
                if lackP > 0 { lacking.append("\(lackP) more provider\(lackP == 1 ? "" : "s")") }
                if lackC > 0 { lacking.append("\(lackC) more cit\(lackC == 1 ? "y" : "ies")") }
                reasons.append("\(label): skipped: taking it would leave \(remaining) cop\(remaining == 1 ? "y" : "ies") for \(lacking.joined(separator: " and "))")
                continue
            }
            taken += 1
            lastTaken = i
            providers.insert(p)
            cities.insert(c)
            reasons.append("\(label): taken as copy \(taken)")
        }
        return (reasons, taken, max(lastTaken, 0))
    }

    /// The eligible zones and why each other zone is not eligible (at most 20 of them).
    private func eligibilityHints(_ plan: ClassPlan) -> [String] {
        var hints: [String] = []
        let eligible = plan.eligible
        hints.append("eligible zones: " + (eligible.isEmpty ? "none" : eligible.map { set.catalog.zones[$0].code }.joined(separator: ", ")))
        let rejected = set.catalog.zones.filter { !plan.eligibleSet.contains($0.index) }
        for zone in rejected.prefix(20) {
            let reasons = set.rejectionReasons(zone: zone, residency: plan.residency)
            hints.append("\(zone.code): " + reasons.joined(separator: "; "))
        }
        if rejected.count > 20 { hints.append("… and \(rejected.count - 20) more zones rejected (see `policyctl plan --explain`)") }
        return hints
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
