import Foundation
import PolicyEngine
import Testing

/// `placement: spread` on catalogs with hundreds of zones, against the reference model of the
/// contract: the engine scores zones without hashing the object's name once per zone and selects
/// only the best few candidates, and validation decides without trying orders whether some order
/// of a class's zones makes the walk fail; these tests pin that all of it gives exactly the
/// contract's order, walk and findings.
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

    /// A catch-all residency policy and a spread replication policy with these numbers.
    static func spreadSet(copies: Int, minProviders: Int, minCities: Int, prefer: [String]) -> String {
        let preferText = prefer.isEmpty ? "" : "\nprefer: [\(prefer.joined(separator: ", "))]"
        return documents(anywhere, replication("spread", "match: {}\ncopies: \(copies)\nminProviders: \(minProviders)\nminCities: \(minCities)\nplacement: spread" + preferText))
    }

    /// The reference's preferred zones: for each `prefer` entry, a zone code or a provider's
    /// zones in catalog order.
    static func preferredZones(_ prefer: [String], _ rows: [ZoneRow]) -> [String] {
        var preferred: [String] = []
        for entry in prefer {
            let zones = rows.filter { $0.code == entry || $0.provider.lowercased() == entry.lowercased() }.map(\.code)
            for z in zones where !preferred.contains(z) { preferred.append(z) }
        }
        return preferred
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

    /// The spread finding of a compiled set, checked against the reference walk: the order it
    /// names really fails (whatever the order of the zones after it), and so does the object it
    /// names, if any. Returns nil when there is no spread finding.
    static func checkedSpreadFinding(_ result: PolicyCompiler.Result, rows: [ZoneRow], copies: Int, minProviders: Int,
                                     minCities: Int, rest: [String], context: String,
                                     sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Diagnostic? {
        let findings = result.diagnostics.with("unsatisfiable").filter { $0.message.hasPrefix("with placement: spread") }
        #expect(findings.count <= 1, "\(context): \(result.diagnostics.rendered)", sourceLocation: sourceLocation)
        guard let finding = findings.first else { return nil }
        let hint = finding.hints.first { $0.hasPrefix("candidate order ") } ?? ""
        #expect(!hint.isEmpty, "\(context): \(finding.hints)", sourceLocation: sourceLocation)
        let listed = hint.dropFirst("candidate order ".count).prefix { $0 != ":" }
        let shown = listed.components(separatedBy: ", ").filter { $0 != "…" }
        let remaining = rest.filter { !shown.contains($0) }
        for tail in [remaining, remaining.reversed()] {
            let chosen = Reference.walk(candidates(shown + tail, rows), copies: copies, minProviders: minProviders, minCities: minCities)
            #expect(chosen.count < copies, "\(context): the order \(shown + tail) does not fail", sourceLocation: sourceLocation)
        }
        if let named = finding.message.range(of: "objects such as s3://"), !finding.message.contains("whose candidate order starts with") {
            let path = finding.message[named.upperBound...].prefix { $0 != " " }
            let slash = path.firstIndex(of: "/")!
            let plan = result.compiled.plan(for: object(String(path[..<slash]), String(path[path.index(after: slash)...])))
            #expect(!plan.allowed, "\(context): \(path) is allowed", sourceLocation: sourceLocation)
        }
        return finding
    }

    /// On catalogs of up to 70 zones: every spread finding names an order that fails, and every
    /// class that has a failing order of the form "one zone, then the rest in catalog order" is
    /// reported (a family of orders the reference can try one by one).
    @Test func validationFindsFailingSpreadOrdersOnLargerCatalogs() throws {
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
            let result = compile(Self.spreadSet(copies: copies, minProviders: minProviders, minCities: minCities, prefer: prefer),
                                 catalog: makeCatalog(rows))

            let preferred = Self.preferredZones(prefer, rows)
            let rest = rows.map(\.code).filter { !preferred.contains($0) }
            func succeeds(_ order: [String]) -> Bool {
                Reference.walk(Self.candidates(order, rows), copies: copies, minProviders: minProviders, minCities: minCities).count == copies
            }
            let finding = Self.checkedSpreadFinding(result, rows: rows, copies: copies, minProviders: minProviders,
                                                    minCities: minCities, rest: preferred + rest, context: "seed \(seed)")
            guard succeeds(preferred + rest) else {
                // The class itself is unsatisfiable: reported as such, not as a spread finding.
                #expect(finding == nil, "seed \(seed)")
                outcomes.unsatisfiable += 1
                continue
            }
            let failingFirst = rest.contains { f in !succeeds(preferred + [f] + rest.filter { $0 != f }) }
            if failingFirst { #expect(finding != nil, "seed \(seed): \(result.diagnostics.rendered)") }
            if finding == nil { outcomes.clean += 1 } else { outcomes.failing += 1 }
        }
        // The random sets cover every outcome.
        #expect(outcomes.clean > 0 && outcomes.failing >= 3, "\(outcomes)")
    }

    /// Heap's algorithm: calls `body` with every permutation of `items` until it returns true.
    static func anyPermutation(_ items: [String], _ body: ([String]) -> Bool) -> Bool {
        var a = items
        var c = [Int](repeating: 0, count: a.count)
        if body(a) { return true }
        var i = 0
        while i < a.count {
            if c[i] < i {
                a.swapAt(i % 2 == 0 ? 0 : c[i], i)
                if body(a) { return true }
                c[i] += 1
                i = 0
            } else {
                c[i] = 0
                i += 1
            }
        }
        return false
    }

    /// Small random zone sets: validation reports a spread class exactly when some order of
    /// its non-preferred zones makes the reference walk fail (all permutations tried), and the
    /// order it names does fail.
    @Test func validationAgreesWithEveryPermutationOnSmallZoneSets() throws {
        var outcomes = (unsatisfiable: 0, clean: 0, failing: 0)
        for seed in 0..<1500 {
            var rng = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 17)
            let count = 3 + Int(rng.next() % 5)
            let providers = 2 + Int(rng.next() % 3), cities = 2 + Int(rng.next() % 3)
            let rows = (0..<count).map { i in
                let p = Int(rng.next() % UInt64(providers)), c = Int(rng.next() % UInt64(cities))
                return ZoneRow("Z\(i)-P\(p)-C\(c)", "Prov\(p)", "FI", "City\(c)")
            }
            let copies = 1 + Int(rng.next() % UInt64(min(4, count)))
            // Diversity of two or more in both, most of the time: where orders start to matter.
            let minProviders = copies == 1 ? 1 : (rng.next() % 4 == 0 ? 1 : 2 + Int(rng.next() % UInt64(copies - 1)))
            let minCities = copies == 1 ? 1 : (rng.next() % 4 == 0 ? 1 : 2 + Int(rng.next() % UInt64(copies - 1)))
            var prefer: [String] = []
            if rng.next() % 3 == 0 { prefer.append(rows[Int(rng.next() % UInt64(count))].code) }
            if rng.next() % 5 == 0 { prefer.append(rows[Int(rng.next() % UInt64(count))].provider) }
            let result = compile(Self.spreadSet(copies: copies, minProviders: minProviders, minCities: minCities, prefer: prefer),
                                 catalog: makeCatalog(rows))
            let preferred = Self.preferredZones(prefer, rows)
            let rest = rows.map(\.code).filter { !preferred.contains($0) }
            func fails(_ order: [String]) -> Bool {
                Reference.walk(Self.candidates(order, rows), copies: copies, minProviders: minProviders, minCities: minCities).count < copies
            }
            let context = "seed \(seed): \(rows.map(\.code)), copies \(copies), minProviders \(minProviders), minCities \(minCities), prefer \(prefer)"
            let finding = Self.checkedSpreadFinding(result, rows: rows, copies: copies, minProviders: minProviders,
                                                    minCities: minCities, rest: preferred + rest, context: context)
            if fails(preferred + rest) {
                #expect(finding == nil, "\(context)")
                #expect(!result.diagnostics.with("unsatisfiable").isEmpty, "\(context)")
                outcomes.unsatisfiable += 1
                continue
            }
            let someOrderFails = Self.anyPermutation(rest) { fails(preferred + $0) }
            #expect((finding != nil) == someOrderFails, "\(context): \(result.diagnostics.rendered)")
            if someOrderFails { outcomes.failing += 1 } else { outcomes.clean += 1 }
        }
        #expect(outcomes.clean > 200 && outcomes.failing > 25 && outcomes.unsatisfiable > 50, "\(outcomes)")
        print("permutation check: \(outcomes)")
    }

    /// The reproducer: four zones of the shipped catalog, three copies at two providers in two
    /// cities. The catalog order works, but an object whose order starts with the two Hetzner
    /// Helsinki zones is refused, and validation says so, naming such an object.
    @Test func spreadFindingOnTheShippedCatalog() throws {
        let text = documents(
            residency("four-zones", "match: {}\nallow:\n  zones: [FI-HEL-HZ-1, FI-HEL-HZ-2, FI-HEL-UC-1, DE-FSN-HZ-1]"),
            replication("spread-three", "match: {}\ncopies: 3\nminProviders: 2\nminCities: 2\nplacement: spread"))
        let result = compile(text, catalog: Project.catalog)
        let refused = result.compiled.plan(for: object("data", "i"))
        #expect(!refused.allowed)
        #expect(refused.reasons.contains { $0.contains("only 2 of 3 copies can be placed") }, "\(refused.reasons)")
        let d = try #require(result.diagnostics.with("unsatisfiable").first, "\(result.diagnostics.rendered)")
        #expect(result.diagnostics.errors.count == 1, "\(result.diagnostics.rendered)")
        #expect(d.message.hasPrefix("with placement: spread, objects such as s3://"), "\(d.message)")
        #expect(d.message.contains("'four-zones' with replication policy 'spread-three' (copies 3, minProviders 2, minCities 2) leave 4 eligible zones"), "\(d.message)")
        // The reason per zone of the failing walk, then why the other zones are not eligible.
        #expect(d.hints.contains { $0.hasPrefix("FI-HEL-UC-1 (UpCloud, Helsinki): skipped: taking it would leave 0 copies for 1 more city") }, "\(d.hints)")
        #expect(d.hints.contains { $0.hasPrefix("DE-FSN-HZ-1 (Hetzner, Falkenstein): skipped: taking it would leave 0 copies for 1 more provider") }, "\(d.hints)")
        #expect(d.hints.contains { $0.hasPrefix("FI-HEL-HZ-1 (Hetzner, Helsinki): taken as copy") }, "\(d.hints)")
        #expect(d.hints.contains { $0.hasPrefix("FI-HEL-ST-1: residency policy 'four-zones': allow.zones") }, "\(d.hints)")
        let rows = Project.catalog.zones.map { ZoneRow($0.code, $0.providerName, $0.countryCode, $0.city) }
        _ = Self.checkedSpreadFinding(result, rows: rows, copies: 3, minProviders: 2, minCities: 2,
                                      rest: ["FI-HEL-UC-1", "FI-HEL-HZ-1", "DE-FSN-HZ-1", "FI-HEL-HZ-2"], context: "reproducer")
    }
}
