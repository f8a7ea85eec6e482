import Foundation
import PolicyEngine
import Testing

/// The library side of `policyctl`'s outputs: diagnostics formats, the plan report, the
/// PolicyTest runner and the schema.
@Suite struct ReportsTests {
    static func sampleDiagnostics() -> [Diagnostic] {
        let text = documents(residency("r", "match: {}\ndeny:\n  countries: [XX]"), oneCopyEverywhere)
        return compile(text, catalog: miniCatalog(), file: "dir,with:odd/p.yaml").diagnostics
    }

    @Test func textFormat() throws {
        let out = DiagnosticFormatter.render(Self.sampleDiagnostics(), format: .text, valid: false)
        let lines = out.split(separator: "\n").map(String.init)
        let first = try #require(lines.first)
        #expect(first == "dir,with:odd/p.yaml:8:17: error[unknown-country]: 'XX' is neither an ISO 3166-1 alpha-2 country code nor a country group")
        #expect(lines.contains { $0.hasPrefix("    hint: ") })
        #expect(lines.last == "invalid: 1 error, 0 warnings")
        #expect(DiagnosticFormatter.render([], format: .text, valid: true) == "valid: 0 errors, 0 warnings")
    }

    @Test func jsonFormat() throws {
        let out = DiagnosticFormatter.render(Self.sampleDiagnostics(), format: .json, valid: false)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(root["valid"] as? Bool == false)
        #expect(root["errors"] as? Int == 1)
        #expect(root["warnings"] as? Int == 0)
        let d = try #require((root["diagnostics"] as? [[String: Any]])?.first)
        #expect(d["code"] as? String == "unknown-country")
        #expect(d["severity"] as? String == "error")
        #expect(d["file"] as? String == "dir,with:odd/p.yaml")
        #expect(d["line"] as? Int == 8)
        #expect(d["column"] as? Int == 17)
        #expect((d["message"] as? String)?.contains("XX") == true)
        #expect(d["hints"] is [String])
    }

