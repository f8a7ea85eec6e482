/// For `placement: spread`: whether some object of a class gets a candidate order whose walk
/// (step 4) cannot place every copy, and one such order.
///
/// The keys of a class are free, so every order of the non-preferred eligible zones ("rest")
/// after the preferred ones is taken as reachable. The check is exact, without trying orders:
///
/// - A zone the walk skips stays unacceptable for the rest of the walk (the slack only
///   shrinks), so an order fails exactly when the zones taken so far leave `r > 0` copies to
///   place and no other zone is acceptable. Which zones are taken matters, not in which order:
///   with `sP = r - needProviders` and `sC = r - needCities`, taking a zone lowers `sP` by one
///   unless it adds a provider that is still needed (the same for cities), so both only shrink
///   and every zone of a set that ends with `sP, sC >= 0` was acceptable when it was taken.
/// - When the catalog-order walk succeeds, the only way to get stuck is `sP == sC == 0` (every
///   remaining copy must add a provider and a city) with no zone left that adds both: then every
///   rest zone has its provider or its city among those taken, a vertex cover of the
///   provider–city graph of the rest zones with fewer than `needProviders` new providers and
///   fewer than `needCities` new cities. The search branches on an uncovered (provider, city)
///   pair (one of the two must be taken), so it only ever looks at small covers, and gives up
///   at once when a greedy matching of the uncovered pairs is larger than the budget (the usual
///   case for a broad eligible set).
/// - Zones with the same (provider, city) are interchangeable: the search runs over such groups,
///   and once the pairs are covered it finishes with a count (zones that add a provider, zones
///   that add a city, and zones that add nothing), without further branching.
///
/// Results are cached per (rest zones, preferred zones, copies, minProviders, minCities).
struct SpreadCheck {
    private let providerID: [Int32]
    private let cityID: [Int32]
    /// Scratch: local index of a provider (city) of the rest zones being checked, -1 = none.
    private var providerLocal: [Int32]
    private var cityLocal: [Int32]
    private var cache: [Key: [Int]?] = [:]

    private struct Key: Hashable {
        var rest: ZoneSet
        var preferred: [Int]
        var copies: Int
        var minProviders: Int
        var minCities: Int
    }

    private struct Group {
        var provider: Int
        var city: Int
        var zones: [Int]
    }

    init(providerID: [Int32], cityID: [Int32]) {
        self.providerID = providerID
        self.cityID = cityID
        providerLocal = [Int32](repeating: -1, count: Int(providerID.max() ?? -1) + 1)
        cityLocal = [Int32](repeating: -1, count: Int(cityID.max() ?? -1) + 1)
    }

