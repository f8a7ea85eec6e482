/// Where one object goes and how it is written: the answer of `CompiledPolicySet.plan(for:)`.
///
/// An ordered plan is its class's plan and nothing else, so that `plan(for:)` returns it with a
/// single retain; what spread placement decides per object is kept inline beside it.
public struct PlacementPlan: Sendable {
    let cls: ClassPlan
    /// Spread placement: this object's zones, order and refusal (nil for ordered placement,
    /// whose zones and refusal are the class's).
    let perObject: PerObject?

    struct PerObject: Sendable {
        var zones: [Zone]
        var spread: SpreadOrder
        var reasons: [String]
    }

    var context: PlanContext { cls.context }

    /// The chosen zones, in order; empty when refused.
    public var zones: [Zone] { perObject?.zones ?? cls.orderedChosen }
    /// Every eligible zone in the order the gateway tries them (prefer, then ordered or spread).
    public var candidates: [Zone] {
        if let spread { return (cls.preferred + spread.fullOrder(cls, context)).map { context.zones[$0] } }
        return cls.orderedCandidates.map { context.zones[$0] }
    }
    /// The object's order for `placement: spread` (nil for ordered placement).
    var spread: SpreadOrder? { perObject?.spread }
    /// Why the object is refused; empty when allowed.
    public var reasons: [String] { perObject?.reasons ?? cls.refusal }

    /// An ordered plan, or a spread plan refused for its class as a whole.
    init(_ cls: ClassPlan) {
        self.cls = cls
        self.perObject = nil
    }

    init(_ cls: ClassPlan, zones: [Zone], spread: SpreadOrder, refusal: [String]) {
        self.cls = cls
        self.perObject = PerObject(zones: zones, spread: spread, reasons: refusal)
    }

    public var allowed: Bool { reasons.isEmpty }
    /// Eligible zones in catalog order.
    public var eligibleZones: [Zone] { cls.eligibleSet.map { context.zones[$0] } }
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
        let chooser = ZoneChooser(policy)
        let skip: (Int) -> Bool = { !isAvailable(context.zones[$0]) }
        let chosen = if let spread {
            spread.walk(chooser, cls, context, skip: skip)
        } else {
            chooser.choose(cls.orderedCandidates, providerID: context.providerID, cityID: context.cityID, skip: skip)
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
    /// Each zone's rendezvous state after `zone_code "\0"` (see `Rendezvous.zoneSeed`).
    let zoneSeeds: [UInt64]
    /// Each zone's position in zone-code order (UTF-8 bytes; equal codes by catalog order),
    /// which breaks ties between equal rendezvous scores.
    let codeRank: [Int32]

    init(zones: [Zone], providerID: [Int32], cityID: [Int32], policySetHash: String) {
        self.zones = zones
        self.providerID = providerID
        self.cityID = cityID
        self.policySetHash = policySetHash
        zoneSeeds = zones.map { Rendezvous.zoneSeed($0.code) }
        var rank = [Int32](repeating: 0, count: zones.count)
        let byCode = zones.indices.sorted { a, b in
            let x = zones[a].code.utf8, y = zones[b].code.utf8
            return x.elementsEqual(y) ? a < b : x.lexicographicallyPrecedes(y)
        }
        for (r, z) in byCode.enumerated() { rank[z] = Int32(r) }
        codeRank = rank
    }
}
