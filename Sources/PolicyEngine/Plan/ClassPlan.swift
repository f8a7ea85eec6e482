/// Everything about a placement that depends only on which policies match an object (its
/// "object class"), computed once at compile time and shared by every plan of that class.
final class ClassPlan: Sendable {
    let residency: [Int]
    let residencyNames: [String]
    let replication: ReplicationPolicy?
    /// Every replication policy that matched, including the outranked ones.
    let matchingReplication: [Int]
    /// Eligible zones, catalog order.
    let eligible: [Int]
    /// Eligible zones named (directly or by provider) in `prefer`, in that order.
    let preferred: [Int]
    /// The other eligible zones, catalog order.
    let rest: [Int]
    /// Why the class is refused (empty = allowed); for spread placement checked per object too.
    let refusal: [String]
    /// Ordered placement: chosen and candidate zones, the same for every object of the class.
    let orderedChosen: [Zone]
    /// Candidate order of ordered placement, as catalog indices (the zones are built on demand).
    let orderedCandidateIndices: [Int]

    init(residency: [Int], residencyNames: [String], replication: ReplicationPolicy?, matchingReplication: [Int],
         eligible: [Int], preferred: [Int], rest: [Int], refusal: [String], chosen: [Int], zones: [Zone]) {
        self.residency = residency
        self.residencyNames = residencyNames
        self.replication = replication
        self.matchingReplication = matchingReplication
        self.eligible = eligible
        self.preferred = preferred
        self.rest = rest
        self.refusal = refusal
        self.orderedChosen = chosen.map { zones[$0] }
        self.orderedCandidateIndices = preferred + rest
    }

    /// A class with the same residency set and winner as `other`: shares its arrays.
    init(sharing other: ClassPlan, matchingReplication: [Int]) {
        residency = other.residency
        residencyNames = other.residencyNames
        replication = other.replication
        self.matchingReplication = matchingReplication
        eligible = other.eligible
        preferred = other.preferred
        rest = other.rest
        refusal = other.refusal
        orderedChosen = other.orderedChosen
        orderedCandidateIndices = other.orderedCandidateIndices
    }

    var isSpread: Bool { replication?.placement == .spread }
}

/// The walk of step 4 of the placement algorithm: take candidates in order unless taking one
/// would leave too few slots to still reach `minProviders` and `minCities`; stop at `copies`.
struct ZoneChooser {
    let copies: Int
    let minProviders: Int
    let minCities: Int

    init(_ policy: ReplicationPolicy) {
        copies = policy.copies.value
        minProviders = policy.minProviders.value
        minCities = policy.minCities.value
    }

    func choose(_ candidates: some Sequence<Int>, providerID: [Int32], cityID: [Int32],
                skip: (Int) -> Bool = { _ in false }) -> [Int] {
        var chosen: [Int] = []
        chosen.reserveCapacity(copies)
        var providers: [Int32] = []
        var cities: [Int32] = []
        for z in candidates {
            if chosen.count == copies { break }
            if skip(z) { continue }
            let newProvider = !providers.contains(providerID[z])
            let newCity = !cities.contains(cityID[z])
            let remaining = copies - chosen.count - 1
            let providersAfter = providers.count + (newProvider ? 1 : 0)
            let citiesAfter = cities.count + (newCity ? 1 : 0)
            if minProviders - providersAfter > remaining || minCities - citiesAfter > remaining { continue }
            chosen.append(z)
            if newProvider { providers.append(providerID[z]) }
            if newCity { cities.append(cityID[z]) }
        }
        return chosen
    }

    /// Reasons the chosen zones fall short, empty when they satisfy the policy.
    func shortfall(_ chosen: [Int], eligibleCount: Int, providerID: [Int32], cityID: [Int32]) -> [String] {
        var reasons: [String] = []
        if eligibleCount < copies {
            reasons.append("\(eligibleCount) eligible zone\(eligibleCount == 1 ? "" : "s") for \(copies) copies")
        } else if chosen.count < copies {
            reasons.append("only \(chosen.count) of \(copies) copies can be placed while keeping minProviders \(minProviders) and minCities \(minCities)")
        }
        let p = Set(chosen.map { providerID[$0] }).count
        let c = Set(chosen.map { cityID[$0] }).count
        if chosen.count == copies {
            if p < minProviders { reasons.append("\(p) distinct provider\(p == 1 ? "" : "s") for minProviders \(minProviders)") }
            if c < minCities { reasons.append("\(c) distinct cit\(c == 1 ? "y" : "ies") for minCities \(minCities)") }
        }
        return reasons
    }
}