    /// nil when the walk places every copy whatever the order of `rest`; otherwise the start of
    /// an order of `rest` that fails: after `preferred` and these zones, the walk is stuck, so
    /// any order of the remaining zones fails too.
    mutating func failingOrder(preferred: [Int], rest restSet: ZoneSet, _ chooser: ZoneChooser) -> [Int]? {
        let prefChosen = chooser.choose(preferred, providerID: providerID, cityID: cityID)
        if prefChosen.count == chooser.copies { return nil }  // the rest is never reached
        let rest = restSet.members
        // The catalog order: when it fails, no diversity can be reached (or there are too few
        // zones), and every order fails.
        if fails(preferred + rest, chooser) { return rest }
        let prefProviders = Set(prefChosen.map { providerID[$0] }), prefCities = Set(prefChosen.map { cityID[$0] })
        let needP0 = chooser.minProviders - prefProviders.count, needC0 = chooser.minCities - prefCities.count
        let r0 = chooser.copies - prefChosen.count
        let slackP0 = r0 - needP0, slackC0 = r0 - needC0
        guard needP0 > 0, needC0 > 0, slackP0 >= 0, slackC0 >= 0 else { return nil }

        // Local indices of the providers and cities of the rest zones.
        var providers: [Int32] = [], cities: [Int32] = []
        var local: [(provider: Int, city: Int)] = []
        local.reserveCapacity(rest.count)
        for z in rest {
            let gp = Int(providerID[z]), gc = Int(cityID[z])
            if providerLocal[gp] < 0 { providerLocal[gp] = Int32(providers.count); providers.append(Int32(gp)) }
            if cityLocal[gc] < 0 { cityLocal[gc] = Int32(cities.count); cities.append(Int32(gc)) }
            local.append((Int(providerLocal[gp]), Int(cityLocal[gc])))
        }
        defer {
            for p in providers { providerLocal[Int(p)] = -1 }
            for c in cities { cityLocal[Int(c)] = -1 }
        }
        var inP = providers.map { prefProviders.contains($0) }
        var inC = cities.map { prefCities.contains($0) }

        // Most classes end here: the uncovered pairs need more new providers and cities than a
        // stuck walk can have taken (a greedy matching of them is a lower bound of any cover).
        do {
            var usedP = inP, usedC = inC
            var matching = 0
            for (p, c) in local where !usedP[p] && !usedC[c] {
                usedP[p] = true
                usedC[c] = true
                matching += 1
            }
            if matching > (needP0 - 1) + (needC0 - 1) { return nil }
        }

        // The (provider, city) groups.
        var groupOf: [Int: Int] = [:]
        var groups: [Group] = []
        for (z, (p, c)) in zip(rest, local) {
            if let g = groupOf[p * rest.count + c] {
                groups[g].zones.append(z)
            } else {
                groupOf[p * rest.count + c] = groups.count
                groups.append(Group(provider: p, city: c, zones: [z]))
            }
        }

        let key = Key(rest: restSet, preferred: preferred, copies: chooser.copies,
                      minProviders: chooser.minProviders, minCities: chooser.minCities)
        if let known = cache[key] { return known }

        var providerGroups = [[Int]](repeating: [], count: providers.count)
        var cityGroups = [[Int]](repeating: [], count: cities.count)
        var providerZones = [Int](repeating: 0, count: providers.count)
        var cityZones = [Int](repeating: 0, count: cities.count)
        for (g, group) in groups.enumerated() {
            providerGroups[group.provider].append(g)
            cityGroups[group.city].append(g)
            providerZones[group.provider] += group.zones.count
            cityZones[group.city] += group.zones.count
        }

        var taken: [Int] = []          // groups taken, one zone each
        var newProviders: [Int] = [], newCities: [Int] = []
        var best: [[Int]: Int] = [:]   // covers seen, with the fewest groups taken to reach them
        let providerBudget = needP0 - 1, cityBudget = needC0 - 1
        var found: [Int]?

        /// Once every pair is covered: can zones that add one provider (or one city) and zones
        /// that add nothing bring both slacks to 0? If so, the order that does it.
        func finish(_ sP: Int, _ sC: Int) -> [Int]? {
            var inZ = 0
            for group in groups where inP[group.provider] && inC[group.city] { inZ += group.zones.count }
            let fillers = inZ - taken.count
            let providerCandidates = (0..<providers.count).filter { !inP[$0] }.sorted { providerZones[$0] > providerZones[$1] }
            let cityCandidates = (0..<cities.count).filter { !inC[$0] }.sorted { cityZones[$0] > cityZones[$1] }
            let maxP = min(providerBudget - newProviders.count, sC, providerCandidates.count)
            guard maxP >= 0 else { return nil }
            var extraP = 0
            for kp in 0...maxP {
                if kp > 0 { extraP += providerZones[providerCandidates[kp - 1]] - 1 }
                let kc = kp + sP - sC
                guard kc >= 0, kc <= min(cityBudget - newCities.count, cityCandidates.count) else { continue }
                let extraC = cityCandidates.prefix(kc).reduce(0) { $0 + cityZones[$1] - 1 }
                let f = sC - kp
                guard fillers + extraP + extraC >= f else { continue }
                // The order: the groups taken, a zone of each added provider and city, then
                // f zones that add nothing.
                var order = taken.map { groups[$0].zones[0] }
                var used = Set(order)
                var addP = inP, addC = inC
                for p in providerCandidates.prefix(kp) {
                    let z = groups[providerGroups[p][0]].zones[0]
                    order.append(z); used.insert(z); addP[p] = true
                }
                for c in cityCandidates.prefix(kc) {
                    let z = groups[cityGroups[c][0]].zones[0]
                    order.append(z); used.insert(z); addC[c] = true
                }
                var left = f
                for z in rest where left > 0 && !used.contains(z)
                    && addP[Int(providerLocal[Int(providerID[z])])] && addC[Int(cityLocal[Int(cityID[z])])] {
                    order.append(z); used.insert(z)
                    left -= 1
                }
                if left == 0 && fails(preferred + order + rest.filter { !used.contains($0) }, chooser) { return order }
            }
            return nil
        }

        func search(_ sP: Int, _ sC: Int) {
            if found != nil { return }
            var uncovered: [Int] = []
            for (g, group) in groups.enumerated() where !inP[group.provider] && !inC[group.city] { uncovered.append(g) }
            if uncovered.isEmpty {
                found = finish(sP, sC)
                return
            }
            let budget = (providerBudget - newProviders.count) + (cityBudget - newCities.count)
            if Self.greedyMatching(uncovered.map { groups[$0] }, inP, inC, providers.count, cities.count) > budget { return }
            // Branch on the uncovered pair with the fewest ways to cover it.
            let pair = groups[uncovered.min { a, b in
                providerGroups[groups[a].provider].count + cityGroups[groups[a].city].count
                    < providerGroups[groups[b].provider].count + cityGroups[groups[b].city].count
            }!]
            var moves = providerGroups[pair.provider]
            for g in cityGroups[pair.city] where groups[g].provider != pair.provider { moves.append(g) }
            for g in moves {
                let p = groups[g].provider, c = groups[g].city
                let addsP = !inP[p], addsC = !inC[c]
                if addsP && newProviders.count == providerBudget { continue }
                if addsC && newCities.count == cityBudget { continue }
                let nextP = sP - 1 + (addsP ? 1 : 0), nextC = sC - 1 + (addsC ? 1 : 0)
                if nextP < 0 || nextC < 0 { continue }
                if addsP { inP[p] = true; newProviders.append(p) }
                if addsC { inC[c] = true; newCities.append(c) }
                taken.append(g)
                let cover = newProviders.sorted() + [-1] + newCities.sorted()
                if (best[cover] ?? .max) > taken.count {
                    best[cover] = taken.count
                    search(nextP, nextC)
                }
                taken.removeLast()
                if addsP { inP[p] = false; newProviders.removeLast() }
                if addsC { inC[c] = false; newCities.removeLast() }
                if found != nil { return }
            }
        }

        search(slackP0, slackC0)
        cache[key] = found
        return found
    }

    /// Whether the walk over `order` places fewer than `copies` zones, or misses the diversity.
    private func fails(_ order: [Int], _ chooser: ZoneChooser) -> Bool {
        let chosen = chooser.choose(order, providerID: providerID, cityID: cityID)
        return chosen.count < chooser.copies
            || ZoneChooser.distinctCount(chosen, providerID) < chooser.minProviders
            || ZoneChooser.distinctCount(chosen, cityID) < chooser.minCities
    }

    /// The size of a maximal matching of the pairs whose provider and city are both uncovered:
    /// a lower bound of the providers plus cities that any cover of them needs.
    private static func greedyMatching(_ groups: [Group], _ inP: [Bool], _ inC: [Bool], _ providers: Int, _ cities: Int) -> Int {
        var usedP = inP, usedC = inC
        var size = 0
        for group in groups where !usedP[group.provider] && !usedC[group.city] {
            usedP[group.provider] = true
            usedC[group.city] = true
            size += 1
        }
        return size
    }
}
