/// Where one object goes and how it is written: the answer of `CompiledPolicySet.plan(for:)`.
public struct PlacementPlan: Sendable {
    let context: PlanContext
    let cls: ClassPlan

    /// The chosen zones, in order; empty when refused.
    public let zones: [Zone]
    /// Every eligible zone in the order the gateway tries them (prefer, then ordered or spread).
    public var candidates: [Zone] { (spreadCandidates ?? cls.orderedCandidateIndices).map { context.zones[$0] } }
    let spreadCandidates: [Int]?
    /// Why the object is refused; empty when allowed.
    public let reasons: [String]

    init(compiled: CompiledPolicySet, cls: ClassPlan, zones: [Zone], spreadCandidates: [Int]?, refusal: [String]) {
        self.context = compiled.planContext
        self.cls = cls
        self.zones = zones
        self.spreadCandidates = spreadCandidates
        self.reasons = refusal
    }

    public var allowed: Bool { reasons.isEmpty }
    /// Eligible zones in catalog order.
    public var eligibleZones: [Zone] { cls.eligible.map { context.zones[$0] } }
    public var residencyPolicies: [String] { cls.residencyNames }
    public var replicationPolicy: ReplicationPolicy? { cls.replication }
    public var copies: Int { cls.replication?.copies.value ?? 0 }
    public var writeQuorum: Int { cls.replication?.effectiveWriteQuorum ?? 0 }
    public var minProviders: Int { cls.replication?.minProviders.value ?? 0 }
    public var minCities: Int { cls.replication?.minCities.value ?? 0 }
    public var versioning: VersioningMode? { cls.replication?.versioning.value }
    public var immutability: Immutability? { cls.replication?.immutability?.value }
    public var replicationDeadlineSeconds: Int64? { cls.replication?.replicationDeadlineSeconds }
    public var policySetHash: String { context.policySetHash }

    /// The runtime walk: the same candidate order and diversity rule, skipping zones for which
    /// `isAvailable` is false (a backend that is down). Never returns a zone outside the
    /// eligible set; may return fewer than `copies` zones.
    public func chooseZones(isAvailable: (Zone) -> Bool) -> [Zone] {
        guard allowed, let policy = cls.replication else { return [] }
        let indices = spreadCandidates ?? cls.orderedCandidateIndices
        let chosen = ZoneChooser(policy).choose(indices, providerID: context.providerID, cityID: context.cityID) {
            !isAvailable(context.zones[$0])
        }
        return chosen.map { context.zones[$0] }
    }
}

/// What a plan needs from its compiled set, behind one reference (a plan copies it on every call).
final class PlanContext: Sendable {
    let zones: [Zone]
    let providerID: [Int32]
    let cityID: [Int32]
    let policySetHash: String
    init(zones: [Zone], providerID: [Int32], cityID: [Int32], policySetHash: String) {
        self.zones = zones
        self.providerID = providerID
        self.cityID = cityID
        self.policySetHash = policySetHash
    }
}
