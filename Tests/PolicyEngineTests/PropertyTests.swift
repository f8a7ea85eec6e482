import Foundation
import PolicyEngine
import PropertyBased
import Testing

/// Property tests: random catalogs, random residency and replication policies (written as YAML
/// text and parsed by the engine), random objects. Every plan is checked against a reference
/// model of the contract written here, independently of the engine.
@Suite struct PropertyTests {
    // MARK: the reference model

    static let euMembers: Set<String> = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ]
    static let groups: [String: Set<String>] = [
        "EU": euMembers, "EEA": euMembers.union(["IS", "LI", "NO"]), "NORDICS": ["DK", "FI", "IS", "NO", "SE"],
    ]
    static let cityPool: [String: [String]] = [
        "FI": ["Helsinki", "Espoo"], "SE": ["Stockholm"], "DE": ["Berlin", "Munich"], "NO": ["Oslo"], "US": ["Ashburn"],
    ]
    static let countryPool = ["FI", "SE", "DE", "NO", "US"]
    static let providerPool = ["Alpha", "Beta", "Gamma", "Delta"]
    static let bucketPatterns = ["data", "hr-*", "logs-??", "*-archive", "h*"]
    static let bucketNames = ["data", "hr-x", "hr-", "logs-01", "logs-1", "old-archive", "web", "h"]
    static let prefixPool = ["a/", "a/b/", "tmp/"]
    static let keyPool = ["a/b/c", "a/x", "tmp/1", "z", "a/b/"]

    /// Glob with `*` and `?` over bytes, by dynamic programming (independent of the engine's matcher).
    static func globMatches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8), s = Array(name.utf8)
        var dp = [[Bool]](repeating: [Bool](repeating: false, count: s.count + 1), count: p.count + 1)
        dp[0][0] = true
        for i in stride(from: 1, through: p.count, by: 1) {
            for j in 0...s.count {
                if p[i - 1] == UInt8(ascii: "*") {
                    dp[i][j] = dp[i - 1][j] || (j > 0 && dp[i][j - 1])
                } else if j > 0 {
                    dp[i][j] = dp[i - 1][j - 1] && (p[i - 1] == UInt8(ascii: "?") || p[i - 1] == s[j - 1])
                }
            }
        }
        return dp[p.count][s.count]
    }

    struct RefSelector {
        var buckets: [String]?
        var prefixes: [String]?
        var tag: (key: String, value: String)?  // value "*" = present

        func matches(_ o: ObjectRef) -> Bool {
            if let buckets, !buckets.contains(where: { PropertyTests.globMatches($0, o.bucket) }) { return false }
            if let prefixes, !prefixes.contains(where: { o.key.utf8.starts(with: $0.utf8) }) { return false }
            if let tag {
                guard let v = o.tags.first(where: { $0.key == tag.key })?.value else { return false }
                if tag.value != "*" && tag.value != v { return false }
            }
            return true
        }

        var yaml: String {
            var fields: [String] = []
            if let buckets { fields.append("buckets: [" + buckets.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            if let prefixes { fields.append("keyPrefixes: [" + prefixes.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            if let tag { fields.append("tags: {\(tag.key): \"\(tag.value)\"}") }
            return "{" + fields.joined(separator: ", ") + "}"
        }
    }

    struct RefFilter {
        var countries: [String]?
        var cities: [String]?
        var providers: [String]?
        var zones: [String]?

        var expandedCountries: Set<String>? {
            countries.map { list in list.reduce(into: Set<String>()) { $0.formUnion(PropertyTests.groups[$1] ?? [$1]) } }
        }

        var yaml: String {
            func list(_ l: [String]) -> String { "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            var fields: [String] = []
            if let countries { fields.append("countries: " + list(countries)) }
            if let cities { fields.append("cities: " + list(cities)) }
            if let providers { fields.append("providers: " + list(providers)) }
            if let zones { fields.append("zones: " + list(zones)) }
            return "{" + fields.joined(separator: ", ") + "}"
        }
    }

    struct RefResidency {
        var name: String
        var selector: RefSelector
        var allow: RefFilter?
        var deny: RefFilter?
        var capabilities: [String]
        var euHQ: Bool?

        func admits(_ z: ZoneRow) -> Bool {
            if let allow {
                if let c = allow.expandedCountries, !c.contains(z.country) { return false }
                if let c = allow.cities, !c.contains(where: { $0.lowercased() == z.city.lowercased() }) { return false }
                if let p = allow.providers, !p.contains(where: { $0.lowercased() == z.provider.lowercased() }) { return false }
                if let zs = allow.zones, !zs.contains(z.code) { return false }
            }
            if let deny {
                if let c = deny.expandedCountries, c.contains(z.country) { return false }
                if let c = deny.cities, c.contains(where: { $0.lowercased() == z.city.lowercased() }) { return false }
                if let p = deny.providers, p.contains(where: { $0.lowercased() == z.provider.lowercased() }) { return false }
                if let zs = deny.zones, zs.contains(z.code) { return false }
            }
            if !capabilities.allSatisfy({ z.flags.contains($0) }) { return false }
            if let euHQ, z.euHQ != euHQ { return false }
            return true
        }

        var yaml: String {
            var spec = "match: \(selector.yaml)"
            if let allow { spec += "\nallow: \(allow.yaml)" }
            if let deny { spec += "\ndeny: \(deny.yaml)" }
            var require: [String] = []
            if !capabilities.isEmpty { require.append("capabilities: [" + capabilities.joined(separator: ", ") + "]") }
            if let euHQ { require.append("euHeadquartered: \(euHQ)") }
            if !require.isEmpty { spec += "\nrequire: {" + require.joined(separator: ", ") + "}" }
            return residency(name, spec)
        }
    }

    struct RefReplication {
        var name: String
        var selector: RefSelector
        var priority: Int
        var copies: Int
        var minProviders: Int
        var minCities: Int
        var spread: Bool
        var prefer: [String]

        var yaml: String {
            var spec = """
                match: \(selector.yaml)
                priority: \(priority)
                copies: \(copies)
                minProviders: \(minProviders)
                minCities: \(minCities)
                placement: \(spread ? "spread" : "ordered")
                """
            if !prefer.isEmpty { spec += "\nprefer: [" + prefer.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            return replication(name, spec)
        }
    }

    struct World {
        var rows: [ZoneRow]
        var residency: [RefResidency]
        var replication: [RefReplication]
        var objects: [ObjectRef]

        var yaml: String { documents(residency.map(\.yaml) + replication.map(\.yaml)) }
    }

    // MARK: random generation

    static func randomCase(_ s: String, _ rng: inout SplitMix64) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: s.lowercased()
        case 1: s.uppercased()
        default: s
        }
    }

    static func subset<T>(_ pool: [T], _ rng: inout SplitMix64, max: Int = 3, allowEmpty: Bool = false) -> [T] {
        let n = Int.random(in: (allowEmpty ? 0 : 1)...Swift.max(1, Swift.min(max, pool.count)), using: &rng)
        return Array(pool.shuffled(using: &rng).prefix(n))
    }

    static func randomSelector(_ rng: inout SplitMix64, catchAllRate: Double) -> RefSelector {
        if Double.random(in: 0..<1, using: &rng) < catchAllRate { return RefSelector() }
        var s = RefSelector()
        if Bool.random(using: &rng) { s.buckets = subset(bucketPatterns, &rng, max: 2) }
        if Bool.random(using: &rng) { s.prefixes = subset(prefixPool, &rng, max: 2) }
        if Int.random(in: 0..<3, using: &rng) == 0 {
            s.tag = ("class", ["personal", "public", "*"].randomElement(using: &rng)!)
        }
        return s
    }

    static func randomFilter(_ rows: [ZoneRow], _ rng: inout SplitMix64, forDeny: Bool) -> RefFilter {
        var f = RefFilter()
        let providers = Array(Set(rows.map(\.provider))).sorted()
        let cities = Array(Set(rows.map(\.city))).sorted()
        repeat {
            if Int.random(in: 0..<2, using: &rng) == 0 {
                f.countries = subset(countryPool + ["EU", "EEA", "NORDICS"], &rng, max: 3, allowEmpty: Int.random(in: 0..<12, using: &rng) == 0)
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { f.cities = subset(cities, &rng, max: 2).map { randomCase($0, &rng) } }
            if Int.random(in: 0..<3, using: &rng) == 0 { f.providers = subset(providers, &rng, max: 3).map { randomCase($0, &rng) } }
            if Int.random(in: 0..<(forDeny ? 3 : 6), using: &rng) == 0 { f.zones = subset(rows.map(\.code), &rng, max: forDeny ? 1 : 4) }
        } while f.countries == nil && f.cities == nil && f.providers == nil && f.zones == nil
        return f
    }

    static func randomWorld(seed: UInt64) -> World {
        var rng = SplitMix64(seed: seed)
        let zoneCount = Int.random(in: 3...12, using: &rng)
        var rows: [ZoneRow] = []
        for i in 0..<zoneCount {
            let country = countryPool.randomElement(using: &rng)!
            let city = cityPool[country]!.randomElement(using: &rng)!
            var flags = Set<String>()
            if Bool.random(using: &rng) { flags.insert("object_lock") }
            if Int.random(in: 0..<3, using: &rng) == 0 { flags.insert("iso27001") }
            rows.append(ZoneRow("\(country)-\(city.prefix(3).uppercased())-Z\(i)", providerPool.randomElement(using: &rng)!,
                                country, city, flags: flags, euHQ: Bool.random(using: &rng)))
        }
        var residencies: [RefResidency] = []
        for i in 0..<Int.random(in: 1...3, using: &rng) {
            var r = RefResidency(name: "res-\(i)", selector: randomSelector(&rng, catchAllRate: i == 0 ? 0.85 : 0.2),
                                 allow: nil, deny: nil, capabilities: [], euHQ: nil)
            if Int.random(in: 0..<3, using: &rng) != 0 { r.allow = randomFilter(rows, &rng, forDeny: false) }
            if Int.random(in: 0..<3, using: &rng) == 0 { r.deny = randomFilter(rows, &rng, forDeny: true) }
            if Int.random(in: 0..<4, using: &rng) == 0 { r.capabilities = subset(["object_lock", "iso27001"], &rng, max: 2) }
            if Int.random(in: 0..<5, using: &rng) == 0 { r.euHQ = Bool.random(using: &rng) }
            residencies.append(r)
        }
        var replications: [RefReplication] = []
        let priorities = [10, 20, 30].shuffled(using: &rng)
        let providerNames = Array(Set(rows.map(\.provider))).sorted()
        for i in 0..<Int.random(in: 1...3, using: &rng) {
            let copies = Int.random(in: 0..<6, using: &rng) == 0 ? 4 : Int.random(in: 1...3, using: &rng)
            var prefer: [String] = []
            if Bool.random(using: &rng) {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    prefer.append(Bool.random(using: &rng) ? rows.randomElement(using: &rng)!.code
                                                           : randomCase(providerNames.randomElement(using: &rng)!, &rng))
                }
            }
            replications.append(RefReplication(
                name: "rep-\(i)", selector: randomSelector(&rng, catchAllRate: i == 0 ? 0.85 : 0.2),
                priority: priorities[i], copies: copies,
                minProviders: Int.random(in: 1...min(copies, 3), using: &rng),
                minCities: Int.random(in: 0..<3, using: &rng) == 0 ? Int.random(in: 1...copies, using: &rng) : 1,
                spread: Bool.random(using: &rng), prefer: prefer))
        }
        var objects: [ObjectRef] = []
        for _ in 0..<8 {
            var tags: [String: String] = [:]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: tags["class"] = "personal"
            case 1: tags["class"] = "public"
            case 2: tags["class"] = "other"
            default: break
            }
            if Bool.random(using: &rng) { tags["unrelated"] = "x" }
            objects.append(object(bucketNames.randomElement(using: &rng)!, keyPool.randomElement(using: &rng)!, tags))
        }
        return World(rows: rows, residency: residencies, replication: replications, objects: objects)
    }

    // MARK: the expected plan, from the reference model

    struct Expected {
        var residencyNames: [String]
        var replication: RefReplication?
        var eligible: [String]
        var candidates: [String]
        var chosen: [String]
        var allowed: Bool
        /// The same walk over the ordered (non-spread) candidate order.
        var orderedAllowed: Bool
    }

    static func expected(_ world: World, _ o: ObjectRef) -> Expected {
        let matchingResidency = world.residency.filter { $0.selector.matches(o) }
        var replication: RefReplication?
        for r in world.replication where r.selector.matches(o) {
            if replication == nil || r.priority > replication!.priority { replication = r }
        }
        let eligibleRows = matchingResidency.isEmpty ? [] : world.rows.filter { z in matchingResidency.allSatisfy { $0.admits(z) } }
        let eligible = eligibleRows.map(\.code)
        var preferred: [String] = []
        for entry in replication?.prefer ?? [] {
            if world.rows.contains(where: { $0.code == entry }) {
                if eligible.contains(entry), !preferred.contains(entry) { preferred.append(entry) }
            } else {
                for z in eligibleRows where z.provider.lowercased() == entry.lowercased() && !preferred.contains(z.code) {
                    preferred.append(z.code)
                }
            }
        }
        let rest = eligible.filter { !preferred.contains($0) }
        let orderedCandidates = preferred + rest
        let candidates = replication?.spread == true
            ? preferred + Reference.spreadOrder(rest, bucket: o.bucket, key: o.key)
            : orderedCandidates
        func walk(_ order: [String]) -> [String] {
            guard let r = replication else { return [] }
            let byCode = Dictionary(uniqueKeysWithValues: world.rows.map { ($0.code, $0) })
            return Reference.walk(order.map { Reference.Candidate(code: $0, provider: byCode[$0]!.provider, city: byCode[$0]!.city) },
                                  copies: r.copies, minProviders: r.minProviders, minCities: r.minCities)
        }
        let chosen = walk(candidates)
        let possible = !matchingResidency.isEmpty && replication != nil
        return Expected(
            residencyNames: matchingResidency.map(\.name), replication: replication, eligible: eligible,
            candidates: candidates, chosen: chosen,
            allowed: possible && chosen.count == replication!.copies,
            orderedAllowed: possible && walk(orderedCandidates).count == replication!.copies)
    }

    // MARK: properties

    static let oneZone = makeCatalog([ZoneRow("FI-HEL-Z-1", "Prov", "FI", "Helsinki")])

    /// The generator is not vacuous: over fixed seeds it yields allowed and refused plans,
    /// spread placements, diversity constraints that bite, and unsatisfiable classes.
    @Test func theGeneratorCoversTheInterestingCases() throws {
        var allowed = 0, refused = 0, unmatched = 0, spread = 0, diverse = 0, unsatisfiable = 0, preferred = 0
        for seed in UInt64(0)..<200 {
            let world = Self.randomWorld(seed: seed)
            let result = compile(world.yaml, catalog: makeCatalog(world.rows))
            if !result.diagnostics.with("unsatisfiable").isEmpty { unsatisfiable += 1 }
            for o in world.objects {
                let plan = result.compiled.plan(for: o)
                guard plan.allowed else {
                    refused += 1
                    if plan.reasons.contains(where: { $0.contains("no residency") || $0.contains("no replication") }) { unmatched += 1 }
                    continue
                }
                allowed += 1
                if plan.replicationPolicy?.placement == .spread && plan.copies < plan.candidates.count { spread += 1 }
                if plan.minProviders > 1 || plan.minCities > 1 { diverse += 1 }
                if plan.replicationPolicy?.prefer.isEmpty == false { preferred += 1 }
            }
        }
        print("generator coverage: allowed \(allowed), refused \(refused) (\(unmatched) unmatched), spread \(spread), diverse \(diverse), preferred \(preferred), unsatisfiable sets \(unsatisfiable)")
        #expect(allowed > 300 && refused > 200)
        #expect(spread > 100 && diverse > 100 && preferred > 100)
        #expect(unsatisfiable > 20)
    }

    @Test func plansMatchTheReferenceModelOfTheContract() async throws {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in try Self.checkPlans(seed: seed) }
    }

    static func checkPlans(seed: UInt64) throws {
        do {
            let world = Self.randomWorld(seed: seed)
            let catalog = makeCatalog(world.rows)
            let result = compile(world.yaml, catalog: catalog)
            let context = "seed \(seed)\n\(catalogCSV(world.rows))\n\(world.yaml)"
            // Generated references are all valid: the only possible errors are unsatisfiable classes.
            #expect(result.diagnostics.errors.allSatisfy { $0.code == "unsatisfiable" },
                    "\(result.diagnostics.errors.rendered)\n\(context)")
            let reportsUnsatisfiable = !result.diagnostics.with("unsatisfiable").isEmpty
            for o in world.objects {
                let plan = result.compiled.plan(for: o)
                let exp = Self.expected(world, o)
                let where_ = "\(o)\n\(context)"
                #expect(plan.residencyPolicies == exp.residencyNames, "\(where_)")
                #expect(plan.replicationPolicy?.metadata.name == exp.replication?.name, "\(where_)")
                #expect(plan.eligibleCodes == exp.eligible, "\(where_)")

                // Soundness, checked on the plan alone: every chosen zone passes every matching
                // residency policy; copies and diversity hold.
                if plan.allowed {
                    let rows = plan.zones.compactMap { z in world.rows.first { $0.code == z.code } }
                    let matching = world.residency.filter { $0.selector.matches(o) }
                    #expect(!matching.isEmpty, "\(where_)")
                    #expect(rows.allSatisfy { z in matching.allSatisfy { $0.admits(z) } }, "\(where_)")
                    let rep = try #require(exp.replication, "\(where_)")
                    #expect(plan.zones.count == rep.copies, "\(where_)")
                    #expect(Set(plan.zoneCodes).count == plan.zones.count, "\(where_)")
                    #expect(Set(rows.map { $0.provider.lowercased() }).count >= rep.minProviders, "\(where_)")
                    #expect(Set(rows.map { $0.city.lowercased() }).count >= rep.minCities, "\(where_)")
                    #expect(plan.copies == rep.copies && plan.minProviders == rep.minProviders && plan.minCities == rep.minCities)
                } else {
                    #expect(plan.zones.isEmpty, "\(where_)")
                    #expect(!plan.reasons.isEmpty, "\(where_)")
                }

                // Exactness: the plan is the contract's walk over the contract's candidate order.
                let allowed = plan.allowed
                if allowed || !exp.allowed {
                    #expect(allowed == exp.allowed, "\(where_)")
                }
                if exp.allowed && exp.orderedAllowed {
                    #expect(allowed, "refused although the contract's walk places it: \(plan.reasons)\n\(where_)")
                }
                if allowed {
                    #expect(plan.candidateCodes == exp.candidates, "\(where_)")
                    #expect(plan.zoneCodes == exp.chosen, "\(where_)")
                }

                // Validation completeness: an object with matching policies that cannot be placed
                // (ordered walk) belongs to a class that validation reports as unsatisfiable.
                if !exp.residencyNames.isEmpty, exp.replication != nil, !exp.orderedAllowed {
                    #expect(reportsUnsatisfiable, "validation missed an unsatisfiable class: \(where_)")
                }
            }
        }
    }

    @Test func chooseZonesWithRandomDownZonesReturnsOnlyEligibleUpZones() async throws {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in try Self.checkChooseZones(seed: seed) }
    }

    static func checkChooseZones(seed: UInt64) throws {
        do {
            let world = Self.randomWorld(seed: seed)
            let result = compile(world.yaml, catalog: makeCatalog(world.rows))
            var rng = SplitMix64(seed: seed ^ 0x5eed)
            for o in world.objects {
                let plan = result.compiled.plan(for: o)
                let exp = Self.expected(world, o)
                let down = Set(world.rows.map(\.code).filter { _ in Int.random(in: 0..<3, using: &rng) == 0 })
                let chosen = plan.chooseZones { !down.contains($0.code) }.map(\.code)
                let where_ = "seed \(seed) \(o) down \(down.sorted())\n\(world.yaml)"
                guard plan.allowed else {
                    #expect(chosen.isEmpty, "\(where_)")
                    continue
                }
                let rep = try #require(exp.replication)
                #expect(chosen.allSatisfy { exp.eligible.contains($0) }, "\(where_)")
                #expect(chosen.allSatisfy { !down.contains($0) }, "\(where_)")
                #expect(Set(chosen).count == chosen.count, "\(where_)")
                #expect(chosen.count <= rep.copies, "\(where_)")
                // The same walk, over the same candidate order, skipping the down zones.
                let byCode = Dictionary(uniqueKeysWithValues: world.rows.map { ($0.code, $0) })
                let walk = Reference.walk(plan.candidateCodes.map { Reference.Candidate(code: $0, provider: byCode[$0]!.provider, city: byCode[$0]!.city) },
                                          copies: rep.copies, minProviders: rep.minProviders, minCities: rep.minCities,
                                          skip: { down.contains($0) })
                #expect(chosen == walk, "\(where_)")
                if down.isEmpty { #expect(chosen == plan.zoneCodes, "\(where_)") }
            }
        }
    }

    @Test func theReferenceGlobAgreesWithTheEnginesSelectors() async throws {
        // Cross-check of the matchers on random patterns and names over a small alphabet.
        await propertyCheck(count: 500, input: Gen.uint64()) { seed in Self.checkGlob(seed: seed) }
    }

    static func checkGlob(seed: UInt64) {
        do {
            var rng = SplitMix64(seed: seed)
            let alphabet = Array("ab-*?")
            let pattern = String((0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            let name = String((0..<Int.random(in: 0...7, using: &rng)).map { _ in Array("ab-").randomElement(using: &rng)! })
            let set = parsePolicies(residency("g", "match: {buckets: [\"\(pattern)\"]}"))
            guard let selector = set.residencyPolicies.first?.match else {
                Issue.record("pattern \(pattern) did not parse: \(set.diagnostics.rendered)")
                return
            }
            #expect(selector.matches(object(name, "k")) == Self.globMatches(pattern, name), "\(pattern) vs \(name)")
            #expect(Glob(pattern).matches(name) == Self.globMatches(pattern, name), "\(pattern) vs \(name)")
            // And through the compiled match index that plans use.
            let compiled = compile(documents(residency("g", "match: {buckets: [\"\(pattern)\"]}"), oneCopyEverywhere),
                                   catalog: Self.oneZone).compiled
            #expect(compiled.plan(for: object(name, "k")).residencyPolicies == (Self.globMatches(pattern, name) ? ["g"] : []),
                    "\(pattern) vs \(name)")
        }
    }
}
