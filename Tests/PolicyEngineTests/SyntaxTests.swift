import Foundation
import PolicyEngine
import Testing

/// Document shape: every field of every kind, required fields, types, names, durations and
/// the per-field semantic checks.
@Suite struct SyntaxTests {
    // MARK: every field of every kind

    @Test func everyFieldOfAResidencyPolicyIsParsed() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata:
              name: full-residency
              description: Everything at once.
              owner: dpo@example.fi
            spec:
              match:
                buckets: ["hr-*", "patients"]
                keyPrefixes: ["personal/", "p2/"]
                tags:
                  classification: personal
                  project: "*"
              allow:
                countries: [FI, EU]
                cities: [Helsinki]
                providers: [Hetzner, UpCloud]
                zones: [FI-HEL-HZ-1]
              deny:
                countries: [US]
                cities: [Oslo]
                providers: [AWS]
                zones: [FI-HEL-ST-1]
              require:
                capabilities: [object_lock, versioning]
                certifications: [iso27001, gdpr]
                euHeadquartered: true
            """
        let set = parsePolicies(text, file: "full.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let p = try #require(set.residencyPolicies.first)
        #expect(p.metadata.name == "full-residency")
        #expect(p.metadata.description == "Everything at once.")
        #expect(p.metadata.owner == "dpo@example.fi")
        #expect(p.metadata.location == PolicyEngine.SourceLocation(file: "full.yaml", line: 4, column: 9))
        #expect(p.match.buckets?.map(\.value.pattern) == ["hr-*", "patients"])
        #expect(p.match.buckets?.first?.location == PolicyEngine.SourceLocation(file: "full.yaml", line: 9, column: 15))
        #expect(p.match.keyPrefixes?.map(\.value) == ["personal/", "p2/"])
        let tags = try #require(p.match.tags)
        #expect(tags.map { $0.key } == ["classification", "project"])
        #expect(tags.map { $0.condition } == [.equals("personal"), .present])
        #expect(!p.match.isCatchAll)
        #expect(p.allow?.countries?.map(\.value) == ["FI", "EU"])
        #expect(p.allow?.cities?.map(\.value) == ["Helsinki"])
        #expect(p.allow?.providers?.map(\.value) == ["Hetzner", "UpCloud"])
        #expect(p.allow?.zones?.map(\.value) == ["FI-HEL-HZ-1"])
        #expect(p.deny?.countries?.map(\.value) == ["US"])
        #expect(p.deny?.cities?.map(\.value) == ["Oslo"])
        #expect(p.deny?.providers?.map(\.value) == ["AWS"])
        #expect(p.deny?.zones?.map(\.value) == ["FI-HEL-ST-1"])
        #expect(p.require?.capabilities.map(\.value) == ["object_lock", "versioning"])
        #expect(p.require?.certifications.map(\.value) == ["iso27001", "gdpr"])
        #expect(p.require?.euHeadquartered?.value == true)
        #expect(p.require?.euHeadquartered?.location.line == 27)
        // It also compiles against the shipped catalog.
        let result = PolicyCompiler().compile(set, catalog: Project.catalog)
        #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics.rendered)")
    }

    @Test func everyFieldOfAReplicationPolicyIsParsed() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata:
              name: full-replication
              description: All fields.
              owner: ops@example.fi
            spec:
              match: { keyPrefixes: ["personal/"] }
              priority: 100
              copies: 3
              minProviders: 2
              minCities: 1
              writeQuorum: 2
              replicationDeadline: 15m
              placement: spread
              prefer: [FI-HEL-UC-1, Hetzner]
              versioning: enabled
              immutability:
                mode: governance
                retention: 365d
            """
        let set = parsePolicies(text, file: "rep.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let p = try #require(set.replicationPolicies.first)
        #expect(p.metadata.name == "full-replication")
        #expect(p.metadata.description == "All fields.")
        #expect(p.metadata.owner == "ops@example.fi")
        #expect(p.match.keyPrefixes?.map(\.value) == ["personal/"])
        #expect(p.match.buckets == nil && p.match.tags == nil)
        #expect(p.priority.value == 100)
        #expect(p.priority.location == PolicyEngine.SourceLocation(file: "rep.yaml", line: 9, column: 13))
        #expect(p.copies.value == 3)
        #expect(p.copies.location.line == 10)
        #expect(p.minProviders.value == 2)
        #expect(p.minCities.value == 1)
        #expect(p.writeQuorum?.value == 2)
        #expect(p.effectiveWriteQuorum == 2)
        #expect(p.replicationDeadlineSeconds == 900)
        #expect(p.placement == .spread)
        #expect(p.prefer.map(\.value) == ["FI-HEL-UC-1", "Hetzner"])
        #expect(p.versioning.value == .enabled)
        #expect(p.immutability?.value.mode == .governance)
        #expect(p.immutability?.value.retentionSeconds == Int64(31_536_000))
    }

