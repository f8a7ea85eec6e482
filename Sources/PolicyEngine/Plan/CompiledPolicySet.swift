/// A policy set compiled against a catalog: immutable, `Sendable`, and fast to ask where an
/// object goes. Build it with `PolicyCompiler`; call `plan(for:)` on every write.
public struct CompiledPolicySet: Sendable {
    public let catalog: Catalog
    /// SHA-256 over the policy files, the catalog and the enabled zones, in hex.
    public let policySetHash: String
    public let replicationPolicies: [ReplicationPolicy]
    public var residencyPolicies: [ResidencyPolicy] { residency.map(\.policy) }
    public let backendsFile: String?
    /// Where the backends file names each zone (a disabled backend), for explanations.
    let backendLocations: [String: SourceLocation]
    /// `CountryGroup`s of the set, by upper-case name, resolved to country codes.
    public let countryGroups: [String: Set<String>]

    let residency: [ResolvedResidency]
    /// Zones with an enabled backend (all zones when no backends file was given).
    let usable: ZoneSet
    let index: MatchIndex
    private(set) var classes: [PolicyBits: ClassPlan]
    let providerID: [Int32]
    let cityID: [Int32]
    let zoneSeeds: [UInt64]
    let planContext: PlanContext
    private(set) var analysis: Analysis

    struct Analysis: Sendable {
        var diagnostics: [Diagnostic] = []
        var classCount = 0
        var truncated = false
    }

    var policyCount: Int { residency.count + replication.count }
    var replication: [ReplicationPolicy] { replicationPolicies }

    init(catalog: Catalog, residency: [ResolvedResidency], replication: [ReplicationPolicy],
         countryGroups: [String: Set<String>], usable: ZoneSet, backendsFile: String?, backendLocations: [String: SourceLocation], policySetHash: String, classLimit: Int) {
        self.catalog = catalog
        self.residency = residency
        self.replicationPolicies = replication
        self.countryGroups = countryGroups
        self.usable = usable
        self.backendsFile = backendsFile
        self.backendLocations = backendLocations
        self.policySetHash = policySetHash
        var providers: [String: Int32] = [:]
        var cities: [String: Int32] = [:]
        providerID = catalog.zones.map { z in
            if let id = providers[z.providerKey] { return id }
            let id = Int32(providers.count)
            providers[z.providerKey] = id
            return id
        }
        cityID = catalog.zones.map { z in
            let key = z.countryCode + "/" + z.cityKey
            if let id = cities[key] { return id }
            let id = Int32(cities.count)
            cities[key] = id
            return id
        }
        zoneSeeds = catalog.zones.map { Rendezvous.zoneSeed($0.code) }
        planContext = PlanContext(zones: catalog.zones, providerID: providerID, cityID: cityID, policySetHash: policySetHash)
        let selectors = residency.map(\.policy.match) + replication.map(\.match)
        index = MatchIndex(selectors: selectors)
        classes = [:]
        analysis = Analysis()
        // Enumerate and check every object class, keeping its plan for the hot path.
        var enumerator = ClassEnumerator(selectors: selectors, limit: classLimit)
        let found = enumerator.enumerate()
        var table: [PolicyBits: ClassPlan] = [:]
        var checker = ClassChecker(set: self)
        var shared: [[Int]: ClassPlan] = [:]
        for objectClass in found {
            let bits = objectClass.bits
            let residencyIdx = (0..<residency.count).filter { bits.contains($0) }
            let replicationIdx = (0..<replication.count).filter { bits.contains(residency.count + $0) }
            var winner: Int?
            for i in replicationIdx where winner == nil || replication[i].priority.value > replication[winner!].priority.value {
                winner = i
            }
            let key = residencyIdx + [-1, winner ?? -1]
            let plan: ClassPlan
            if let other = shared[key] {
                plan = ClassPlan(sharing: other, matchingReplication: replicationIdx)
            } else {
                plan = buildClass(bits)
                shared[key] = plan
            }
            table[objectClass.bits] = plan
            checker.check(plan, bits: objectClass.bits, witness: objectClass.witness)
        }
        classes = table
        analysis.diagnostics = checker.finish(truncated: enumerator.truncated, classCount: found.count)
        analysis.classCount = found.count
        analysis.truncated = enumerator.truncated
    }

