import Foundation
import PolicyEngine
import Testing

/// `plan(for:)`: candidate order (prefer, ordered, spread), the diversity walk, the plan's
/// fields, the policy-set hash and the runtime walk `chooseZones(isAvailable:)`.
@Suite struct PlanTests {
    // MARK: the shipped policies

    @Test(arguments: [
        (object("hr-data", "personal/a.txt", ["classification": "personal"]), ["FI-HEL-UC-1", "FI-HEL-ST-1"], "personal-data-tagged"),
        (object("crm-exports", "personal/bob.json"), ["FI-HEL-UC-1", "FI-HEL-ST-1"], "personal-prefix"),
        (object("hr-payroll", "2025/01/salaries.csv"), ["FI-HEL-UC-1", "FI-HEL-ST-1"], "hr-buckets"),
        (object("audit-logs", "2025/06/01/events.jsonl"), ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"], "audit-buckets-immutable"),
        (object("app-data", "audit/2025/logins.log"), ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"], "audit-prefix-immutable"),
        (object("website-assets", "img/logo.png"), ["FI-HEL-ST-1", "FI-HEL-UC-1"], "eu-default-replication"),
        (object("crm-exports", "Personal/carol.json"), ["FI-HEL-ST-1", "FI-HEL-UC-1"], "eu-default-replication"),
    ])
    func theShippedPoliciesPlaceAsTheirTestsDocument(_ obj: ObjectRef, _ zones: [String], _ policy: String) throws {
        let compiled = try Project.compiledShippedPolicies().compiled
        let plan = compiled.plan(for: obj)
        #expect(plan.allowed, "\(plan.reasons)")
        #expect(plan.zoneCodes == zones)
        #expect(plan.replicationPolicy?.metadata.name == policy)
    }

    @Test func theShippedAuditPlanHasImmutabilityAndQuorum() throws {
        let compiled = try Project.compiledShippedPolicies().compiled
        let plan = compiled.plan(for: object("audit-logs", "x"))
        #expect(plan.copies == 3)
        #expect(plan.writeQuorum == 2)
        #expect(plan.minProviders == 2)
        #expect(plan.minCities == 1)
        #expect(plan.versioning == .enabled)
        #expect(plan.immutability?.mode == .compliance)
        #expect(plan.immutability?.retentionSeconds == Int64(220_752_000))  // 7y = 7 × 365d
        #expect(plan.replicationDeadlineSeconds == Int64(3600))
        #expect(Set(plan.eligibleZones.map(\.countryCode)).isSubset(of: ["DK", "FI", "SE"]))
        let general = compiled.plan(for: object("web", "x"))
        #expect(general.immutability == nil)
        #expect(general.writeQuorum == 1)
        #expect(general.eligibleZones.allSatisfy { Countries.eu.contains($0.countryCode) })
        #expect(general.eligibleZones.count == 43)
    }

    // MARK: candidate order

    @Test func preferredZonesAndProvidersComeFirstInTheirOrder() throws {
        let text = documents(
            residency("eu", "match: {}\nallow:\n  countries: [EU]"),
            replication("pref", "match: {}\ncopies: 3\nprefer: [SE-STO-C-1, ProvA, US-IAD-E-1, FI-HEL-A-1, provb]"))
        let result = compile(text, catalog: miniCatalog())
        #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics.rendered)")
        let plan = result.compiled.plan(for: object("b", "k"))
        // SE-STO-C-1; then ProvA's zones in catalog order; US-IAD-E-1 is not eligible; FI-HEL-A-1 is
        // already listed; then ProvB's zones (case-insensitive); then the rest in catalog order.
        #expect(plan.candidateCodes == ["SE-STO-C-1", "FI-HEL-A-1", "FI-ESP-A-1", "FI-HEL-B-1", "SE-STO-B-1", "DE-BER-C-1"])
        #expect(plan.zoneCodes == ["SE-STO-C-1", "FI-HEL-A-1", "FI-ESP-A-1"])
        // Eligible zones stay in catalog order.
        #expect(plan.eligibleCodes == ["FI-HEL-A-1", "FI-HEL-B-1", "FI-ESP-A-1", "SE-STO-B-1", "SE-STO-C-1", "DE-BER-C-1"])
    }

    @Test func withoutPreferTheOrderIsTheCatalogOrder() throws {
        let result = compile(documents(anywhere, replication("r", "match: {}\ncopies: 4")), catalog: miniCatalog())
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(plan.candidateCodes == miniRows.map(\.code))
        #expect(plan.zoneCodes == Array(miniRows.map(\.code).prefix(4)))
    }

    // MARK: the diversity walk

    /// Providers A, B, C in cities One and Two:
    ///   A-1 (A, One), A-2 (A, One), B-1 (B, One), C-1 (C, Two), B-2 (B, Two)
    static let diversityRows = [
        ZoneRow("A-1", "ProvA", "FI", "One"), ZoneRow("A-2", "ProvA", "FI", "One"),
        ZoneRow("B-1", "ProvB", "FI", "One"), ZoneRow("C-1", "ProvC", "FI", "Two"),
        ZoneRow("B-2", "ProvB", "FI", "Two"),
    ]

    static func diversityPlan(copies: Int, minProviders: Int, minCities: Int, prefer: String = "[]",
                              placement: String = "ordered") -> PlacementPlan {
        let text = documents(anywhere, replication("r", """
            match: {}
            copies: \(copies)
            minProviders: \(minProviders)
            minCities: \(minCities)
            placement: \(placement)
            prefer: \(prefer)
            """))
        let result = compile(text, catalog: makeCatalog(diversityRows))
        return result.compiled.plan(for: object("b", "k"))
    }

    @Test(arguments: [
        (2, 2, 1, "[]", ["A-1", "B-1"]),            // skip A-2: a second A copy would leave no slot for B
        (3, 2, 1, "[]", ["A-1", "A-2", "B-1"]),     // one slot of slack: A-2 may be taken
        (3, 3, 1, "[]", ["A-1", "B-1", "C-1"]),
        (2, 1, 2, "[]", ["A-1", "C-1"]),            // cities: skip A-2 and B-1 (same city)
        (2, 2, 2, "[]", ["A-1", "C-1"]),
        (4, 3, 2, "[]", ["A-1", "A-2", "B-1", "C-1"]),
        (5, 3, 2, "[]", ["A-1", "A-2", "B-1", "C-1", "B-2"]),
        (1, 1, 1, "[]", ["A-1"]),
        (2, 2, 1, "[A-2]", ["A-2", "B-1"]),
        (2, 2, 1, "[ProvB]", ["B-1", "A-1"]),       // B-1, skip B-2, then A-1
        (3, 1, 1, "[C-1, ProvA]", ["C-1", "A-1", "A-2"]),
        (3, 3, 2, "[ProvA]", ["A-1", "B-1", "C-1"]),
    ])
    func theDiversityWalk(_ copies: Int, _ minProviders: Int, _ minCities: Int, _ prefer: String, _ expected: [String]) throws {
        let plan = Self.diversityPlan(copies: copies, minProviders: minProviders, minCities: minCities, prefer: prefer)
        #expect(plan.allowed, "\(plan.reasons)")
        #expect(plan.zoneCodes == expected)
        #expect(plan.copies == copies)
        #expect(Set(plan.zones.map(\.providerName)).count >= minProviders)
        #expect(Set(plan.zones.map(\.city)).count >= minCities)
    }

    @Test func tooFewEligibleZonesForTheCopiesIsRefused() throws {
        let plan = Self.diversityPlan(copies: 6, minProviders: 1, minCities: 1)
        #expect(!plan.allowed)
        #expect(plan.zones.isEmpty)
        #expect(plan.reasons.contains { $0.contains("5 eligible zones for 6 copies") })
    }

    /// The contract's greedy walk takes the first zone because, counted alone, one slot is
    /// enough for both the missing provider and the missing city; no single zone then supplies
    /// both, so the plan is refused although {A/Y, B/X} would satisfy the policy. This pins the
    /// walk as the contract defines it (see the report: a limitation of the contract).
    @Test func theWalkIsTheContractsGreedyWalkEvenWhereItRefuses() throws {
        let rows = [ZoneRow("A-X", "ProvA", "FI", "X"), ZoneRow("A-Y", "ProvA", "FI", "Y"), ZoneRow("B-X", "ProvB", "FI", "X")]
        let text = documents(anywhere, replication("r", "match: {}\ncopies: 2\nminProviders: 2\nminCities: 2"))
        let result = compile(text, catalog: makeCatalog(rows))
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(!plan.allowed)
        #expect(result.diagnostics.with("unsatisfiable").count == 1)
        // Preferring A-Y makes the same walk succeed.
        let preferred = compile(documents(anywhere, replication("r", "match: {}\ncopies: 2\nminProviders: 2\nminCities: 2\nprefer: [A-Y]")),
                                catalog: makeCatalog(rows))
        #expect(preferred.compiled.plan(for: object("b", "k")).zoneCodes == ["A-Y", "B-X"])
    }

    /// With `placement: spread` the walk runs over a per-object order. Zones G-S (Gamma,
    /// Stockholm), G-M (Gamma, Munich), D-M (Delta, Munich), copies 2 at 2 providers in 2 cities:
    /// {G-S, D-M} works, and the catalog-order walk finds it; but every object whose rendezvous
    /// order starts with G-M is refused (G-M, then neither G-S nor D-M adds both a provider and a
    /// city). The engine follows the contract's walk, and validation reports the class.
    @Test func spreadCanRefuseObjectsOfAClassThatValidationAccepts() throws {
        let rows = [ZoneRow("G-S", "Gamma", "SE", "Stockholm"), ZoneRow("G-M", "Gamma", "DE", "Munich"),
                    ZoneRow("D-M", "Delta", "DE", "Munich")]
        let text = documents(anywhere, replication("spread", "match: {}\ncopies: 2\nminProviders: 2\nminCities: 2\nplacement: spread"))
        let result = compile(text, catalog: makeCatalog(rows))
        let keys = (0..<30).map { "key-\($0)" }
        let startsWithGM = keys.filter { Reference.spreadOrder(["G-S", "G-M", "D-M"], bucket: "b", key: $0).first == "G-M" }
        try #require(!startsWithGM.isEmpty)
        // The engine follows the contract's walk: those objects are refused.
        for key in startsWithGM { #expect(!result.compiled.plan(for: object("b", key)).allowed, "\(key)") }
        for key in keys where !startsWithGM.contains(key) { #expect(result.compiled.plan(for: object("b", key)).allowed, "\(key)") }
        // Validation reports a class of which some order fails.
        #expect(!result.diagnostics.with("unsatisfiable").isEmpty, "validation is clean, yet \(startsWithGM.count) of 30 objects are refused")
    }

    // MARK: spread placement

    @Test func referenceHashFunctionsMatchKnownAnswers() {
        // FNV-1a 64 test vectors and the first splitmix64 output for seed 0.
        #expect(Reference.fnv1a64([]) == 0xcbf2_9ce4_8422_2325)
        #expect(Reference.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(Reference.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        #expect(Reference.splitmix64Finalizer(0x9e37_79b9_7f4a_7c15) == 0xe220_a839_7b1d_cdaf)
    }

    static let spreadKeys: [(String, String)] = [
        ("b", "k"), ("photos", "2025/06/01/img_0001.jpg"), ("photos", "2025/06/01/img_0002.jpg"),
        ("hr-data", "personal/ä-ö.txt"), ("x", ""), ("bucket-with-long-name", String(repeating: "z", count: 300)),
    ]

    @Test func spreadOrdersCandidatesByTheContractsRendezvousScore() throws {
        let text = documents(anywhere, replication("spread", "match: {}\ncopies: 3\nplacement: spread"))
        let compiled = compile(text, catalog: miniCatalog()).compiled
        var orders = Set<[String]>()
        for (bucket, key) in Self.spreadKeys {
            let plan = compiled.plan(for: object(bucket, key))
            let expected = Reference.spreadOrder(miniRows.map(\.code), bucket: bucket, key: key)
            #expect(plan.candidateCodes == expected, "\(bucket)/\(key)")
            #expect(plan.zoneCodes == Array(expected.prefix(3)), "\(bucket)/\(key)")
            orders.insert(plan.candidateCodes)
            // Deterministic: the same object gets the same plan.
            #expect(compiled.plan(for: object(bucket, key)).zoneCodes == plan.zoneCodes)
        }
        #expect(orders.count > 1, "spread placement should depend on the object")
    }

    @Test func spreadPutsPreferredZonesFirstAndKeepsDiversity() throws {
        let text = documents(anywhere, replication("spread", """
            match: {}
            copies: 3
            minProviders: 3
            placement: spread
            prefer: [US-IAD-E-1, ProvB]
            """))
        let compiled = compile(text, catalog: miniCatalog()).compiled
        for (bucket, key) in Self.spreadKeys {
            let plan = compiled.plan(for: object(bucket, key))
            let preferred = ["US-IAD-E-1", "FI-HEL-B-1", "SE-STO-B-1"]
            let rest = Reference.spreadOrder(miniRows.map(\.code).filter { !preferred.contains($0) }, bucket: bucket, key: key)
            #expect(plan.candidateCodes == preferred + rest, "\(bucket)/\(key)")
            let byCode = Dictionary(uniqueKeysWithValues: miniRows.map { ($0.code, $0) })
            let expected = Reference.walk((preferred + rest).map { Reference.Candidate(code: $0, provider: byCode[$0]!.provider, city: byCode[$0]!.city) },
                                          copies: 3, minProviders: 3, minCities: 1)
            #expect(plan.zoneCodes == expected, "\(bucket)/\(key)")
            #expect(plan.zoneCodes.first == "US-IAD-E-1")
            #expect(Set(plan.zones.map(\.providerName)).count == 3)
        }
    }

    // MARK: plan fields

    @Test func writeQuorumDefaultsToCopiesAndImmutabilityIsInSeconds() throws {
        let text = documents(anywhere,
                             replication("plain", "match: {}\ncopies: 3\nversioning: suspended"),
                             replication("locked", "match: {buckets: [locked]}\npriority: 5\ncopies: 2\nwriteQuorum: 1\nimmutability: {mode: governance, retention: 30d}"),
                             replication("bucket-decides", "match: {buckets: [own]}\npriority: 5\ncopies: 1\nversioning: bucket\nreplicationDeadline: 2h"))
        let compiled = compile(text, catalog: miniCatalog()).compiled
        let plain = compiled.plan(for: object("b", "k"))
        #expect(plain.writeQuorum == 3)
        #expect(plain.versioning == .suspended)
        #expect(plain.immutability == nil)
        #expect(plain.replicationDeadlineSeconds == nil)
        let locked = compiled.plan(for: object("locked", "k"))
        #expect(locked.writeQuorum == 1)
        #expect(locked.immutability?.mode == .governance)
        #expect(locked.immutability?.retentionSeconds == Int64(30 * 86400))
        #expect(locked.versioning == .enabled)
        let own = compiled.plan(for: object("own", "k"))
        #expect(own.versioning == .bucket)
        #expect(own.replicationDeadlineSeconds == Int64(7200))
    }

    // MARK: the policy-set hash

    static func copyShippedPolicies(to dir: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: Project.policiesDir) {
            try FileManager.default.copyItem(atPath: Project.policiesDir + "/" + name, toPath: dir + "/" + name)
        }
    }

    @Test func thePolicySetHashIsStableAcrossLoadsAndChangesWithTheInputs() throws {
        let first = try Project.compiledShippedPolicies().compiled.policySetHash
        let second = try Project.compiledShippedPolicies().compiled.policySetHash
        #expect(first == second)
        #expect(matches(first, "^[0-9a-f]{64}$"), "\(first)")
        // Every plan carries it.
        let compiled = try Project.compiledShippedPolicies().compiled
        #expect(compiled.plan(for: object("a", "b")).policySetHash == first)
        #expect(compiled.plan(for: object("hr-x", "y")).policySetHash == first)

        try withTempDir { tmp in
            let dir = tmp + "/policies"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Self.copyShippedPolicies(to: dir)
            func hash(catalog: Catalog = Project.catalog, enabled: Set<String>? = nil) throws -> String {
                PolicyCompiler(enabledZones: enabled).compile(try PolicySet.load(paths: [dir]), catalog: catalog).compiled.policySetHash
            }
            // A checkout of the same files elsewhere has the same hash.
            let copied = try hash()
            #expect(copied == first)
            // So has the same set in a directory of another name (each gateway instance may keep
            // its copy elsewhere): files are named by their path below the directory.
            let renamed = tmp + "/deployed-policy-set"
            try FileManager.default.copyItem(atPath: dir, toPath: renamed)
            let elsewhere = PolicyCompiler().compile(try PolicySet.load(paths: [renamed]), catalog: Project.catalog)
            #expect(elsewhere.compiled.policySetHash == first)
            // A file moved to a subdirectory is another file.
            try FileManager.default.createDirectory(atPath: renamed + "/team", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: renamed + "/replication.yaml", toPath: renamed + "/team/replication.yaml")
            let moved = PolicyCompiler().compile(try PolicySet.load(paths: [renamed]), catalog: Project.catalog)
            #expect(moved.compiled.policySetHash != first)
            // A changed policy file changes it.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/replication.yaml"))
            _ = try handle.seekToEnd()
            try handle.write(contentsOf: Data("# a comment\n".utf8))
            try handle.close()
            let changed = try hash()
            #expect(changed != first)
            #expect(try hash() == changed)
            // So does the catalog, and the set of enabled zones.
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Project.catalogPath)))
            bytes += Array("\n".utf8)
            let otherCatalog = CatalogLoader.parse(bytes, file: Project.catalogPath).catalog
            #expect(try hash(catalog: otherCatalog) != changed)
            #expect(try hash(enabled: ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]) != changed)
            #expect(try hash(enabled: ["FI-HEL-ST-1", "FI-HEL-UC-1"]) != hash(enabled: ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]))
        }
    }

