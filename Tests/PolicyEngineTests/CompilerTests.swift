import Foundation
import PolicyEngine
import Testing

/// Residency semantics, set-level validation (unsatisfiable, ambiguous, catch-all) and
/// fail-closed planning. Most tests use `miniCatalog()` (see TestSupport.swift).
@Suite struct CompilerTests {
    /// Eligible zone codes of `object` under the residency policies `docs` (plus a one-copy
    /// catch-all replication policy).
    static func eligible(_ docs: [String], _ obj: ObjectRef = object("b", "k"), catalog: Catalog = miniCatalog())
        -> (codes: [String], result: PolicyCompiler.Result) {
        let result = compile(documents(docs + [oneCopyEverywhere]), catalog: catalog)
        return (result.compiled.plan(for: obj).eligibleCodes, result)
    }

    // MARK: residency semantics

    @Test func allMatchingResidencyPoliciesApplyAndTheirEligibleZonesIntersect() throws {
        let docs = [
            residency("eu", "match: {}\nallow:\n  countries: [EU]"),
            residency("hr", "match: {buckets: [\"hr-*\"]}\nallow:\n  countries: [FI, SE, NO]"),
            residency("no-espoo", "match: {keyPrefixes: [x/]}\ndeny:\n  cities: [espoo]"),
        ]
        let result = compile(documents(docs + [oneCopyEverywhere]), catalog: miniCatalog())
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        let compiled = result.compiled
        let hr = compiled.plan(for: object("hr-a", "k"))
        #expect(hr.eligibleCodes == ["FI-HEL-A-1", "FI-HEL-B-1", "FI-ESP-A-1", "SE-STO-B-1", "SE-STO-C-1"])
        #expect(hr.residencyPolicies == ["eu", "hr"])
        let hrx = compiled.plan(for: object("hr-a", "x/k"))
        #expect(hrx.eligibleCodes == ["FI-HEL-A-1", "FI-HEL-B-1", "SE-STO-B-1", "SE-STO-C-1"])
        #expect(hrx.residencyPolicies == ["eu", "hr", "no-espoo"])
        let web = compiled.plan(for: object("web", "k"))
        #expect(web.eligibleCodes == ["FI-HEL-A-1", "FI-HEL-B-1", "FI-ESP-A-1", "SE-STO-B-1", "SE-STO-C-1", "DE-BER-C-1"])
        #expect(web.residencyPolicies == ["eu"])
        // There is no priority among residency policies: a broader policy cannot widen a narrower one.
        let wide = Self.eligible([residency("fi", "match: {}\nallow:\n  countries: [FI]"),
                                  residency("world", "match: {}\nallow:\n  countries: [FI, SE, DE, NO, US]")])
        #expect(wide.codes == ["FI-HEL-A-1", "FI-HEL-B-1", "FI-ESP-A-1"])
    }

    @Test func denyWinsOverAllow() throws {
        let cases: [(String, [String])] = [
            ("allow:\n  countries: [FI, SE]\ndeny:\n  providers: [provb]", ["FI-HEL-A-1", "FI-ESP-A-1", "SE-STO-C-1"]),
            ("allow:\n  zones: [FI-HEL-A-1, SE-STO-B-1]\ndeny:\n  zones: [SE-STO-B-1]", ["FI-HEL-A-1"]),
            ("allow:\n  countries: [EU]\ndeny:\n  countries: [SE]", ["FI-HEL-A-1", "FI-HEL-B-1", "FI-ESP-A-1", "DE-BER-C-1"]),
            ("allow:\n  providers: [ProvA, ProvB]\ndeny:\n  cities: [HELSINKI]", ["FI-ESP-A-1", "SE-STO-B-1"]),
            ("allow:\n  countries: [FI]\ndeny:\n  countries: [FI]", []),
            ("deny:\n  countries: [EU]", ["NO-OSL-D-1", "US-IAD-E-1"]),
        ]
        for (spec, expected) in cases {
            let (codes, result) = Self.eligible([residency("r", "match: {}\n" + spec)])
            #expect(codes == expected, "\(spec)")
            #expect(result.diagnostics.with("unknown-country").isEmpty && result.diagnostics.with("unknown-zone").isEmpty)
        }
    }