    /// The class plan for a set of matching policies.
    func buildClass(_ bits: PolicyBits) -> ClassPlan {
        let zones = catalog.zones
        let residencyIdx = (0..<residency.count).filter { bits.contains($0) }
        let replicationIdx = (0..<replication.count).filter { bits.contains(residency.count + $0) }
        // The highest priority wins; among equals (an ambiguity, reported by validation) the first.
        var winner: Int?
        for i in replicationIdx where winner == nil || replication[i].priority.value > replication[winner!].priority.value {
            winner = i
        }
        let policy = winner.map { replication[$0] }
        var eligibleSet = usable
        for i in residencyIdx { eligibleSet.formIntersection(residency[i].eligible) }
        let eligible = residencyIdx.isEmpty ? [] : eligibleSet.members
        var refusal: [String] = []
        if residencyIdx.isEmpty { refusal.append("no residency policy matches the object (fail closed)") }
        if policy == nil { refusal.append("no replication policy matches the object (fail closed)") }
        var preferred: [Int] = []
        var rest: [Int] = eligible
        var chosen: [Int] = []
        if let policy {
            var taken = Set<Int>()
            for entry in policy.prefer {
                if let zone = catalog.zone(entry.value) {
                    if eligibleSet.contains(zone.index), taken.insert(zone.index).inserted { preferred.append(zone.index) }
                } else {
                    let provider = entry.value.lowercased()
                    for z in eligible where zones[z].providerKey == provider && taken.insert(z).inserted { preferred.append(z) }
                }
            }
            rest = eligible.filter { !taken.contains($0) }
            if refusal.isEmpty {
                let chooser = ZoneChooser(policy)
                chosen = chooser.choose(preferred + rest, providerID: providerID, cityID: cityID)
                refusal += chooser.shortfall(chosen, eligibleCount: eligible.count, providerID: providerID, cityID: cityID)
                    .map { "replication policy '\(policy.metadata.name)' cannot be satisfied: \($0)" }
            }
        }
        if !refusal.isEmpty { chosen = [] }
        return ClassPlan(
            residency: residencyIdx, residencyNames: residencyIdx.map { residency[$0].name },
            replication: policy, matchingReplication: replicationIdx, eligible: eligible,
            preferred: preferred, rest: rest, refusal: refusal, chosen: chosen, zones: zones)
    }

    /// Which policies match the object.
    @inline(__always)
    func matchingPolicies(_ object: ObjectRef) -> PolicyBits {
        index.match(object)
    }

    func classPlan(for object: ObjectRef) -> ClassPlan {
        let bits = matchingPolicies(object)
        if let plan = classes[bits] { return plan }
        return buildClass(bits)
    }

    /// The object's placement: the hot path of every write.
    public func plan(for object: ObjectRef) -> PlacementPlan {
        let cls = classPlan(for: object)
        guard cls.isSpread, cls.refusal.isEmpty, let policy = cls.replication else {
            return PlacementPlan(compiled: self, cls: cls, zones: cls.orderedChosen, spreadCandidates: nil, refusal: cls.refusal)
        }
        let candidates = spreadOrder(cls, object)
        let chooser = ZoneChooser(policy)
        let chosen = chooser.choose(candidates, providerID: providerID, cityID: cityID)
        let shortfall = chooser.shortfall(chosen, eligibleCount: cls.eligible.count, providerID: providerID, cityID: cityID)
        let zones = catalog.zones
        if !shortfall.isEmpty {
            return PlacementPlan(compiled: self, cls: cls, zones: [], spreadCandidates: candidates,
                                 refusal: shortfall.map { "replication policy '\(policy.metadata.name)' cannot be satisfied: \($0)" })
        }
        return PlacementPlan(compiled: self, cls: cls, zones: chosen.map { zones[$0] }, spreadCandidates: candidates, refusal: [])
    }

    /// Candidate order for `placement: spread`: preferred zones, then the rest by descending
    /// rendezvous score, ties by zone code ascending.
    func spreadOrder(_ cls: ClassPlan, _ object: ObjectRef) -> [Int] {
        var scored: [(score: UInt64, zone: Int)] = []
        scored.reserveCapacity(cls.rest.count)
        withUTF8(object.bucket) { bucket in
            withUTF8(object.key) { key in
                for z in cls.rest {
                    scored.append((Rendezvous.score(seed: zoneSeeds[z], bucket: bucket, key: key), z))
                }
            }
        }
        let zones = catalog.zones
        scored.sort { a, b in
            a.score != b.score ? a.score > b.score : zones[a.zone].code.utf8.lexicographicallyPrecedes(zones[b.zone].code.utf8)
        }
        return cls.preferred + scored.map(\.zone)
    }
}

@inline(__always)
func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
    return Array(s.utf8).withUnsafeBufferPointer(body)
}
