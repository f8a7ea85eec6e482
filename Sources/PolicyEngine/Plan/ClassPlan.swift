/// Everything about a placement that depends only on which policies match an object (its
/// "object class"), computed once at compile time and shared by every plan of that class.
///
/// A set like the benchmark's has tens of thousands of classes with hundreds of eligible zones
/// each, so a class keeps its zones as bitmaps (`ZoneSet`) and only the few chosen zones as
/// `Zone` values; index arrays are built on demand (`eligible`, `rest`, candidate order).
final class ClassPlan: Sendable {
    /// The compiled set's zones and ids, here so that a plan needs no reference of its own.
    let context: PlanContext
    let residency: [Int]
    let residencyNames: [String]
    /// The winning replication policy, boxed once per policy (the struct is large).
    let replicationBox: ReplicationPolicyBox?
    var replication: ReplicationPolicy? { replicationBox?.policy }
    let isSpread: Bool
    /// Index of `replication` among the set's replication policies.
    let replicationIndex: Int?
    /// Every replication policy that matched, including the outranked ones.
    let matchingReplication: [Int]
    /// Eligible zones.
    let eligibleSet: ZoneSet
    let eligibleCount: Int
    /// Eligible zones named (directly or by provider) in `prefer`, in that order.
    let preferred: [Int]
    /// The other eligible zones (taken in catalog order by `placement: ordered`).
    let restSet: ZoneSet
    let restCount: Int
    /// Why the class is refused (empty = allowed); for spread placement checked per object too.
    let refusal: [String]
    /// Ordered placement: the chosen zones, the same for every object of the class.
    let orderedChosen: [Zone]

    init(context: PlanContext, residency: [Int], residencyNames: [String], replication: ReplicationPolicyBox?, replicationIndex: Int?,
         matchingReplication: [Int], eligible: ZoneSet, preferred: [Int], rest: ZoneSet, refusal: [String],
         chosen: [Zone]) {
        self.context = context
        self.residency = residency
        self.residencyNames = residencyNames
        self.replicationBox = replication
        self.isSpread = replication?.policy.placement == .spread
        self.replicationIndex = replicationIndex
        self.matchingReplication = matchingReplication
        self.eligibleSet = eligible
        self.eligibleCount = eligible.cardinality
        self.preferred = preferred
        self.restSet = rest
        self.restCount = rest.cardinality
        self.refusal = refusal
        self.orderedChosen = chosen
    }

    /// A class with the same residency set and winner as `other`: shares its data.
    init(sharing other: ClassPlan, matchingReplication: [Int]) {
        context = other.context
        residency = other.residency
        residencyNames = other.residencyNames
        replicationBox = other.replicationBox
        isSpread = other.isSpread
        replicationIndex = other.replicationIndex
        self.matchingReplication = matchingReplication
        eligibleSet = other.eligibleSet
        eligibleCount = other.eligibleCount
        preferred = other.preferred
        restSet = other.restSet
        restCount = other.restCount
        refusal = other.refusal
        orderedChosen = other.orderedChosen
    }

    /// Eligible zones, catalog order.
    var eligible: [Int] { eligibleSet.members }
    /// The non-preferred eligible zones, catalog order.
    var rest: [Int] { restSet.members }
    /// Candidate order of ordered placement: `preferred`, then `rest`, without building an array.
    var orderedCandidates: ChainedSequence<[Int], ZoneSet> { preferred.chainedWith(restSet) }
}

/// One replication policy behind a reference, shared by every class it wins.
final class ReplicationPolicyBox: Sendable {
    let policy: ReplicationPolicy
    init(_ policy: ReplicationPolicy) { self.policy = policy }
}

extension Sequence {
    /// This sequence followed by `other` (a tiny `chain`, as the standard library has none).
    func chainedWith<Other: Sequence>(_ other: Other) -> ChainedSequence<Self, Other> where Other.Element == Element {
        ChainedSequence(first: self, second: other)
    }
}

struct ChainedSequence<First: Sequence, Second: Sequence>: Sequence where First.Element == Second.Element {
    let first: First
    let second: Second

    struct Iterator: IteratorProtocol {
        var first: First.Iterator
        var second: Second.Iterator
        var inFirst = true

        @inline(__always)
        mutating func next() -> First.Element? {
            if inFirst {
                if let x = first.next() { return x }
                inFirst = false
            }
            return second.next()
        }
    }

    func makeIterator() -> Iterator { Iterator(first: first.makeIterator(), second: second.makeIterator()) }
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
        // The distinct providers and cities taken so far: at most `copies` each, on the stack.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * copies) { seen in
            var providers = 0, cities = 0
            let cityBase = copies
            func has(_ start: Int, _ n: Int, _ id: Int32) -> Bool {
                for i in start..<(start + n) where seen[i] == id { return true }
                return false
            }
            for z in candidates {
                if chosen.count == copies { break }
                if skip(z) { continue }
                let p = providerID[z], c = cityID[z]
                let newProvider = !has(0, providers, p)
                let newCity = !has(cityBase, cities, c)
                let remaining = copies - chosen.count - 1
                let providersAfter = providers + (newProvider ? 1 : 0)
                let citiesAfter = cities + (newCity ? 1 : 0)
                if minProviders - providersAfter > remaining || minCities - citiesAfter > remaining { continue }
                chosen.append(z)
                if newProvider { seen[providers] = p; providers += 1 }
                if newCity { seen[cityBase + cities] = c; cities += 1 }
            }
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
        if chosen.count == copies {
            let p = Self.distinctCount(chosen, providerID), c = Self.distinctCount(chosen, cityID)
            if p < minProviders { reasons.append("\(p) distinct provider\(p == 1 ? "" : "s") for minProviders \(minProviders)") }
            if c < minCities { reasons.append("\(c) distinct cit\(c == 1 ? "y" : "ies") for minCities \(minCities)") }
        }
        return reasons
    }

    /// How many distinct ids the chosen zones have: a quadratic scan without allocating for the
    /// few copies of a plan (this runs for every spread plan and every class), a set beyond.
    static func distinctCount(_ chosen: [Int], _ id: [Int32]) -> Int {
        guard chosen.count <= 32 else { return Set(chosen.map { id[$0] }).count }
        var distinct = 0
        for (i, z) in chosen.enumerated() {
            let x = id[z]
            var seen = false
            for earlier in chosen[..<i] where id[earlier] == x {
                seen = true
                break
            }
            if !seen { distinct += 1 }
        }
        return distinct
    }
}