    /// Every document of a `*.test.yaml` file is loaded, so a policy kept there is enforced:
    /// the hash must change with it. Editing only the tests of a test file leaves it alone.
    @Test func thePolicySetHashCoversPoliciesKeptInTestFiles() throws {
        let main = documents(anywhere, oneCopyEverywhere)
        let test = doc("PolicyTest", "t", "cases:\n  - object: { bucket: b, key: k }\n    expect: { allowed: true }")
        func hash(_ testFile: String) -> String {
            let set = PolicySet.parse([PolicySet.SourceFile(path: "policies/main.yaml", contents: Array(main.utf8)),
                                       PolicySet.SourceFile(path: "policies/cases.test.yaml", contents: Array(testFile.utf8))])
            let result = PolicyCompiler().compile(set, catalog: miniCatalog())
            #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics.rendered)")
            return result.compiled.policySetHash
        }
        let onlyTests = hash(documents(test))
        #expect(hash(documents(test.replacingOccurrences(of: "bucket: b", with: "bucket: c"))) == onlyTests)
        let finland = hash(documents(test, residency("fi", "match: {}\nallow:\n  countries: [FI]")))
        let sweden = hash(documents(test, residency("fi", "match: {}\nallow:\n  countries: [SE]")))
        #expect(finland != onlyTests)
        #expect(sweden != finland)
    }