    @Test func sarifFormat() throws {
        let out = DiagnosticFormatter.render(Self.sampleDiagnostics(), format: .sarif, valid: false)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(root["version"] as? String == "2.1.0")
        let run = try #require((root["runs"] as? [[String: Any]])?.first)
        let result = try #require((run["results"] as? [[String: Any]])?.first)
        #expect(result["ruleId"] as? String == "unknown-country")
        #expect(result["level"] as? String == "error")
        let location = try #require((result["locations"] as? [[String: Any]])?.first)
        let physical = try #require(location["physicalLocation"] as? [String: Any])
        let region = try #require(physical["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == 8)
        #expect(region["startColumn"] as? Int == 17)
        #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == "dir,with:odd/p.yaml")
        let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]]
        #expect(rules?.contains { $0["id"] as? String == "unknown-country" } == true)
    }

    @Test func githubFormatEscapesProperties() throws {
        let out = DiagnosticFormatter.render(Self.sampleDiagnostics(), format: .github, valid: false)
        let first = try #require(out.split(separator: "\n").first.map(String.init))
        #expect(first.hasPrefix("::error file=dir%2Cwith%3Aodd/p.yaml,line=8,col=17,title=unknown-country::"))
        // Hints are appended with an escaped newline: one command per line.
        #expect(first.contains("%0Ahint: "))
        #expect(!out.contains("\nhint"))
    }

    @Test func everyDiagnosticOfAFileWithYAMLErrorsHasALocation() throws {
        // `validate` prints FILE:LINE:COL for each finding; a set whose only file has a YAML
        // error must not produce findings without a location.
        let result = compile("a: b: c\n", catalog: miniCatalog(), file: "broken.yaml")
        #expect(result.diagnostics.with("yaml-syntax").count == 1)
        let unlocated = result.diagnostics.filter { $0.location == nil }
        #expect(unlocated.isEmpty, "diagnostics without FILE:LINE:COL: \(unlocated.rendered)")
    }

    @Test func planReportHasTheContractsKeys() throws {
        let compiled = try Project.compiledShippedPolicies().compiled
        let json = PlanReport.json(compiled.explain(object("audit-logs", "x", ["a": "b"]))).serialized()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["allowed", "bucket", "key", "tags", "residencyPolicies", "replicationPolicy", "copies", "writeQuorum",
                    "minProviders", "minCities", "zones", "eligibleZones", "versioning", "immutability", "policySetHash",
                    "reasons", "rejected"] {
            #expect(root[key] != nil, "missing \(key)")
        }
        #expect(root["allowed"] as? Bool == true)
        #expect(root["tags"] as? [String: String] == ["a": "b"])
        let immutability = try #require(root["immutability"] as? [String: Any])
        #expect(immutability["mode"] as? String == "compliance")
        #expect(immutability["retentionSeconds"] as? Int == 220_752_000)
    }

    // MARK: PolicyTest runner

    @Test func theShippedTestsAllPass() throws {
        let set = try PolicySet.load(paths: [Project.policiesDir])
        let compiled = PolicyCompiler().compile(set, catalog: Project.catalog).compiled
        let results = PolicyTestRunner(compiled: compiled).run(set.tests)
        #expect(results.count == set.tests.reduce(0) { $0 + $1.cases.count })
        #expect(results.count >= 13)
        #expect(results.allSatisfy { $0.passed }, "\(results.filter { !$0.passed }.map(\.failures))")
        #expect(PolicyTestRunner.text(results).hasSuffix("\(results.count) passed, 0 failed"))
    }

    static let failingTest = """
        apiVersion: sovereignty/v1
        kind: PolicyTest
        metadata: { name: wrong-expectations }
        spec:
          cases:
            - name: wrong zones & <copies>
              object: { bucket: b, key: k }
              expect: { allowed: true, zones: [US-IAD-E-1], copies: 5, writeQuorum: 9, countries: [US],
                        replicationPolicy: nope, residencyPolicies: [nope], versioning: suspended,
                        zonesInclude: [US-IAD-E-1], zonesExclude: [FI-HEL-A-1] }
            - object: { bucket: b, key: k }
              expect: { allowed: true, zones: [FI-HEL-A-1], copies: 1, countries: [EU] }
        """

    @Test func failingExpectationsAreReportedOneByOne() throws {
        let set = parsePolicies(documents(anywhere, oneCopyEverywhere, Self.failingTest), file: "t.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let compiled = PolicyCompiler().compile(set, catalog: miniCatalog()).compiled
        let results = PolicyTestRunner(compiled: compiled).run(set.tests)
        try #require(results.count == 2)
        #expect(!results[0].passed)
        #expect(results[0].failures.count == 9, "\(results[0].failures)")
        #expect(results[1].passed, "\(results[1].failures)")
        let text = PolicyTestRunner.text(results)
        #expect(text.contains("FAIL wrong-expectations / wrong zones & <copies>"))
        #expect(text.contains("at t.yaml:"))
        #expect(text.hasSuffix("1 passed, 1 failed"))
        let junit = PolicyTestRunner.junit(results)
        #expect(junit.hasPrefix("<?xml"))
        #expect(junit.contains("<testsuites") && junit.contains("tests=\"2\" failures=\"1\""))
        #expect(junit.contains("<failure message="))
        #expect(junit.contains("wrong zones &amp; &lt;copies&gt;"))
    }

    @Test func expectedCountriesMayNameACountryGroup() throws {
        // The shipped audit rules allow the group `nordic-eu`; a test that expects every zone to
        // be in `nordic-eu` should pass like one that lists [DK, FI, SE].
        let test = """
            apiVersion: sovereignty/v1
            kind: PolicyTest
            metadata: { name: group-in-expectation }
            spec:
              cases:
                - object: { bucket: audit-logs, key: x }
                  expect: { allowed: true, countries: [nordic-eu] }
            """
        try withTempDir { dir in
            try PlanTests.copyShippedPolicies(to: dir)
            try writeFile(dir + "/group.test.yaml", test)
            let set = try PolicySet.load(paths: [dir])
            let result = PolicyCompiler().compile(set, catalog: Project.catalog)
            #expect(result.diagnostics.errors.isEmpty)
            let results = PolicyTestRunner(compiled: result.compiled).run(set.tests.filter { $0.metadata.name == "group-in-expectation" })
            #expect(results.count == 1)
            #expect(results.allSatisfy { $0.passed }, "\(results.map(\.failures))")
        }
    }

    // MARK: schema

    /// As the parser: apiVersion is required, except in a PolicyTest.
    @Test func theSchemaRequiresApiVersionExceptInAPolicyTest() throws {
        let text = PolicySchema.json().serialized()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(root["required"] as? [String] == ["kind", "metadata", "spec"])
        let rules = try #require(root["allOf"] as? [[String: Any]])
        let rule = try #require(rules.first { ($0["else"] as? [String: Any])?["required"] as? [String] == ["apiVersion"] })
        let condition = try #require(rule["if"] as? [String: Any])
        #expect(condition["required"] as? [String] == ["kind"])
        let kind = (condition["properties"] as? [String: Any])?["kind"] as? [String: Any]
        #expect(kind?["const"] as? String == "PolicyTest")
    }

    /// The `spec` schema of a kind, and a property in it.
    static func specSchema(_ root: [String: Any], _ kind: String) -> [String: Any]? {
        let rules = root["allOf"] as? [[String: Any]] ?? []
        for rule in rules {
            let condition = (rule["if"] as? [String: Any])?["properties"] as? [String: Any]
            guard (condition?["kind"] as? [String: Any])?["const"] as? String == kind else { continue }
            guard let then = rule["then"] as? [String: Any], then["properties"] != nil else { continue }
            return ((then["properties"] as? [String: Any])?["spec"]) as? [String: Any]
        }
        return nil
    }

    static func property(_ schema: [String: Any]?, _ path: String...) -> [String: Any]? {
        var current = schema
        for name in path { current = (current?["properties"] as? [String: Any])?[name] as? [String: Any] }
        return current
    }

    /// Any boolean column of a catalog is a flag: without a catalog the schema cannot list them
    /// all, so it accepts any column name; with one it offers exactly the catalog's flags.
    @Test func theSchemaAcceptsAnyFlagWithoutACatalog() throws {
        func flagItems(_ value: JSONValue) throws -> [String: Any] {
            let root = try #require(try JSONSerialization.jsonObject(with: Data(value.serialized().utf8)) as? [String: Any])
            let spec = Self.specSchema(root, "ResidencyPolicy")
            let capabilities = try #require(Self.property(spec, "require", "capabilities")?["items"] as? [String: Any])
            let certifications = try #require(Self.property(spec, "require", "certifications")?["items"] as? [String: Any])
            #expect(NSDictionary(dictionary: capabilities) == NSDictionary(dictionary: certifications))
            return capabilities
        }
        let open = try flagItems(PolicySchema.json())
        #expect(open["enum"] == nil, "\(open)")
        #expect(open["type"] as? String == "string")
        let pattern = try #require(open["pattern"] as? String)
        for name in ["encryption_at_rest", "iso27017", "soc2", "object_lock"] { #expect(matches(name, pattern), "\(name)") }
        #expect(!matches("", pattern))
        #expect((open["examples"] as? [String])?.contains("object_lock") == true)
        let closed = try flagItems(PolicySchema.json(flagNames: ["object_lock", "encryption_at_rest"]))
        #expect(closed["enum"] as? [String] == ["object_lock", "encryption_at_rest"])
    }

    /// The bounds the parser enforces, and the empty values it accepts.
    @Test func theSchemaHasTheParsersBounds() throws {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(PolicySchema.json().serialized().utf8)) as? [String: Any])
        let replicationSpec = Self.specSchema(root, "ReplicationPolicy")
        func bounds(_ field: String) -> [Int?] {
            let p = Self.property(replicationSpec, field)
            return [p?["minimum"] as? Int, p?["maximum"] as? Int]
        }
        #expect(bounds("copies") == [1, 16])
        #expect(bounds("minProviders") == [1, 16])
        #expect(bounds("minCities") == [1, 16])
        #expect(bounds("priority") == [-1_000_000, 1_000_000])
        #expect(bounds("writeQuorum") == [1, 16])
        // `match:` with no value is a catch-all to the parser.
        for kind in ["ResidencyPolicy", "ReplicationPolicy"] {
            let match = Self.property(Self.specSchema(root, kind), "match")
            #expect(match?["type"] as? [String] == ["object", "null"], "\(kind): \(String(describing: match))")
        }
        // Free text: the parser reads `~`, `null`, empty, `3` or `true` as the text they spell.
        let tags = Self.property(Self.specSchema(root, "ResidencyPolicy"), "match", "tags")?["additionalProperties"] as? [String: Any]
        #expect(tags?["type"] as? [String] == ["string", "number", "boolean", "null"], "\(String(describing: tags))")
        let owner = Self.property(root, "metadata", "owner")
        #expect(owner?["type"] as? [String] == ["string", "number", "boolean", "null"], "\(String(describing: owner))")
        let set = parsePolicies(documents(residency("all", "match:"), replication("one", "match: ~\ncopies: 1")))
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.first?.match.isCatchAll == true)
    }

    @Test func theSchemaIsJSONWithASchemaKeyAndTheKinds() throws {
        let text = PolicySchema.json().serialized()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(root["$schema"] as? String != nil)
        for kind in ["ResidencyPolicy", "ReplicationPolicy", "CountryGroup", "PolicyTest"] {
            #expect(text.contains(kind), "schema does not mention \(kind)")
        }
        #expect(text.contains("keyPrefixes") && text.contains("writeQuorum") && text.contains("euHeadquartered"))
    }
}
