import Foundation
import PolicyEngine
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `policyctl test`, `catalog`, `schema` and `--help`.
@Suite struct TestCommandTests {
    static let failingCase = """
        apiVersion: sovereignty/v1
        kind: PolicyTest
        metadata: { name: a-failing-expectation }
        spec:
          cases:
            - name: personal data in Sweden
              object: { bucket: hr-data, key: personal/a.txt }
              expect:
                allowed: true
                zones: [SE-STO-AW-1]
            - object: { bucket: website, key: index.html }
              expect: { allowed: true, copies: 2 }
        """

    static func shippedCaseCount() throws -> Int {
        try PolicySet.load(paths: [Policyctl.projectRoot + "/policies"]).tests.reduce(0) { $0 + $1.cases.count }
    }

    @Test func theShippedTestsPass() throws {
        let r = try Policyctl.run(["test"])
        #expect(r.status == 0, "\(r)")
        let count = try Self.shippedCaseCount()
        #expect(count >= 13)
        #expect(r.stdoutLines.last == "\(count) passed, 0 failed", "\(r)")
        #expect(r.stdoutLines.filter { $0.hasPrefix("PASS ") }.count == count)
        let explicit = try Policyctl.run(["test", "policies"])
        #expect(explicit.status == 0)
        #expect(matches(explicit.stdoutLines.last ?? "", #"^[0-9]+ passed, 0 failed$"#))
    }

    /// The `policyctl test` example of the language contract, verbatim (it has no apiVersion).
    /// (Shared with PolicyEngineTests: `Tests/Fixtures/contract-policy-test.yaml`.)
    static let contractExample = (try? String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/contract-policy-test.yaml").path, encoding: .utf8)) ?? ""

    static let finlandTwoProviders = """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata: { name: finland }
        spec:
          match: {}
          allow: { countries: [FI] }
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata: { name: two-providers }
        spec:
          match: {}
          copies: 2
          minProviders: 2
          prefer: [FI-HEL-UC-1, FI-HEL-HZ-1]
        """

    @Test func theContractsTestExampleValidatesAndRuns() throws {
        try withTempFiles(["policies/set.yaml": Self.finlandTwoProviders,
                           "policies/example.test.yaml": Self.contractExample]) { dir in
            let validate = try Policyctl.run(["validate", dir + "/policies", "--strict"])
            #expect(validate.status == 0, "\(validate)")
            let r = try Policyctl.run(["test", dir + "/policies"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stdoutLines.last == "1 passed, 0 failed", "\(r)")
            #expect(r.stdout.contains("PASS personal-data-stays-in-finland / "), "\(r)")
        }
    }

    @Test func aFailingCaseExitsWithOneAndSaysWhy() throws {
        try withTempFiles(["policies/all.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication,
                           "policies/fail.test.yaml": Self.failingCase]) { dir in
            let r = try Policyctl.run(["test", dir + "/policies"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stdoutLines.last == "1 passed, 1 failed", "\(r)")
            #expect(r.stdout.contains("FAIL a-failing-expectation / personal data in Sweden"), "\(r)")
            #expect(r.stdout.contains("expected zones [SE-STO-AW-1], got [FI-HEL-ST-1, FI-HEL-UC-1]"), "\(r)")
            #expect(r.stdout.contains("at \(dir)/policies/fail.test.yaml:"), "\(r)")
        }
    }

    final class XMLChecker: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var failureMessages: [String] = []
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            elements.append(elementName)
            if elementName == "failure", let m = attributeDict["message"] { failureMessages.append(m) }
        }
    }

    @Test func junitOutputIsWellFormedXMLWithAFailure() throws {
        try withTempFiles(["policies/all.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication,
                           "policies/fail.test.yaml": Self.failingCase]) { dir in
            let r = try Policyctl.run(["test", dir + "/policies", "--format", "junit"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stdout.hasPrefix("<?xml"))
            let parser = XMLParser(data: Data(r.stdout.utf8))
            let checker = XMLChecker()
            parser.delegate = checker
            #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))\n\(r.stdout)")
            #expect(checker.elements.first == "testsuites")
            #expect(checker.elements.filter { $0 == "testcase" }.count == 2)
            #expect(checker.elements.filter { $0 == "failure" }.count == 1)
            #expect(checker.failureMessages.first?.contains("SE-STO-AW-1") == true)
        }
        let passing = try Policyctl.run(["test", "--format", "junit"])
        #expect(passing.status == 0, "\(passing)")
        #expect(!passing.stdout.contains("<failure"))
        #expect(XMLParser(data: Data(passing.stdout.utf8)).parse())
    }

    @Test func invalidPoliciesExitWithTwo() throws {
        try withTempFiles(["bad.yaml": Texts.invalid, "t.test.yaml": Self.failingCase]) { dir in
            let r = try Policyctl.run(["test", dir])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.contains("error["), "\(r)")
        }
        let missing = try Policyctl.run(["test", "/nonexistent/dir"])
        #expect(missing.status == 2, "\(missing)")
    }
}

@Suite struct CatalogAndSchemaCommandTests {
    static let finnishZones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1", "FI-HEL-HZ-2", "FI-HEL-UC-2"]