    // MARK: the runtime walk

    @Test func chooseZonesSkipsDownZonesAndNeverLeavesTheEligibleSet() throws {
        let text = documents(residency("not-c", "match: {}\ndeny:\n  zones: [C-1]"),
                             replication("r", "match: {}\ncopies: 2\nminProviders: 2"))
        let compiled = compile(text, catalog: makeCatalog(Self.diversityRows)).compiled
        let plan = compiled.plan(for: object("b", "k"))
        #expect(plan.zoneCodes == ["A-1", "B-1"])
        func choose(down: Set<String>) -> [String] { plan.chooseZones { !down.contains($0.code) }.map(\.code) }
        #expect(choose(down: []) == ["A-1", "B-1"])
        #expect(choose(down: ["A-1"]) == ["A-2", "B-1"])
        #expect(choose(down: ["B-1"]) == ["A-1", "B-2"])
        #expect(choose(down: ["A-1", "A-2"]) == ["B-1"])              // never C-1, never two B copies
        #expect(choose(down: ["A-1", "A-2", "B-1", "B-2"]).isEmpty)    // C-1 is up but not eligible
        var asked = Set<String>()
        _ = plan.chooseZones { asked.insert($0.code); return false }
        #expect(!asked.contains("C-1"))
    }

    @Test func chooseZonesOfARefusedPlanIsEmpty() throws {
        let plan = Self.diversityPlan(copies: 6, minProviders: 1, minCities: 1)
        #expect(plan.chooseZones { _ in true }.isEmpty)
    }
}