    @Test func everyGivenAllowListMustAdmitTheZone() throws {
        #expect(Self.eligible([residency("r", "match: {}\nallow:\n  countries: [FI, SE]\n  providers: [ProvB]")]).codes
                == ["FI-HEL-B-1", "SE-STO-B-1"])
        #expect(Self.eligible([residency("r", "match: {}\nallow:\n  cities: [Helsinki, Berlin]\n  providers: [ProvC, ProvA]")]).codes
                == ["FI-HEL-A-1", "DE-BER-C-1"])
        #expect(Self.eligible([residency("r", "match: {}\nallow:\n  zones: [FI-HEL-A-1, US-IAD-E-1]\n  countries: [EEA]")]).codes
                == ["FI-HEL-A-1"])
    }

    @Test func anEmptyAllowListAdmitsNothing() throws {
        for field in ["countries", "cities", "providers", "zones"] {
            let text = documents(residency("nothing", "match: {}\nallow:\n  \(field): []"), oneCopyEverywhere)
            let result = compile(text, catalog: miniCatalog(), file: "e.yaml")
            let plan = result.compiled.plan(for: object("b", "k"))
            #expect(plan.eligibleZones.isEmpty, "\(field)")
            #expect(!plan.allowed, "\(field)")
            #expect(plan.zones.isEmpty)
            let warning = try #require(result.diagnostics.with("empty-list").first, "\(field): \(result.diagnostics.rendered)")
            #expect(warning.severity == .warning)
            #expect(warning.location?.line == 8)
            #expect(result.diagnostics.with("unsatisfiable").count == 1)
        }
        // An empty deny list denies nothing.
        #expect(Self.eligible([residency("r", "match: {}\ndeny:\n  countries: []")]).codes.count == miniRows.count)
    }

    @Test func providerAndCityNamesCompareWithoutRegardToCase() throws {
        #expect(Self.eligible([residency("r", "match: {}\nallow:\n  providers: [PROVA, provc]\n  cities: [helsinki, BERLIN]")]).codes
                == ["FI-HEL-A-1", "DE-BER-C-1"])
        #expect(Self.eligible([residency("r", "match: {}\ndeny:\n  providers: [PROVB, Provc]\n  cities: [oSLo]")]).codes
                == ["FI-HEL-A-1", "FI-ESP-A-1", "US-IAD-E-1"])
        // Zone codes and country codes are exact.
        let (codes, result) = Self.eligible([residency("r", "match: {}\nallow:\n  zones: [fi-hel-a-1]")])
        #expect(codes.isEmpty)
        #expect(result.diagnostics.with("unknown-zone").count == 1)
    }

    @Test func unknownProvidersAndCitiesAreWarningsWithHints() throws {
        let text = documents(residency("r", "match: {}\nallow:\n  providers: [ProvX]\n  cities: [Helsingki]"), oneCopyEverywhere)
        let result = compile(text, catalog: miniCatalog(), file: "w.yaml")
        let provider = try #require(result.diagnostics.with("unknown-provider").first)
        #expect(provider.severity == .warning)
        #expect(provider.at == "8:17")
        #expect(provider.hints.contains { $0.hasPrefix("did you mean 'Prov") })
        let city = try #require(result.diagnostics.with("unknown-city").first)
        #expect(city.severity == .warning)
        #expect(city.at == "9:14")
        #expect(city.hints.contains("did you mean 'Helsinki'?"))
    }

    @Test func requireClauses() throws {
        #expect(Self.eligible([residency("r", "match: {}\nrequire:\n  capabilities: [object_lock]")]).codes
                == ["FI-HEL-A-1", "SE-STO-B-1", "DE-BER-C-1", "US-IAD-E-1"])
        #expect(Self.eligible([residency("r", "match: {}\nrequire:\n  capabilities: [object_lock]\n  certifications: [iso27001]")]).codes
                == ["DE-BER-C-1", "US-IAD-E-1"])
        #expect(Self.eligible([residency("r", "match: {}\nrequire:\n  euHeadquartered: true")]).codes
                == ["FI-HEL-A-1", "DE-BER-C-1"])
        #expect(Self.eligible([residency("r", "match: {}\nrequire:\n  euHeadquartered: false\n  capabilities: [object_lock]")]).codes
                == ["SE-STO-B-1", "US-IAD-E-1"])
        // Requirements from two policies add up.
        #expect(Self.eligible([residency("a", "match: {}\nrequire:\n  capabilities: [object_lock]"),
                               residency("b", "match: {}\nallow:\n  countries: [EU]")]).codes
                == ["FI-HEL-A-1", "SE-STO-B-1", "DE-BER-C-1"])
    }

    @Test func unknownFlagsAreErrorsWithAHint() throws {
        let text = documents(residency("r", "match: {}\nrequire:\n  capabilities: [object_lok]"), oneCopyEverywhere)
        let result = compile(text, catalog: miniCatalog(), file: "f.yaml")
        let d = try #require(result.diagnostics.with("unknown-flag").first)
        #expect(d.severity == .error)
        #expect(d.at == "8:20")
        #expect(d.hints.contains("did you mean 'object_lock'?"))
    }

    // MARK: unsatisfiable classes

    @Test func anUnsatisfiableClassIsAnErrorNamingThePoliciesWithAWitnessAndPerZoneReasons() throws {
        let text = documents(
            residency("eu-only", "match: {}\nallow:\n  countries: [EU]"),
            residency("fi-only", "match: {buckets: [\"fi-*\"]}\nallow:\n  countries: [FI]"),
            replication("four", "match: {}\ncopies: 4"))
        let result = compile(text, catalog: miniCatalog(), file: "u.yaml")
        let unsat = result.diagnostics.with("unsatisfiable")
        #expect(unsat.count == 1, "\(result.diagnostics.rendered)")
        let d = try #require(unsat.first)
        #expect(d.severity == .error)
        #expect(d.location?.file == "u.yaml")
        #expect(d.at == position(of: "copies: 4", in: text, offset: 8))
        #expect(d.message.contains("'eu-only'") && d.message.contains("'fi-only'") && d.message.contains("'four'"))
        #expect(d.message.contains("s3://fi-"))  // the witness object
        #expect(d.hints.contains { $0.contains("3 eligible zones for 4 copies") }, "\(d.hints)")
        #expect(d.hints.contains("eligible zones: FI-HEL-A-1, FI-HEL-B-1, FI-ESP-A-1"))
        let allowAt = position(of: "[FI]", in: text, offset: 1)
        #expect(d.hints.contains("SE-STO-B-1: residency policy 'fi-only': allow.countries [FI] does not admit country SE (u.yaml:\(allowAt))"),
                "\(d.hints)")
        #expect(d.hints.contains { $0.hasPrefix("US-IAD-E-1: ") && $0.contains("'eu-only'") && $0.contains("'fi-only'") })
        #expect(d.related.count == 2)
        // The EU class (6 zones) is fine; a witness object of the bad class is refused at plan time.
        #expect(result.compiled.plan(for: object("web", "k")).allowed)
        let refused = result.compiled.plan(for: object("fi-data", "k"))
        #expect(!refused.allowed)
        #expect(refused.reasons.contains { $0.contains("'four'") && $0.contains("3 eligible zones for 4 copies") })
    }

    @Test func unreachableDiversityIsUnsatisfiable() throws {
        let text = documents(
            residency("only-a", "match: {}\nallow:\n  providers: [ProvA]"),
            replication("two-providers", "match: {}\ncopies: 2\nminProviders: 2"))
        let result = compile(text, catalog: miniCatalog(), file: "d.yaml")
        let d = try #require(result.diagnostics.with("unsatisfiable").first, "\(result.diagnostics.rendered)")
        #expect(d.hints.contains { $0.contains("minProviders 2") })
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(!plan.allowed)
        #expect(plan.zones.isEmpty)
        #expect(plan.eligibleCodes == ["FI-HEL-A-1", "FI-ESP-A-1"])
        // Two cities where all eligible zones are in one city.
        let cities = compile(documents(residency("hel", "match: {}\nallow:\n  cities: [Helsinki]"),
                                       replication("two-cities", "match: {}\ncopies: 2\nminCities: 2")),
                             catalog: miniCatalog())
        #expect(cities.diagnostics.with("unsatisfiable").count == 1)
        #expect(!cities.compiled.plan(for: object("b", "k")).allowed)
    }

    // MARK: ambiguity

    @Test func equalPriorityReplicationPoliciesThatCanMatchTheSameObjectAreAmbiguous() throws {
        let text = documents(
            anywhere,
            replication("logs", "match: {buckets: [\"logs-*\"]}\npriority: 50\ncopies: 1"),
            replication("tmp", "match: {keyPrefixes: [tmp/]}\npriority: 50\ncopies: 2"),
            replication("rest", "match: {}\npriority: 0\ncopies: 1"))
        let result = compile(text, catalog: miniCatalog(), file: "amb.yaml")
        let amb = result.diagnostics.with("ambiguous-replication")
        #expect(amb.count == 1, "\(result.diagnostics.rendered)")
        let d = try #require(amb.first)
        #expect(d.severity == .error)
        #expect(d.message.contains("'logs'") && d.message.contains("'tmp'"))
        #expect(d.message.contains("s3://logs-"))
        #expect(d.message.contains("tmp/"))
        // Both policies are named with file:line:col (one as the location, the other related).
        let logsAt = "amb.yaml:" + position(of: "name: logs", in: text, offset: 6)
        let tmpAt = "amb.yaml:" + position(of: "name: tmp", in: text, offset: 6)
        let named = Set([d.location.map(\.description)].compactMap { $0 } + d.related.map(\.location.description))
        #expect(named.contains(logsAt) && named.contains(tmpAt), "\(named)")
    }

    /// The witness of an ambiguity is an object both policies really match: for a policy of the
    /// bucket `""` that is the empty bucket name, not a stand-in such as `-`.
    @Test func theWitnessOfAnAmbiguityMatchesBothPolicies() throws {
        let cases: [(String, String)] = [
            ("match: {buckets: [\"\"]}", "match: {}"),
            ("match: {buckets: [\"\", \"-\"]}", "match: {buckets: [\"*\"]}"),
            ("match: {buckets: [\"-\"]}", "match: {buckets: [\"\", \"-\"]}"),
        ]
        for (a, b) in cases {
            let text = documents(anywhere, replication("one", a + "\npriority: 5\ncopies: 1"),
                                 replication("two", b + "\npriority: 5\ncopies: 1"), oneCopyEverywhere)
            let result = compile(text, catalog: miniCatalog())
            let d = try #require(result.diagnostics.with("ambiguous-replication").first, "\(a) / \(b): \(result.diagnostics.rendered)")
            let text2 = d.message
            let start = try #require(text2.range(of: "objects such as s3://"))
            let path = text2[start.upperBound...]
            let slash = try #require(path.firstIndex(of: "/"))
            let witness = object(String(path[..<slash]), String(path[path.index(after: slash)...]))
            let policies = result.compiled.replicationPolicies
            #expect(policies.filter { $0.match.matches(witness) }.map(\.metadata.name).sorted() == ["one", "one-copy", "two"],
                    "\(a) / \(b): \(d.message)")
        }
    }

    @Test func equalPrioritiesWithDisjointSelectorsAreFine() throws {
        let disjoint: [(String, String)] = [
            ("match: {buckets: [a]}", "match: {buckets: [b]}"),
            ("match: {buckets: [\"a?\"]}", "match: {buckets: [abc]}"),
            ("match: {keyPrefixes: [x/]}", "match: {keyPrefixes: [y/]}"),
            ("match: {tags: {c: p}}", "match: {tags: {c: q}}"),
        ]
        for (a, b) in disjoint {
            let text = documents(anywhere, replication("one", a + "\npriority: 5\ncopies: 1"),
                                 replication("two", b + "\npriority: 5\ncopies: 1"), oneCopyEverywhere)
            let result = compile(text, catalog: miniCatalog())
            #expect(result.diagnostics.with("ambiguous-replication").isEmpty, "\(a) / \(b): \(result.diagnostics.rendered)")
        }
        let overlapping: [(String, String)] = [
            ("match: {buckets: [\"a*\"]}", "match: {buckets: [\"*b\"]}"),
            ("match: {tags: {c: \"*\"}}", "match: {tags: {c: q}}"),
            ("match: {keyPrefixes: [x/]}", "match: {keyPrefixes: [x/y/]}"),
            ("match: {}", "match: {tags: {c: q}}"),
        ]
        for (a, b) in overlapping {
            let text = documents(anywhere, replication("one", a + "\npriority: 5\ncopies: 1"),
                                 replication("two", b + "\npriority: 5\ncopies: 1"), oneCopyEverywhere)
            let result = compile(text, catalog: miniCatalog())
            #expect(result.diagnostics.with("ambiguous-replication").count == 1, "\(a) / \(b): \(result.diagnostics.rendered)")
        }
    }

    /// Bucket-glob analysis explores a bounded number of automaton states. When it stops early
    /// it must say so (`analysis-limit`), never report a set valid that has an ambiguity:
    /// here `left` and `right` both match the bucket `zzzzzzzzzzzzzzzz`, which none of the twelve
    /// `*…*` globs matches, but the exploration runs out of states before reaching length 16.
    @Test func analysisThatStopsEarlyMustNotCallAnAmbiguousSetValid() throws {
        let globs = ["aabba", "abbaa", "bbbaa", "abaaa", "ababb", "bbbba", "baaab", "abbbb", "bbbab", "ababa", "bbaba", "baabb"]
        let z = String(repeating: "z", count: 16)
        var docs = [anywhere, oneCopyEverywhere]
        for (i, g) in globs.enumerated() {
            docs.append(replication("x\(i)", "match: {buckets: [\"*\(g)*\"]}\npriority: \(100 + i)\ncopies: 1"))
        }
        docs.append(replication("left", "match: {buckets: [\"\(z)*\"]}\npriority: 50\ncopies: 1"))
        docs.append(replication("right", "match: {buckets: [\"*\(z)\"]}\npriority: 50\ncopies: 1"))
        let result = compile(documents(docs), catalog: Self.oneZone)
        // The object exists and both policies match it.
        let plan = result.compiled.plan(for: object(z, "k"))
        #expect(plan.replicationPolicy.map { ["left", "right"].contains($0.metadata.name) } == true)
        let reported = !result.diagnostics.with("ambiguous-replication").isEmpty
            || !result.diagnostics.with("analysis-limit").isEmpty
        #expect(reported, "validation calls the set valid: \(result.diagnostics.rendered)")
    }

    static let oneZone = makeCatalog([ZoneRow("FI-HEL-Z-1", "Prov", "FI", "Helsinki")])

    @Test func theHighestPriorityMatchingReplicationPolicyApplies() throws {
        let text = documents(
            anywhere,
            replication("low", "match: {}\npriority: -5\ncopies: 1"),
            replication("mid", "match: {buckets: [\"m*\"]}\npriority: 10\ncopies: 2"),
            replication("high", "match: {tags: {k: v}}\npriority: 20\ncopies: 3"))
        let result = compile(text, catalog: miniCatalog())
        #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics.rendered)")
        let c = result.compiled
        #expect(c.plan(for: object("x", "k")).replicationPolicy?.metadata.name == "low")
        #expect(c.plan(for: object("mx", "k")).replicationPolicy?.metadata.name == "mid")
        #expect(c.plan(for: object("mx", "k", ["k": "v"])).replicationPolicy?.metadata.name == "high")
        #expect(c.plan(for: object("x", "k", ["k": "w"])).copies == 1)
        #expect(c.plan(for: object("x", "k", ["k": "v"])).copies == 3)
    }

    @Test func aReplicationPolicyThatNeverWinsIsAWarning() throws {
        let text = documents(anywhere,
                             replication("all", "match: {}\npriority: 100\ncopies: 1"),
                             replication("shadowed", "match: {buckets: [x]}\npriority: 50\ncopies: 2"))
        let result = compile(text, catalog: miniCatalog(), file: "n.yaml")
        let d = try #require(result.diagnostics.with("never-applies").first, "\(result.diagnostics.rendered)")
        #expect(d.severity == .warning)
        #expect(d.message.contains("'shadowed'"))
        #expect(d.at == position(of: "name: shadowed", in: text, offset: 6))
    }

    // MARK: catch-all and fail closed

    @Test func missingCatchAllPoliciesAreWarnedAbout() throws {
        let text = documents(residency("hr", "match: {buckets: [\"hr-*\"]}\nallow:\n  countries: [FI]"),
                             replication("hr", "match: {buckets: [\"hr-*\"]}\ncopies: 1"))
        let result = compile(text, catalog: miniCatalog(), file: "c.yaml")
        let warnings = result.diagnostics.with("missing-catch-all")
        #expect(warnings.count == 2, "\(result.diagnostics.rendered)")
        #expect(warnings.allSatisfy { $0.severity == .warning && $0.location?.file == "c.yaml" })
        #expect(warnings.contains { $0.message.contains("residency") })
        #expect(warnings.contains { $0.message.contains("replication") })
        #expect(result.diagnostics.errors.isEmpty)
        // With catch-alls there is no warning.
        let ok = compile(documents(anywhere, oneCopyEverywhere), catalog: miniCatalog())
        #expect(ok.diagnostics.isEmpty, "\(ok.diagnostics.rendered)")
    }

    /// A yes/no boolean is an error in a document that was read: the set is still known to
    /// have no catch-all. Only a file whose YAML could not be read hides the warning.
    @Test func missingCatchAllIsStillWarnedAboutNextToDocumentErrors() throws {
        let text = documents(residency("hr", "match: {buckets: [\"hr-*\"]}\nallow:\n  countries: [FI]\nrequire:\n  euHeadquartered: yes"),
                             replication("hr", "match: {buckets: [\"hr-*\"]}\ncopies: 1"))
        let result = compile(text, catalog: miniCatalog(), file: "c.yaml")
        #expect(result.diagnostics.with("yaml11-boolean").count == 1, "\(result.diagnostics.rendered)")
        #expect(result.diagnostics.with("missing-catch-all").count == 2, "\(result.diagnostics.rendered)")
        // A file that does not parse may hold the catch-all: no warning then.
        let broken = compile(files: [("a.yaml", documents(residency("hr", "match: {buckets: [\"hr-*\"]}"))),
                                     ("b.yaml", "spec: [unclosed\n")], catalog: miniCatalog())
        #expect(broken.diagnostics.with("yaml-syntax").count == 1, "\(broken.diagnostics.rendered)")
        #expect(broken.diagnostics.with("missing-catch-all").isEmpty, "\(broken.diagnostics.rendered)")
    }

    @Test func anObjectThatNoResidencyPolicyMatchesIsRefused() throws {
        let text = documents(residency("hr", "match: {buckets: [\"hr-*\"]}\nallow:\n  countries: [FI]"), oneCopyEverywhere)
        let compiled = compile(text, catalog: miniCatalog()).compiled
        let plan = compiled.plan(for: object("web", "index.html"))
        #expect(!plan.allowed)
        #expect(plan.zones.isEmpty)
        #expect(plan.eligibleZones.isEmpty)
        #expect(plan.residencyPolicies.isEmpty)
        #expect(plan.reasons.contains { $0.contains("no residency policy matches") })
        #expect(plan.chooseZones { _ in true }.isEmpty)
        #expect(compiled.plan(for: object("hr-x", "k")).allowed)
    }

    @Test func anObjectThatNoReplicationPolicyMatchesIsRefused() throws {
        let text = documents(anywhere, replication("hr", "match: {buckets: [\"hr-*\"]}\ncopies: 1"))
        let compiled = compile(text, catalog: miniCatalog()).compiled
        let plan = compiled.plan(for: object("web", "k"))
        #expect(!plan.allowed)
        #expect(plan.replicationPolicy == nil)
        #expect(plan.copies == 0)
        #expect(plan.reasons.contains { $0.contains("no replication policy matches") })
        #expect(compiled.plan(for: object("hr-x", "k")).allowed)
    }

    @Test func anEmptyPolicySetRefusesEverything() throws {
        let result = compile("", catalog: miniCatalog())
        #expect(result.diagnostics.with("missing-catch-all").count == 2)
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(!plan.allowed)
        #expect(plan.reasons.count == 2)
    }

    // MARK: the shipped policies

    @Test func theShippedPoliciesCompileWithoutAnyDiagnostic() throws {
        let result = try Project.compiledShippedPolicies()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        #expect(result.isValid)
        #expect(result.compiled.residencyPolicies.count == 6)
        #expect(result.compiled.replicationPolicies.count == 6)
    }

    @Test func theShippedPoliciesAreStillValidWithOnlyTheThreeSeedBackends() throws {
        let backends = try BackendsFile.load(path: Project.backendsPath, catalog: Project.catalog)
        let result = try Project.compiledShippedPolicies(enabledZones: backends.enabledZones)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        let plan = result.compiled.plan(for: object("audit-logs", "x"))
        #expect(plan.zoneCodes == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
        #expect(plan.eligibleCodes == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
    }

    // MARK: backends and explanations

    @Test func onlyZonesWithAnEnabledBackendAreEligible() throws {
        let text = documents(residency("eu", "match: {}\nallow:\n  countries: [EU]"), oneCopyEverywhere)
        let result = compile(text, catalog: miniCatalog(), enabledZones: ["FI-HEL-B-1", "DE-BER-C-1", "US-IAD-E-1"])
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(plan.eligibleCodes == ["FI-HEL-B-1", "DE-BER-C-1"])
        #expect(plan.zoneCodes == ["FI-HEL-B-1"])
        let explanation = result.compiled.explain(object("b", "k"))
        let row = try #require(explanation.rows.first { $0.zone.code == "FI-HEL-A-1" })
        #expect(row.status == .rejected)
        #expect(row.reasons.contains { $0.contains("no enabled backend") })
        #expect(row.constraints.contains { $0.name == "backend" && !$0.passed })
    }

    @Test func explanationsCoverEveryZoneAndRejectionsNameTheClauseAndItsLocation() throws {
        let text = documents(residency("eu", "match: {}\nallow:\n  countries: [EU]\ndeny:\n  providers: [ProvB]"),
                             replication("two", "match: {}\ncopies: 2\nminProviders: 2"))
        let result = compile(text, catalog: miniCatalog(), file: "x.yaml")
        let explanation = result.compiled.explain(object("b", "k"))
        #expect(explanation.rows.map(\.zone.code) == miniRows.map(\.code))
        #expect(explanation.rows.filter { $0.status == .chosen }.map(\.zone.code) == explanation.plan.zoneCodes)
        #expect(explanation.plan.zoneCodes == ["FI-HEL-A-1", "SE-STO-C-1"])
        #expect(explanation.rows.filter { $0.status == .eligible }.map(\.zone.code) == ["FI-ESP-A-1", "DE-BER-C-1"])
        #expect(explanation.rejected.map(\.zone.code) == ["FI-HEL-B-1", "SE-STO-B-1", "NO-OSL-D-1", "US-IAD-E-1"])
        for row in explanation.rejected {
            #expect(!row.reasons.isEmpty)
            for reason in row.reasons {
                #expect(reason.contains("residency policy 'eu'"), "\(reason)")
                #expect(reason.contains("allow.countries") || reason.contains("deny.providers"), "\(reason)")
                #expect(matches(reason, #"\(x\.yaml:\d+:\d+\)"#), "\(reason)")
            }
        }
        let b = try #require(explanation.rows.first { $0.zone.code == "FI-HEL-B-1" })
        #expect(b.reasons == ["residency policy 'eu': deny.providers [ProvB] denies provider ProvB (x.yaml:\(position(of: "[ProvB]", in: text, offset: 1)))"])
        #expect(b.constraints.map(\.passed) == [true, false])
    }
}
