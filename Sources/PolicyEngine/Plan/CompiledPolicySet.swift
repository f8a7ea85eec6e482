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
    private(set) var classes: ClassTable
    let providerID: [Int32]
    let cityID: [Int32]
    /// The zones of each provider, by `providerID`.
    let providerZones: [ZoneSet]
    /// Each replication policy's `prefer` entries, resolved against the catalog.
    let preferTargets: [[PreferTarget]]
    /// For each replication policy, the index of the first policy with its name (names are
    /// unique in a valid set; the checker keys its findings by this index).
    let firstIndexByName: [Int]
    let replicationBoxes: [ReplicationPolicyBox]
    let planContext: PlanContext
    private(set) var analysis: Analysis

    /// What classes built at compile time share: the eligible zones and names per residency
    /// set, and the chosen zones per choice (many classes choose the same few zones).
    struct BuildCache {
        var residency = BitsTable<(eligible: ZoneSet, names: [String])>(minimumCapacity: 0)
        var chosen: [[Int]: [Zone]] = [:]
    }

    struct Analysis: Sendable {
        var diagnostics: [Diagnostic] = []
        var classCount = 0
        var truncated = false
    }

    /// A `prefer` entry: a zone code of the catalog, else a provider (`providerID`, -1 = none).
    enum PreferTarget: Sendable {
        case zone(Int)
        case provider(Int)
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
        let zones = catalog.zones
        var providers: [String: Int32] = [:]
        var cities: [String: Int32] = [:]
        providerID = zones.map { z in
            if let id = providers[z.providerKey] { return id }
            let id = Int32(providers.count)
            providers[z.providerKey] = id
            return id
        }
        cityID = zones.map { z in
            let key = z.countryCode + "/" + z.cityKey
            if let id = cities[key] { return id }
            let id = Int32(cities.count)
            cities[key] = id
            return id
        }
        var providerZones = [ZoneSet](repeating: ZoneSet(count: zones.count), count: providers.count)
        for (z, id) in providerID.enumerated() { providerZones[Int(id)].insert(z) }
        self.providerZones = providerZones
        preferTargets = replication.map { policy in
            policy.prefer.map { entry in
                if let zone = catalog.zone(entry.value) { return .zone(zone.index) }
                return .provider(providers[entry.value.lowercased()].map(Int.init) ?? -1)
            }
        }
        var firstByName: [String: Int] = [:]
        firstIndexByName = replication.enumerated().map { i, policy in
            if let first = firstByName[policy.metadata.name] { return first }
            firstByName[policy.metadata.name] = i
            return i
        }
        replicationBoxes = replication.map(ReplicationPolicyBox.init)
        planContext = PlanContext(zones: zones, providerID: providerID, cityID: cityID, policySetHash: policySetHash)
        let selectors = residency.map(\.policy.match) + replication.map(\.match)
        index = MatchIndex(selectors: selectors)
        classes = ClassTable(minimumCapacity: 0)
        analysis = Analysis()
        // Enumerate every object class and keep its plan for the hot path.
        var enumerator = ClassEnumerator(selectors: selectors, limit: classLimit)
        let found = enumerator.enumerate()
        var table = ClassTable(minimumCapacity: found.count)
        var plans: [ClassPlan] = []
        plans.reserveCapacity(found.count)
        // Classes with the same residency policies and winning replication policy place alike:
        // keyed by the residency bits plus the winner's own bit.
        var shared = BitsTable<ClassPlan>(minimumCapacity: 0)
        var cache = BuildCache()
        var residencyMask = PolicyBits(count: selectors.count)
        for i in residency.indices { residencyMask.insert(i) }
        let residencyRange = 0..<residency.count
        let replicationRange = residency.count..<selectors.count
        for objectClass in found {
            let bits = objectClass.bits
            let replicationIdx = bits.indices(in: replicationRange)
            let winner = Self.winner(among: replicationIdx, replication)
            let residencyBits = bits.intersection(residencyMask)
            var key = residencyBits
            if let winner { key.insert(residency.count + winner) }
            let plan: ClassPlan
            if let other = shared[key] {
                plan = ClassPlan(sharing: other, matchingReplication: replicationIdx)
            } else {
                plan = buildClass(residency: bits.indices(in: residencyRange), residencyBits: residencyBits,
                                  matchingReplication: replicationIdx, winner: winner, cache: &cache)
                shared.insert(plan, for: key)
            }
            table.insert(plan, for: bits)
            plans.append(plan)
        }
        classes = table
        // Check the classes. Which witness a finding names, and the order of the findings, follow
        // the classes sorted by witness; a set without findings has the same (no) findings in
        // any order, so the classes are sorted only when the first pass, in the order found,
        // reports something. Duplicate replication policy names make a finding's key cover
        // classes with different plans, so such a set always takes the sorted pass.
        var checker = ClassChecker(set: self)
        for (plan, objectClass) in zip(plans, found) { checker.check(plan, witness: objectClass.witness) }
        if checker.hasFindings || firstIndexByName.enumerated().contains(where: { $0.offset != $0.element }) {
            checker = ClassChecker(set: self)
            for i in ClassEnumerator.witnessOrder(found) { checker.check(plans[i], witness: found[i].witness) }
        }
        analysis.diagnostics = checker.finish(truncated: enumerator.truncated, classCount: found.count)
        analysis.classCount = found.count
        analysis.truncated = enumerator.truncated
    }

    /// The highest priority wins; among equals (an ambiguity, reported by validation) the first.
    static func winner(among matching: [Int], _ replication: [ReplicationPolicy]) -> Int? {
        var winner: Int?
        for i in matching where winner == nil || replication[i].priority.value > replication[winner!].priority.value {
            winner = i
        }
        return winner
    }

    /// The class plan for a set of matching policies.
    func buildClass(_ bits: PolicyBits) -> ClassPlan {
        let replicationIdx = bits.indices(in: residency.count..<policyCount)
        let residencyIdx = bits.indices(in: 0..<residency.count)
        var residencyBits = PolicyBits(count: policyCount)
        for i in residencyIdx { residencyBits.insert(i) }
        var cache = BuildCache()
        return buildClass(residency: residencyIdx, residencyBits: residencyBits, matchingReplication: replicationIdx,
                          winner: Self.winner(among: replicationIdx, replication), cache: &cache)
    }

    func buildClass(residency residencyIdx: [Int], residencyBits: PolicyBits, matchingReplication replicationIdx: [Int],
                    winner: Int?, cache: inout BuildCache) -> ClassPlan {
        let zones = catalog.zones
        // The winner behind its box: binding the large struct itself would copy (and retain)
        // every field of it for each class.
        let box = winner.map { replicationBoxes[$0] }
        // `zoneFilter` is what a zone named in `prefer` is checked against: without residency
        // policies that is every usable zone (the class is refused either way).
        let zoneFilter: ZoneSet
        let residencyNames: [String]
        if let known = cache.residency[residencyBits] {
            (zoneFilter, residencyNames) = known
        } else {
            var filter = usable
            for i in residencyIdx { filter.formIntersection(residency[i].eligible) }
            (zoneFilter, residencyNames) = (filter, residencyIdx.map { residency[$0].name })
            cache.residency.insert((zoneFilter, residencyNames), for: residencyBits)
        }
        let eligible = residencyIdx.isEmpty ? ZoneSet(count: zones.count) : zoneFilter
        var refusal: [String] = []
        if residencyIdx.isEmpty { refusal.append("no residency policy matches the object (fail closed)") }
        if box == nil { refusal.append("no replication policy matches the object (fail closed)") }
        var preferred: [Int] = []
        var rest = eligible
        var chosen: [Int] = []
        if let box, let winner {
            var taken = ZoneSet(count: zones.count)
            for target in preferTargets[winner] {
                switch target {
                case .zone(let z):
                    if zoneFilter.contains(z), !taken.contains(z) {
                        taken.insert(z)
                        preferred.append(z)
                    }
                case .provider(let id):
                    guard id >= 0 else { continue }
                    for z in eligible.intersection(providerZones[id]) where !taken.contains(z) {
                        taken.insert(z)
                        preferred.append(z)
                    }
                }
            }
            if !preferred.isEmpty { rest.subtract(taken) }
            if refusal.isEmpty {
                let chooser = ZoneChooser(box.policy)
                chosen = chooser.choose(preferred.chainedWith(rest), providerID: providerID, cityID: cityID)
                refusal += chooser.shortfall(chosen, eligibleCount: eligible.cardinality, providerID: providerID, cityID: cityID)
                    .map { "replication policy '\(box.policy.metadata.name)' cannot be satisfied: \($0)" }
            }
        }
        if !refusal.isEmpty { chosen = [] }
        let chosenZones: [Zone]
        if let known = cache.chosen[chosen] {
            chosenZones = known
        } else {
            chosenZones = chosen.map { zones[$0] }
            cache.chosen[chosen] = chosenZones
        }
        return ClassPlan(
            context: planContext, residency: residencyIdx, residencyNames: residencyNames,
            replication: winner.map { replicationBoxes[$0] }, replicationIndex: winner, matchingReplication: replicationIdx,
            eligible: eligible, preferred: preferred, rest: rest, refusal: refusal, chosen: chosenZones)
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
        guard cls.isSpread, cls.refusal.isEmpty, let box = cls.replicationBox else {
            return PlacementPlan(cls)
        }
        let chooser = ZoneChooser(box.policy)
        let (chosen, spread) = SpreadOrder.choose(chooser, cls, object, planContext)
        let zones = catalog.zones
        let shortfall = chooser.shortfall(chosen, eligibleCount: cls.eligibleCount, providerID: providerID, cityID: cityID)
        if !shortfall.isEmpty {
            return PlacementPlan(cls, zones: [], spread: spread,
                                 refusal: shortfall.map { "replication policy '\(box.policy.metadata.name)' cannot be satisfied: \($0)" })
        }
        return PlacementPlan(cls, zones: chosen.map { zones[$0] }, spread: spread, refusal: [])
    }
}

@inline(__always)
func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
    return Array(s.utf8).withUnsafeBufferPointer(body)
}