    @Test func replicationDefaults() throws {
        let set = parsePolicies(replication("defaults", "match: {}\ncopies: 3"))
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let p = try #require(set.replicationPolicies.first)
        #expect(p.priority.value == 0)
        #expect(p.minProviders.value == 1)
        #expect(p.minCities.value == 1)
        #expect(p.writeQuorum == nil)
        #expect(p.effectiveWriteQuorum == 3)  // default = copies
        #expect(p.replicationDeadlineSeconds == nil)
        #expect(p.placement == .ordered)
        #expect(p.prefer.isEmpty)
        #expect(p.versioning.value == .enabled)
        #expect(p.immutability == nil)
        #expect(p.match.isCatchAll)
    }

    @Test(arguments: [("enabled", VersioningMode.enabled), ("suspended", .suspended), ("bucket", .bucket)])
    func versioningModes(_ text: String, _ mode: VersioningMode) throws {
        let set = parsePolicies(replication("v", "match: {}\ncopies: 1\nversioning: \(text)"))
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.replicationPolicies.first?.versioning.value == mode)
    }

    @Test func everyFieldOfACountryGroupAndAPolicyTestIsParsed() throws {
        let text = documents(
            group("baltic", "[EE, LV, LT]"),
            """
            apiVersion: sovereignty/v1
            kind: PolicyTest
            metadata: { name: all-expectations, description: d, owner: o }
            spec:
              cases:
                - name: first case
                  object: { bucket: hr-data, key: personal/a.txt, tags: { classification: personal, x: "y" } }
                  expect:
                    allowed: true
                    zones: [FI-HEL-UC-1, FI-HEL-ST-1]
                    zonesInclude: [FI-HEL-UC-1]
                    zonesExclude: [DE-FSN-HZ-1]
                    copies: 2
                    writeQuorum: 2
                    countries: [FI]
                    replicationPolicy: personal-data-tagged
                    residencyPolicies: [a, b]
                    versioning: enabled
                - object: { bucket: b, key: k }
                  expect: { allowed: false }
            """)
        let set = parsePolicies(text)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let g = try #require(set.countryGroups.first)
        #expect(g.metadata.name == "baltic")
        #expect(g.countries.map(\.value) == ["EE", "LV", "LT"])
        let t = try #require(set.tests.first)
        #expect(t.metadata.name == "all-expectations")
        #expect(t.cases.count == 2)
        let c = t.cases[0]
        #expect(c.name == "first case")
        #expect(c.object == ObjectRef(bucket: "hr-data", key: "personal/a.txt",
                                      tags: [.init(key: "classification", value: "personal"), .init(key: "x", value: "y")]))
        #expect(c.expect.allowed == true)
        #expect(c.expect.zones == ["FI-HEL-UC-1", "FI-HEL-ST-1"])
        #expect(c.expect.zonesInclude == ["FI-HEL-UC-1"])
        #expect(c.expect.zonesExclude == ["DE-FSN-HZ-1"])
        #expect(c.expect.copies == 2)
        #expect(c.expect.writeQuorum == 2)
        #expect(c.expect.countries == ["FI"])
        #expect(c.expect.replicationPolicy == "personal-data-tagged")
        #expect(c.expect.residencyPolicies == ["a", "b"])
        #expect(c.expect.versioning == "enabled")
        #expect(t.cases[1].name == nil)
        #expect(t.cases[1].expect.allowed == false)
        #expect(t.cases[1].expect.zones == nil)
    }

    @Test func unknownExpectationFieldInATestIsAnError() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: PolicyTest
            metadata: { name: t }
            spec:
              cases:
                - object: { bucket: b, key: k }
                  expect: { alowed: true }
            """
        let set = parsePolicies(text)
        let d = try #require(set.diagnostics.with("unknown-field").first)
        #expect(d.at == "7:17")
        #expect(d.hints.contains("did you mean 'allowed'?"))
    }

    // MARK: selectors

    @Test func selectorSemantics() throws {
        let set = parsePolicies(residency("sel", """
            match:
              buckets: ["hr-*", "patients", "log-??"]
              keyPrefixes: ["personal/", "p2/"]
              tags: { classification: personal, project: "*" }
            """))
        let m = try #require(set.residencyPolicies.first?.match)
        let tags = ["classification": "personal", "project": "x"]
        #expect(m.matches(object("hr-data", "personal/a", tags)))
        #expect(m.matches(object("hr-", "p2/x", tags)))
        #expect(m.matches(object("patients", "personal/", tags)))
        #expect(m.matches(object("log-ab", "p2/", tags)))
        #expect(!m.matches(object("log-abc", "p2/", tags)))           // ? is exactly one
        #expect(!m.matches(object("xhr-data", "personal/a", tags)))   // globs match whole names
        #expect(!m.matches(object("HR-data", "personal/a", tags)))    // case-sensitive
        #expect(!m.matches(object("patients2", "personal/a", tags)))
        #expect(!m.matches(object("hr-data", "Personal/a", tags)))    // prefixes are case-sensitive
        #expect(!m.matches(object("hr-data", "x/personal/a", tags)))
        #expect(!m.matches(object("hr-data", "personal/a", ["classification": "personal"])))  // project missing
        #expect(!m.matches(object("hr-data", "personal/a", ["classification": "public", "project": "x"])))
        #expect(m.matches(object("hr-data", "personal/a", ["classification": "personal", "project": ""])))
        let all = parsePolicies(residency("all", "match: {}")).residencyPolicies.first?.match
        #expect(all?.isCatchAll == true)
        #expect(all?.matches(object("anything", "")) == true)
    }

    // MARK: required fields

    /// The `policyctl test` example of the language contract, verbatim: it has no apiVersion.
    static let contractTestExample = (try? String(contentsOfFile: Project.root + "/Tests/Fixtures/contract-policy-test.yaml", encoding: .utf8)) ?? ""

    @Test func aPolicyTestMayLeaveOutApiVersionButNoOtherKindMay() throws {
        let set = parsePolicies(Self.contractTestExample, file: "example.test.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.tests.count == 1)
        #expect(set.tests.first?.cases.first?.expect.zones == ["FI-HEL-UC-1", "FI-HEL-HZ-1"])
        // Given, it must still be the supported version.
        let wrong = parsePolicies("apiVersion: sovereignty/v2\n" + Self.contractTestExample)
        #expect(wrong.diagnostics.codes == ["unsupported-api-version"], "\(wrong.diagnostics.rendered)")
        for kind in ["ResidencyPolicy", "ReplicationPolicy", "CountryGroup"] {
            let other = parsePolicies("kind: \(kind)\nmetadata: {name: a}\nspec: {match: {}, copies: 1, countries: [FI]}\n")
            #expect(other.diagnostics.with("missing-field").contains { $0.message.contains("'apiVersion'") },
                    "\(kind): \(other.diagnostics.rendered)")
        }
    }

    /// "Every *.yaml/*.yml file below the directory is read": hidden files and directories
    /// too; only a Git repository's own `.git` directory is not.
    @Test func hiddenFilesAndDirectoriesAreRead() throws {
        try withTempDir { dir in
            try writeFile(dir + "/.hidden.yaml", anywhere)
            try writeFile(dir + "/.config/replication.yml", oneCopyEverywhere)
            try writeFile(dir + "/groups/.baltic.yaml", group("baltic", "[EE, LV, LT]"))
            try writeFile(dir + "/.git/info.yaml", "this: [is not a policy\n")
            let set = try PolicySet.load(paths: [dir])
            #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
            #expect(set.files.map { String($0.path.dropFirst(dir.count)) } == ["/.config/replication.yml", "/.hidden.yaml", "/groups/.baltic.yaml"])
            #expect(set.residencyPolicies.map(\.metadata.name) == ["anywhere"])
            #expect(set.replicationPolicies.map(\.metadata.name) == ["one-copy"])
            #expect(set.countryGroups.map(\.metadata.name) == ["baltic"])
        }
    }

    /// Directories nested deeper than the limit are not read, and that is an error, not a
    /// silent skip: a policy there would not be enforced.
    @Test func directoriesBelowTheDepthLimitAreAnError() throws {
        try withTempDir { dir in
            let limit = FileReader.maxDirectoryDepth
            let deepest = dir + String(repeating: "/d", count: limit)
            try writeFile(deepest + "/residency.yaml", anywhere)
            try writeFile(deepest + "/d/replication.yaml", oneCopyEverywhere)
            let set = try PolicySet.load(paths: [dir])
            #expect(set.residencyPolicies.map(\.metadata.name) == ["anywhere"])
            #expect(set.replicationPolicies.isEmpty)
            let d = try #require(set.diagnostics.with("directory-too-deep").first, "\(set.diagnostics.rendered)")
            #expect(d.severity == .error)
            #expect(d.message.contains(deepest + "/d "), "\(d.message)")
            #expect(set.diagnostics.count == 1, "\(set.diagnostics.rendered)")
            // The files there may hold a catch-all: no missing-catch-all warning.
            let result = PolicyCompiler().compile(set, catalog: miniCatalog())
            #expect(result.diagnostics.with("missing-catch-all").isEmpty, "\(result.diagnostics.rendered)")
        }
    }

    @Test func missingRequiredFieldsAreErrors() throws {
        let cases: [(text: String, field: String)] = [
            ("kind: ResidencyPolicy\nmetadata: {name: a}\nspec: {match: {}}\n", "apiVersion"),
            ("apiVersion: sovereignty/v1\nmetadata: {name: a}\nspec: {match: {}}\n", "kind"),
            ("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nspec: {match: {}}\n", "metadata"),
            ("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {name: a}\n", "spec"),
            ("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {owner: x}\nspec: {match: {}}\n", "name"),
            ("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {name: a}\nspec: {allow: {countries: [FI]}}\n", "match"),
            ("apiVersion: sovereignty/v1\nkind: ReplicationPolicy\nmetadata: {name: a}\nspec: {match: {}}\n", "copies"),
            ("apiVersion: sovereignty/v1\nkind: ReplicationPolicy\nmetadata: {name: a}\nspec: {copies: 1}\n", "match"),
            ("apiVersion: sovereignty/v1\nkind: CountryGroup\nmetadata: {name: a}\nspec: {}\n", "countries"),
            ("apiVersion: sovereignty/v1\nkind: PolicyTest\nmetadata: {name: a}\nspec: {}\n", "cases"),
            ("apiVersion: sovereignty/v1\nkind: PolicyTest\nmetadata: {name: a}\nspec: {cases: [{expect: {}}]}\n", "object"),
            ("apiVersion: sovereignty/v1\nkind: PolicyTest\nmetadata: {name: a}\nspec: {cases: [{object: {bucket: b, key: k}}]}\n", "expect"),
            ("apiVersion: sovereignty/v1\nkind: PolicyTest\nmetadata: {name: a}\nspec: {cases: [{object: {bucket: b}, expect: {}}]}\n", "key"),
            ("apiVersion: sovereignty/v1\nkind: ReplicationPolicy\nmetadata: {name: a}\nspec: {match: {}, copies: 1, immutability: {mode: compliance}}\n", "retention"),
        ]
        for c in cases {
            let set = parsePolicies(c.text, file: "m.yaml")
            let missing = set.diagnostics.with("missing-field")
            #expect(missing.count == 1, "\(c.field): \(set.diagnostics.rendered)")
            #expect(missing.first?.message.contains("'\(c.field)'") == true, "\(c.field): \(set.diagnostics.rendered)")
            #expect(missing.first?.location?.file == "m.yaml")
            #expect(missing.first?.severity == .error)
        }
    }

    @Test func missingFieldIsLocatedAtTheMappingThatLacksIt() throws {
        let set = parsePolicies(replication("nocopies", "match: {}\npriority: 3"), file: "r.yaml")
        #expect(set.diagnostics.with("missing-field").map(\.at) == ["6:3"])
    }

    // MARK: types

    @Test func wrongTypesAreErrorsAtTheValue() throws {
        let cases: [(spec: String, at: String)] = [
            ("match: {}\ncopies: three", "7:11"),
            ("match: {}\ncopies: \"3\"", "7:11"),
            ("match: {}\ncopies: 2.5", "7:11"),
            ("match: {}\ncopies: [3]", "7:11"),
            ("match: []\ncopies: 1", "6:10"),
            ("match: {tags: [a]}\ncopies: 1", "6:17"),
            ("match: {buckets: b}\ncopies: 1", "6:20"),
            ("match: {buckets: [[b]]}\ncopies: 1", "6:21"),
            ("match: {}\ncopies: 1\nprefer: FI-HEL-UC-1", "8:11"),
            ("match: {}\ncopies: 1\npriority: high", "8:13"),
            ("match: {}\ncopies: 1\nimmutability: forever", "8:17"),
            ("match: {}\ncopies: 1\nreplicationDeadline: [1h]", "8:24"),
        ]
        for c in cases {
            let set = parsePolicies(replication("types", c.spec), file: "t.yaml")
            let wrong = set.diagnostics.with("wrong-type")
            #expect(wrong.map(\.at) == [c.at], "\(c.spec): \(set.diagnostics.rendered)")
            #expect(wrong.first?.severity == .error)
        }
    }

    @Test func aScalarWhereAListIsExpectedHintsAtTheListForm() throws {
        let set = parsePolicies(residency("r", "match: {}\nallow:\n  countries: FI"))
        let d = try #require(set.diagnostics.with("wrong-type").first)
        #expect(d.at == "8:16")
        #expect(d.hints.contains { $0.contains("[FI]") })
    }

    @Test func metadataAndNamesMustBeStringsAndMappings() throws {
        #expect(parsePolicies("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: x\nspec: {match: {}}\n")
            .diagnostics.with("wrong-type").map(\.at) == ["3:11"])
        #expect(parsePolicies("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {name: [a]}\nspec: {match: {}}\n")
            .diagnostics.with("wrong-type").map(\.at) == ["3:18"])
        // An empty name is the empty string: not a DNS label, an error about the value.
        let empty = parsePolicies("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {name: }\nspec: {match: {}}\n")
        #expect(empty.diagnostics.codes == ["invalid-name"], "\(empty.diagnostics.rendered)")
        #expect(empty.diagnostics.first?.message.contains("''") == true)
    }

    /// Where a string is expected every scalar is a string: a plain `~`, `null` or empty value
    /// is the text it spells, not a missing value.
    @Test func nullLikeScalarsAreStringsWhereAStringIsExpected() throws {
        let text = documents(
            residency("tagged", "match:\n  tags: { owner: ~, team: null, project: }\nallow:\n  cities: [Helsinki]"),
            doc("ReplicationPolicy", "one", "match: {}\ncopies: 1"), anywhere)
        let set = parsePolicies(text)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let tags = try #require(set.residencyPolicies.first?.match.tags)
        #expect(tags.map(\.key) == ["owner", "team", "project"])
        #expect(tags.map(\.condition) == [.equals("~"), .equals("null"), .equals("")])
        let result = PolicyCompiler().compile(set, catalog: miniCatalog())
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        let plan = result.compiled.plan(for: object("b", "k", ["owner": "~", "team": "null", "project": ""]))
        #expect(plan.residencyPolicies.sorted() == ["anywhere", "tagged"])
        #expect(plan.zones.allSatisfy { $0.city == "Helsinki" })
        let meta = parsePolicies("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: {name: a, owner: ~, description: }\nspec: {match: {}}\n")
        #expect(meta.diagnostics.isEmpty, "\(meta.diagnostics.rendered)")
        #expect(meta.residencyPolicies.first?.metadata.owner == "~")
    }

    /// An empty country, city, provider or zone names nothing: an error about the value; and
    /// a refused entry is followed by no other finding (no "allow.x is empty", no unsatisfiable
    /// class) drawn from the list without it.
    @Test func aRefusedEntryIsReportedOnceAndNothingFollowsFromIt() throws {
        let cases: [(spec: String, code: String, message: String)] = [
            ("allow:\n  countries: [\"\"]", "invalid-value", "spec.allow.countries[0] is empty"),
            ("allow:\n  countries: []\n  zones: [ ]\n", "", ""),
            ("allow:\n  zones: [~]", "unknown-zone", "unknown zone '~'"),
            ("allow:\n  countries: [null]", "unknown-country", "'null' is neither"),
            ("allow:\n  cities: [{a: b}]", "wrong-type", "spec.allow.cities[0] must be a string"),
            ("allow:\n  providers: ['']", "invalid-value", "spec.allow.providers[0] is empty"),
            ("deny:\n  zones: ['']\nallow:\n  countries: [SE]", "invalid-value", "spec.deny.zones[0] is empty"),
            ("require:\n  capabilities: ['']", "invalid-value", "spec.require.capabilities[0] is empty"),
        ]
        for c in cases where !c.code.isEmpty {
            let text = documents(residency("r", "match: {}\n" + c.spec),
                                 replication("two", "match: {}\ncopies: 2"))
            let result = compile(text, catalog: miniCatalog())
            #expect(result.diagnostics.codes == [c.code], "\(c.spec): \(result.diagnostics.rendered)")
            #expect(result.diagnostics.first?.message.contains(c.message) == true, "\(c.spec): \(result.diagnostics.rendered)")
        }
        // A list written empty still gets its warning, and its class is still unsatisfiable.
        let empty = compile(documents(residency("r", "match: {}\nallow:\n  cities: []"), replication("two", "match: {}\ncopies: 2")),
                            catalog: miniCatalog())
        #expect(empty.diagnostics.codes.sorted() == ["empty-list", "unsatisfiable"], "\(empty.diagnostics.rendered)")
        // The same for the selector's lists and a country group.
        let buckets = parsePolicies(residency("r", "match:\n  buckets: [[a]]"))
        #expect(buckets.diagnostics.codes == ["wrong-type"], "\(buckets.diagnostics.rendered)")
        let group = parsePolicies(doc("CountryGroup", "g", "countries: ['']"))
        #expect(group.diagnostics.codes == ["invalid-value"], "\(group.diagnostics.rendered)")
    }

    @Test func apiVersionAndKindAreChecked() throws {
        let v2 = parsePolicies("apiVersion: sovereignty/v2\nkind: ResidencyPolicy\nmetadata: {name: a}\nspec: {match: {}}\n")
        #expect(v2.diagnostics.with("unsupported-api-version").map(\.at) == ["1:13"])
        let kind = parsePolicies("apiVersion: sovereignty/v1\nkind: ResidencyPolicies\nmetadata: {name: a}\nspec: {match: {}}\n")
        let d = try #require(kind.diagnostics.with("unknown-kind").first)
        #expect(d.at == "2:7")
        #expect(d.hints.contains("did you mean 'ResidencyPolicy'?"))
        // Kinds are case-sensitive.
        let lower = parsePolicies("apiVersion: sovereignty/v1\nkind: residencypolicy\nmetadata: {name: a}\nspec: {match: {}}\n")
        #expect(lower.diagnostics.with("unknown-kind").count == 1)
        #expect(lower.residencyPolicies.isEmpty)
    }

    @Test func enumFieldsRejectUnknownValuesWithAHint() throws {
        let placement = parsePolicies(replication("p", "match: {}\ncopies: 1\nplacement: sprad"))
        let d = try #require(placement.diagnostics.with("invalid-value").first)
        #expect(d.at == "8:14")
        #expect(d.hints.contains("did you mean 'spread'?"))
        #expect(parsePolicies(replication("v", "match: {}\ncopies: 1\nversioning: on"))
            .diagnostics.with("invalid-value").map(\.at) == ["8:15"])
        #expect(parsePolicies(replication("m", "match: {}\ncopies: 1\nimmutability: {mode: legal-hold, retention: 1d}"))
            .diagnostics.with("invalid-value").count == 1)
    }

    @Test func integerRanges() throws {
        for (spec, ok) in [("copies: 0", false), ("copies: 1", true), ("copies: 16", true), ("copies: 17", false),
                           ("copies: -1", false), ("copies: 2\nminProviders: 0", false), ("copies: 2\nminCities: 0", false)] {
            let set = parsePolicies(replication("r", "match: {}\n" + spec))
            #expect(set.diagnostics.errors.isEmpty == ok, "\(spec): \(set.diagnostics.rendered)")
            if !ok { #expect(set.diagnostics.errors.first?.code == "invalid-value", "\(spec)") }
        }
    }

    @Test func diversityLargerThanCopiesIsAnError() throws {
        let providers = parsePolicies(replication("r", "match: {}\ncopies: 2\nminProviders: 3"))
        #expect(providers.diagnostics.with("invalid-value").map(\.at) == ["8:17"])
        let cities = parsePolicies(replication("r", "match: {}\ncopies: 2\nminCities: 3"))
        #expect(cities.diagnostics.with("invalid-value").map(\.at) == ["8:14"])
        #expect(parsePolicies(replication("r", "match: {}\ncopies: 3\nminProviders: 3\nminCities: 3")).diagnostics.isEmpty)
    }

    // MARK: names

    @Test(arguments: ["a", "abc", "abc-123", "0abc", "a1", "x-y-z", String(repeating: "a", count: 63), "eu-default-residency"])
    func validDNSLabelNames(_ name: String) throws {
        let set = parsePolicies(residency("'\(name)'", "match: {}"))
        #expect(set.diagnostics.isEmpty, "\(name): \(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.first?.metadata.name == name)
    }

    @Test(arguments: ["Abc", "ABC", "-abc", "abc-", "a_b", "a.b", "a b", "ä", String(repeating: "a", count: 64), "hr/data", ""])
    func invalidDNSLabelNames(_ name: String) throws {
        let set = parsePolicies(residency("'\(name)'", "match: {}"), file: "n.yaml")
        let errors = set.diagnostics.errors
        #expect(errors.count == 1, "\(name.debugDescription): \(set.diagnostics.rendered)")
        #expect(errors.first?.code == "invalid-name")
        #expect(errors.first?.at == "4:9")
    }

    @Test func duplicateNamesPerKindAreErrorsButTheSameNameInTwoKindsIsFine() throws {
        let set = parsePolicies(files: [
            ("a.yaml", documents(residency("same", "match: {}"), replication("same", "match: {}\ncopies: 1"),
                                 group("same", "[FI]"))),
            ("b.yaml", documents(residency("same", "match: {buckets: [x]}"), replication("other", "match: {}\ncopies: 1"))),
        ])
        let dups = set.diagnostics.with("duplicate-name")
        #expect(dups.count == 1, "\(set.diagnostics.rendered)")
        let d = try #require(dups.first)
        #expect(d.shortLocation == "b.yaml:4:9")
        #expect(d.related.first.map { "\(URL(fileURLWithPath: $0.location.file).lastPathComponent):\($0.location.line):\($0.location.column)" } == "a.yaml:4:9")
        #expect(d.message.contains("ResidencyPolicy"))
        #expect(d.message.contains("'same'"))
    }

    @Test func duplicateGroupAndTestNamesAreErrors() throws {
        let set = parsePolicies(documents(group("g", "[FI]"), group("g", "[SE]")))
        #expect(set.diagnostics.with("duplicate-name").map(\.at) == ["11:9"])
    }

    // MARK: durations

    @Test(arguments: [("30s", Int64(30)), ("15m", 900), ("2h", 7200), ("365d", 31_536_000), ("1w", 604_800),
                      ("1y", 31_536_000), ("7y", 220_752_000), ("90d", 7_776_000), ("1s", 1)])
    func validDurations(_ text: String, _ seconds: Int64) throws {
        let set = parsePolicies(replication("d", """
            match: {}
            copies: 1
            replicationDeadline: \(text)
            immutability: { mode: compliance, retention: \(text) }
            """))
        #expect(set.diagnostics.isEmpty, "\(text): \(set.diagnostics.rendered)")
        let p = try #require(set.replicationPolicies.first)
        #expect(p.replicationDeadlineSeconds == seconds)
        #expect(p.immutability?.value.retentionSeconds == seconds)
        #expect(p.immutability?.value.mode == .compliance)
    }

    @Test(arguments: ["15", "m", "0m", "-1d", "1.5h", "15min", "15M", "1x", "y7", "15 m", "+5m", "''", "1d2h", "99999999999999999y"])
    func invalidDurations(_ text: String) throws {
        let set = parsePolicies(replication("d", "match: {}\ncopies: 1\nreplicationDeadline: \(text)"), file: "d.yaml")
        let errors = set.diagnostics.errors
        #expect(errors.count == 1, "\(text): \(set.diagnostics.rendered)")
        #expect(errors.first?.code == "invalid-value")
        #expect(errors.first?.at == "8:24")
    }

    // MARK: writeQuorum

    @Test func writeQuorumMustBeOneToCopies() throws {
        for (q, ok) in [(0, false), (1, true), (2, true), (3, true), (4, false), (-1, false)] {
            let set = parsePolicies(replication("q", "match: {}\ncopies: 3\nwriteQuorum: \(q)"), file: "q.yaml")
            if ok {
                #expect(set.diagnostics.isEmpty, "writeQuorum \(q): \(set.diagnostics.rendered)")
                #expect(set.replicationPolicies.first?.effectiveWriteQuorum == q)
            } else {
                #expect(set.diagnostics.with("invalid-quorum").map(\.at) == ["8:16"], "writeQuorum \(q): \(set.diagnostics.rendered)")
            }
        }
    }

    // MARK: immutability

    @Test(arguments: ["suspended", "bucket"])
    func immutabilityRequiresVersioningEnabled(_ versioning: String) throws {
        let set = parsePolicies(replication("imm", """
            match: {}
            copies: 1
            versioning: \(versioning)
            immutability:
              mode: compliance
              retention: 1y
            """), file: "imm.yaml")
        let d = try #require(set.diagnostics.with("immutability-needs-versioning").first)
        #expect(d.severity == .error)
        #expect(d.location == PolicyEngine.SourceLocation(file: "imm.yaml", line: 10, column: 5))
    }

    @Test func immutabilityWithDefaultOrExplicitVersioningIsFine() throws {
        for spec in ["match: {}\ncopies: 1\nimmutability: {mode: compliance, retention: 1y}",
                     "match: {}\ncopies: 1\nversioning: enabled\nimmutability: {mode: governance, retention: 30d}"] {
            let set = parsePolicies(replication("imm", spec))
            #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
            #expect(set.replicationPolicies.first?.immutability != nil)
        }
    }

    // MARK: prefer

    @Test func preferWithAnUnknownZoneIsAnErrorWithAHint() throws {
        let text = documents(anywhere, replication("pref", """
            match: {}
            copies: 1
            prefer: [FI-HEL-UC-9, upcloud, FI-HEL-ST-1]
            """))
        let result = compile(text, catalog: Project.catalog, file: "pref.yaml")
        let unknown = result.diagnostics.with("unknown-zone")
        #expect(unknown.count == 1, "\(result.diagnostics.rendered)")
        let d = try #require(unknown.first)
        #expect(d.severity == .error)
        #expect(d.location == PolicyEngine.SourceLocation(file: "pref.yaml", line: 15, column: 12))
        #expect(d.message.contains("FI-HEL-UC-9"))
        #expect(d.hints.contains("did you mean 'FI-HEL-UC-1'?"))
        // `upcloud` (a provider, any case) and a known zone code are fine.
        #expect(result.diagnostics.errors.count == 1)
    }
}
