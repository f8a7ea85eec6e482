/// Why a plan is what it is: every zone with every constraint that applies to it.
public struct PlanExplanation: Sendable {
    public enum Status: String, Sendable {
        /// Chosen for a copy.
        case chosen
        /// Eligible, not chosen.
        case eligible
        /// Excluded by a residency policy or the backends file.
        case rejected
    }

    public struct Constraint: Sendable {
        /// e.g. `finnish-personal-data: allow.countries`
        public var name: String
        public var passed: Bool
        public var detail: String
        public var location: SourceLocation?
    }

    public struct ZoneRow: Sendable {
        public var zone: Zone
        public var status: Status
        public var constraints: [Constraint]
        /// For rejected zones: why, naming the clause and its `FILE:LINE:COL`.
        public var reasons: [String]
    }

    public var object: ObjectRef
    public var plan: PlacementPlan
    public var rows: [ZoneRow]

    public var rejected: [ZoneRow] { rows.filter { $0.status == .rejected } }
}

extension CompiledPolicySet {
    /// The plan with the per-zone table of every constraint (`policyctl plan --explain`).
    public func explain(_ object: ObjectRef) -> PlanExplanation {
        let plan = self.plan(for: object)
        let cls = plan.cls
        let chosen = Set(plan.zones.map(\.index))
        let eligible = cls.eligibleSet
        var rows: [PlanExplanation.ZoneRow] = []
        for zone in catalog.zones {
            var constraints: [PlanExplanation.Constraint] = []
            for i in cls.residency {
                for c in residency[i].clauses(for: zone) {
                    constraints.append(.init(name: "\(residency[i].name): \(c.clause)", passed: c.passed,
                                             detail: c.detail, location: c.location))
                }
            }
            if backendsFile != nil || !usable.contains(zone.index) {
                let ok = usable.contains(zone.index)
                constraints.append(.init(name: "backend", passed: ok,
                                         detail: ok ? "an enabled backend serves the zone" : "no enabled backend for the zone",
                                         location: nil))
            }
            let status: PlanExplanation.Status = chosen.contains(zone.index) ? .chosen : eligible.contains(zone.index) ? .eligible : .rejected
            var reasons: [String] = []
            if status == .rejected {
                reasons = rejectionReasons(zone: zone, residency: cls.residency)
                if reasons.isEmpty, cls.residency.isEmpty { reasons = ["no residency policy matches the object"] }
            }
            rows.append(.init(zone: zone, status: status, constraints: constraints, reasons: reasons))
        }
        return PlanExplanation(object: object, plan: plan, rows: rows)
    }
}
