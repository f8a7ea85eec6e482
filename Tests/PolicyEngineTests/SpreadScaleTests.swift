import PolicyEngine
import Testing

/// `placement: spread` on catalogs with hundreds of zones, against the reference model of the
/// contract: the engine scores zones without hashing the object's name once per zone, selects
/// only the best few candidates and groups zones when validation tries every first zone; these
/// tests pin that all of it gives exactly the contract's order, walk and findings.
@Suite struct SpreadScaleTests {
    /// `count` zones over a few providers and cities (skewed: provider 0 has about half).
    /// With `pinned`, every zone of provider 1 is in city 0, which makes some first zones fail
    /// a walk that needs two providers in two cities.
    static func rows(_ count: Int, providers: Int, cities: Int, seed: UInt64, pinned: Bool = false) -> [ZoneRow] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { i in
            let p = rng.next() % 2 == 0 ? 0 : Int(rng.next() % UInt64(providers))
            let c = pinned && p == 1 ? 0 : Int(rng.next() % UInt64(cities))
            return ZoneRow("Z\(i)-P\(p)-C\(c)", "Prov\(p)", "FI", "City\(c)")
        }
    }

    static func candidates(_ codes: [String], _ rows: [ZoneRow]) -> [Reference.Candidate] {
        let byCode = Dictionary(uniqueKeysWithValues: rows.map { ($0.code, $0) })
        return codes.map { Reference.Candidate(code: $0, provider: byCode[$0]!.provider, city: byCode[$0]!.city) }
    }

    /// Object names: ASCII and not, short and long, so that both ways of splitting the hash run.
    static let names: [(String, String)] = (0..<120).map { i in
        switch i % 4 {
        case 0: ("bucket-\(i)", "k\(i)")
        case 1: ("team-\(i % 7)-data", "reports/2025/\(i)/summary-\(i * 31).json")
        case 2: ("b\(i)", "personal/ä-\(i)-ö.txt")
        default: ("x", String(repeating: "é\(i)", count: 40))
        }
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 2), (2, 2, 1), (5, 3, 3)])
    func spreadMatchesTheReferenceOnALargeCatalog(copies: Int, minProviders: Int, minCities: Int) throws {
        let rows = Self.rows(700, providers: 9, cities: 12, seed: UInt64(copies * 100 + minProviders * 10 + minCities))
        let text = documents(anywhere, replication("spread", "match: {}\ncopies: \(copies)\nminProviders: \(minProviders)\nminCities: \(minCities)\nplacement: spread"))
        let compiled = compile(text, catalog: makeCatalog(rows)).compiled
        for (bucket, key) in Self.names {
            let plan = compiled.plan(for: object(bucket, key))
            let order = Reference.spreadOrder(rows.map(\.code), bucket: bucket, key: key)
            #expect(plan.candidateCodes == order, "\(bucket)/\(key)")
            let expected = Reference.walk(Self.candidates(order, rows), copies: copies, minProviders: minProviders, minCities: minCities)
            #expect(plan.zoneCodes == expected, "\(bucket)/\(key)")
            // The runtime walk with the best zones down must go past the few selected ones.
            let down = Set(order.prefix(25))
            let runtime = plan.chooseZones { !down.contains($0.code) }.map(\.code)
            #expect(runtime == Reference.walk(Self.candidates(order, rows), copies: copies, minProviders: minProviders,
                                              minCities: minCities, skip: { down.contains($0) }), "\(bucket)/\(key)")
        }
    }

    /// One big provider and a single zone of another: with minProviders 2 the walk skips most of
    /// the order before it finds the second provider.
    @Test func aWalkThatNeedsTheWholeOrderStillFollowsIt() throws {
        var rows = (0..<300).map { ZoneRow("BIG-\($0)", "Big", "FI", "City\($0 % 5)") }
        rows.append(ZoneRow("SMALL-1", "Small", "FI", "City0"))
        let text = documents(anywhere, replication("spread", "match: {}\ncopies: 2\nminProviders: 2\nplacement: spread"))
        let compiled = compile(text, catalog: makeCatalog(rows)).compiled
        for (bucket, key) in Self.names.prefix(30) {
            let plan = compiled.plan(for: object(bucket, key))
            let order = Reference.spreadOrder(rows.map(\.code), bucket: bucket, key: key)
            #expect(plan.zoneCodes == Reference.walk(Self.candidates(order, rows), copies: 2, minProviders: 2, minCities: 1))
            #expect(plan.zoneCodes.contains("SMALL-1"))
            #expect(plan.candidateCodes == order)
        }
    }

    /// Validation lists the first zones with which the spread walk fails; the engine groups zones
    /// to find them, the reference walks once per zone. Random catalogs, policies and `prefer`.
    @Test func validationFindsExactlyTheFailingFirstZones() throws {
        var outcomes = (unsatisfiable: 0, clean: 0, failing: 0)
        for seed in 0..<60 {
            var rng = SplitMix64(seed: UInt64(seed) &* 7919)
            // Odd seeds: two providers, provider 1 pinned to city 0, two of each needed.
            let pinned = seed % 2 == 1
            let rows = Self.rows(10 + Int(rng.next() % 60), providers: pinned ? 2 : 2 + Int(rng.next() % 3),
                                 cities: 2 + Int(rng.next() % 3), seed: UInt64(seed), pinned: pinned)
            let copies = 2 + Int(rng.next() % 2)
            let minProviders = pinned ? 2 : 1 + Int(rng.next() % UInt64(copies))
            let minCities = pinned ? 2 : 1 + Int(rng.next() % UInt64(copies))
            var prefer: [String] = []
            if rng.next() % 2 == 0 { prefer.append(rows[Int(rng.next() % UInt64(rows.count))].code) }
            if rng.next() % 3 == 0 { prefer.append("Prov\(rng.next() % 2)") }
            let preferText = prefer.isEmpty ? "" : "\nprefer: [\(prefer.joined(separator: ", "))]"
            let text = documents(anywhere, replication("spread", "match: {}\ncopies: \(copies)\nminProviders: \(minProviders)\nminCities: \(minCities)\nplacement: spread" + preferText))
            let result = compile(text, catalog: makeCatalog(rows))

            // The reference: preferred zones (a zone code, or a provider's zones in catalog order).
            var preferred: [String] = []
            for entry in prefer {
                let zones = rows.filter { $0.code == entry || $0.provider.lowercased() == entry.lowercased() }.map(\.code)
                for z in zones where !preferred.contains(z) { preferred.append(z) }
            }
            let rest = rows.map(\.code).filter { !preferred.contains($0) }
            func succeeds(_ order: [String]) -> Bool {
                Reference.walk(Self.candidates(order, rows), copies: copies, minProviders: minProviders, minCities: minCities).count == copies
            }
            let spreadFindings = result.diagnostics.with("unsatisfiable").filter { $0.message.hasPrefix("with placement: spread") }
            guard succeeds(preferred + rest) else {
                // The class itself is unsatisfiable: reported as such, not as a spread finding.
                #expect(spreadFindings.isEmpty, "seed \(seed)")
                outcomes.unsatisfiable += 1
                continue
            }
            let failing = rest.filter { f in !succeeds(preferred + [f] + rest.filter { $0 != f }) }
            if failing.isEmpty {
                #expect(spreadFindings.isEmpty, "seed \(seed): \(result.diagnostics.rendered)")
                outcomes.clean += 1
            } else {
                let message = try #require(spreadFindings.first?.message, "seed \(seed)")
                #expect(message.contains("starts with " + failing.joined(separator: " or ") + " cannot be placed"), "seed \(seed): \(message)")
                outcomes.failing += 1
            }
        }
        // The random sets cover every outcome.
        #expect(outcomes.clean > 0 && outcomes.failing >= 3, "\(outcomes)")
    }
}
