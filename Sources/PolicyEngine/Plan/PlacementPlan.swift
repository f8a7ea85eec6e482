/// Where one object goes and how it is written: the answer of `CompiledPolicySet.plan(for:)`.
public struct PlacementPlan: Sendable {
    let compiled: CompiledPolicySet
    let cls: ClassPlan

    /// The chosen zones, in order; empty when refused.
    public let zones: [Zone]
    /// Every eligible zone in the order the gateway tries them (prefer, then ordered or spread).
    public let candidates: [Zone]
    /// Why the object is refused; empty when allowed.
    public let reasons: [String]

    init(compiled: CompiledPolicySet, cls: ClassPlan, zones: [Zone], candidates: [Zone], refusal: [String]) {
        self.compiled = compiled
        self.cls = cls
        self.zones = zones
        self.candidates = candidates
        self.reasons = refusal
    }

    public var allowed: Bool { reasons.isEmpty }
    /// Eligible zones in catalog order.
    public var eligibleZones: [Zone] { cls.eligibleZones }
    public var residencyPolicies: [String] { cls.residencyNames }
    public var replicationPolicy: ReplicationPolicy? { cls.replication }
    public var copies: Int { cls.replication?.copies.value ?? 0 }
    public var writeQuorum: Int { cls.replication?.effectiveWriteQuorum ?? 0 }
    public var minProviders: Int { cls.replication?.minProviders.value ?? 0 }
    public var minCities: Int { cls.replication?.minCities.value ?? 0 }
    public var versioning: VersioningMode? { cls.replication?.versioning.value }
    public var immutability: Immutability? { cls.replication?.immutability?.value }
    public var replicationDeadlineSeconds: Int64? { cls.replication?.replicationDeadlineSeconds }
    public var policySetHash: String { compiled.policySetHash }

    /// The runtime walk: the same candidate order and diversity rule, skipping zones for which
    /// `isAvailable` is false (a backend that is down). Never returns a zone outside the
    /// eligible set; may return fewer than `copies` zones.
    public func chooseZones(isAvailable: (Zone) -> Bool) -> [Zone] {
        guard allowed, let policy = cls.replication else { return [] }
        let indices = candidates.map(\.index)
        let chosen = ZoneChooser(policy).choose(indices, providerID: compiled.providerID, cityID: compiled.cityID) {
            !isAvailable(compiled.catalog.zones[$0])
        }
        return chosen.map { compiled.catalog.zones[$0] }
    }
}