    @Test func catalogByCountryListsTheFinnishZones() throws {
        let r = try Policyctl.run(["catalog", "--country", "FI"])
        #expect(r.status == 0, "\(r)")
        let rows = r.stdoutLines.dropFirst().filter { !$0.contains(" of ") }
        #expect(rows.map { String($0.prefix { $0 != " " }) } == Self.finnishZones, "\(r)")
        #expect(r.stdoutLines.first?.hasPrefix("ZONE") == true)
        let total = try CatalogLoader.load(path: Policyctl.projectRoot + "/providers_flat.csv").catalog.zones.count
        #expect(r.stdoutLines.last == "5 of \(total) zones")
        #expect(r.stdout.contains("s3c.tns.cx") && r.stdout.contains("f969k.upcloudobjects.com") && r.stdout.contains("hel1.your-objectstorage.com"))
        // Lower-case country codes are accepted by the CLI filter.
        let lower = try Policyctl.run(["catalog", "--country", "fi"])
        #expect(lower.stdout == r.stdout)
    }

    @Test func catalogJSON() throws {
        let r = try Policyctl.run(["catalog", "--format", "json"])
        #expect(r.status == 0, "\(r)")
        let zones = try #require(try r.json() as? [[String: Any]], "\(r)")
        #expect(zones.count >= 40)
        let seed = try #require(zones.first)
        #expect(seed["zone"] as? String == "FI-HEL-ST-1")
        #expect(seed["provider"] as? String == "Spacetime")
        #expect(seed["countryCode"] as? String == "FI")
        #expect(seed["city"] as? String == "Helsinki")
        #expect(seed["endpoint"] as? String == "hel1.your-objectstorage.com")
        #expect(seed["euHeadquartered"] as? Bool == false)
        #expect((seed["flags"] as? [String])?.contains("object_lock") == true)
        let filtered = try #require(try Policyctl.run(["catalog", "--country", "EU", "--capability", "object_lock", "--format", "json"]).json() as? [[String: Any]])
        #expect(!filtered.isEmpty)
        #expect(filtered.allSatisfy { Countries.eu.contains($0["countryCode"] as? String ?? "") })
        #expect(filtered.allSatisfy { ($0["flags"] as? [String])?.contains("object_lock") == true })
        #expect(!filtered.contains { $0["zone"] as? String == "FI-HEL-UC-1" })
    }

    @Test func catalogRejectsUnknownFilters() throws {
        #expect(try Policyctl.run(["catalog", "--country", "XX"]).status == 2)
        #expect(try Policyctl.run(["catalog", "--capability", "teleportation"]).status == 2)
        #expect(try Policyctl.run(["catalog", "--catalog", "/nonexistent.csv"]).status == 2)
    }

    @Test func aBrokenCatalogIsReportedWithFileLineCol() throws {
        let csv = "zone_code,provider_name,country_code,region_city,endpoint\nZ1,P,XX,City,e\n"
        try withTempFiles(["c.csv": csv]) { dir in
            let r = try Policyctl.run(["catalog", "--catalog", dir + "/c.csv"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("\(dir)/c.csv:2:3: error[catalog-unknown-country]"), "\(r)")
            let validate = try Policyctl.run(["validate", "--catalog", dir + "/c.csv"])
            #expect(validate.status == 1, "\(validate)")
            #expect(validate.stdout.contains("\(dir)/c.csv:2:3: error[catalog-unknown-country]"), "\(validate)")
        }
    }

    @Test func schemaPrintsJSONWithASchemaKey() throws {
        let r = try Policyctl.run(["schema"])
        #expect(r.status == 0, "\(r)")
        let root = try #require(try r.json() as? [String: Any], "\(r)")
        #expect(root["$schema"] is String)
        #expect(r.stdout.contains("ResidencyPolicy") && r.stdout.contains("ReplicationPolicy"))
        let withCatalog = try Policyctl.run(["schema", "--catalog", "providers_flat.csv"])
        #expect(withCatalog.status == 0)
        #expect(withCatalog.stdout.contains("iso27017"), "flag columns of the catalog are offered")
        // Without a catalog any column name is a flag: no list of six known columns.
        let capabilities = ((((root["allOf"] as? [[String: Any]] ?? []).compactMap {
            ((($0["then"] as? [String: Any])?["properties"] as? [String: Any])?["spec"] as? [String: Any])
        }.compactMap { (($0["properties"] as? [String: Any])?["require"] as? [String: Any]) }.first)?["properties"]
            as? [String: Any])?["capabilities"] as? [String: Any])?["items"] as? [String: Any]
        #expect(capabilities != nil, "\(r)")
        #expect(capabilities?["enum"] == nil, "\(String(describing: capabilities))")
    }

    @Test(arguments: [["--help"], ["validate", "--help"], ["plan", "--help"], ["test", "--help"], ["catalog", "--help"],
                      ["schema", "--help"], ["help"], ["--version"]])
    func helpAndVersionExitWithZero(_ args: [String]) throws {
        let r = try Policyctl.run(args)
        #expect(r.status == 0, "\(args): \(r)")
        #expect(!r.output.isEmpty)
        if args == ["--help"] {
            for sub in ["validate", "plan", "test", "catalog", "schema"] { #expect(r.output.contains(sub)) }
        }
        if args == ["--version"] { #expect(r.output.contains(PolicyEngineInfo.version)) }
    }

    @Test func environmentDefaultsAreHonoured() throws {
        try withTempFiles(["hr.yaml": Texts.hrOnly]) { dir in
            let r = try Policyctl.run(["plan", "--bucket", "web", "--key", "k", "--format", "json"],
                                      environment: ["POLICIES_DIR": dir])
            #expect(r.status == 1, "POLICIES_DIR should select the hr-only set: \(r)")
        }
    }
}
