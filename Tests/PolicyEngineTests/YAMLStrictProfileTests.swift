import Foundation
import PolicyEngine
import Testing

/// The strict YAML profile of the contract: every violation is a diagnostic with file:line:col.
@Suite struct YAMLStrictProfileTests {
    // MARK: duplicate keys

    @Test func duplicateTopLevelKeyIsAnErrorAtTheSecondKey() throws {
        let result = loadYAML("a: 1\nb: 2\na: 3\n", file: "dup.yaml")
        let d = try #require(result.diagnostics.with("duplicate-key").first)
        #expect(d.severity == .error)
        #expect(d.location == PolicyEngine.SourceLocation(file: "dup.yaml", line: 3, column: 1))
        #expect(d.message.contains("'a'"))
        // The first definition is named as related location.
        #expect(d.related.map(\.location) == [PolicyEngine.SourceLocation(file: "dup.yaml", line: 1, column: 1)])
    }

    @Test func duplicateNestedKeyInAPolicyIsReportedWhereTheSecondKeyIs() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata:
              name: dup
            spec:
              match: {}
              copies: 2
              copies: 3
            """
        let set = parsePolicies(text, file: "rep.yaml")
        let d = try #require(set.diagnostics.with("duplicate-key").first)
        #expect(d.location?.file == "rep.yaml")
        #expect(d.at == "8:3")
        #expect(d.message.contains("copies"))
        // A file with YAML errors is not interpreted: no half-read policy.
        #expect(set.replicationPolicies.isEmpty)
    }

    @Test func duplicateKeyInAFlowMappingAndQuotedSpellingsCount() throws {
        let flow = loadYAML("m: {a: 1, a: 2}\n")
        #expect(flow.diagnostics.with("duplicate-key").map(\.at) == ["1:11"])
        // "a" and a are the same key.
        let quoted = loadYAML("a: 1\n\"a\": 2\n")
        #expect(quoted.diagnostics.with("duplicate-key").map(\.at) == ["2:1"])
        // Different keys are fine.
        #expect(loadYAML("a: 1\nA: 2\n").diagnostics.isEmpty)
    }

    // MARK: anchors and aliases

    @Test func anchorsAreErrorsAtTheAnchor() throws {
        let result = loadYAML("a: &x 1\nb: *x\n", file: "anchor.yaml")
        let d = try #require(result.diagnostics.first)
        #expect(d.code == "alias-not-allowed")
        #expect(d.location == PolicyEngine.SourceLocation(file: "anchor.yaml", line: 1, column: 4))
        #expect(result.diagnostics.errors.count == 1)
    }

    @Test func aliasWithoutAnchorIsAnErrorAtTheAlias() throws {
        let result = loadYAML("a: 1\nb: *x\n")
        #expect(result.diagnostics.with("alias-not-allowed").map(\.at) == ["2:4"])
    }

    @Test func anchorOnAMappingAndMergeKeysAreRefused() throws {
        let text = """
            base: &b {copies: 2}
            other:
              <<: *b
            """
        let result = loadYAML(text)
        #expect(result.diagnostics.with("alias-not-allowed").map(\.at) == ["1:7"])
        // Through the policy parser too: no policy comes out of such a file.
        let set = parsePolicies(residency("r", "match: &m {}\nallow: {countries: [FI]}"))
        #expect(set.diagnostics.with("alias-not-allowed").map(\.at) == ["6:10"])
        #expect(set.residencyPolicies.isEmpty)
    }

    @Test func billionLaughsIsRefusedWithAnAliasError() throws {
        var lines = ["lol0: &l0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]"]
        for i in 1...9 {
            let refs = Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ")
            lines.append("lol\(i): &l\(i) [\(refs)]")
        }
        let text = lines.joined(separator: "\n") + "\n"
        let result = loadYAML(text, file: "bomb.yaml")
        let d = try #require(result.diagnostics.first)
        #expect(d.code == "alias-not-allowed")
        #expect(d.location == PolicyEngine.SourceLocation(file: "bomb.yaml", line: 1, column: 7))
        #expect(result.diagnostics.count == 1)
        // And the parser on top of it gives the same single error.
        let set = parsePolicies(text, file: "bomb.yaml")
        #expect(set.diagnostics.codes == ["alias-not-allowed"])
    }

    // MARK: booleans

    @Test(arguments: ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N"])
    func yaml11BooleansAreRefusedWhereABooleanIsExpected(_ spelling: String) throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata:
              name: hq
            spec:
              match: {}
              require:
                euHeadquartered: \(spelling)
            """
        let set = parsePolicies(text, file: "hq.yaml")
        let d = try #require(set.diagnostics.first { $0.code == "yaml11-boolean" }, "\(set.diagnostics.rendered)")
        #expect(d.severity == .error)
        #expect(d.location == PolicyEngine.SourceLocation(file: "hq.yaml", line: 8, column: 22))
        #expect(d.message.contains(spelling))
    }

    @Test func onlyTrueAndFalseAreBooleans() throws {
        for (spelling, expected) in [("true", true), ("false", false)] {
            let set = parsePolicies(residency("hq", "match: {}\nrequire:\n  euHeadquartered: \(spelling)"))
            #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
            #expect(set.residencyPolicies.first?.require?.euHeadquartered?.value == expected)
        }
        // Other non-booleans are type errors (not silently false).
        for spelling in ["1", "0", "\"true\"", "maybe"] {
            let set = parsePolicies(residency("hq", "match: {}\nrequire:\n  euHeadquartered: \(spelling)"))
            #expect(set.diagnostics.errors.count == 1, "\(spelling): \(set.diagnostics.rendered)")
            #expect(set.diagnostics.first?.at == "8:22")
        }
    }

    @Test func whereAStringIsExpectedNOIsNorway() throws {
        let text = documents(
            residency("norway", """
                match: {}
                allow:
                  countries: [NO]
                """),
            oneCopyEverywhere)
        let result = compile(text, catalog: Project.catalog)
        #expect(result.diagnostics.errors.isEmpty, "\(result.diagnostics.rendered)")
        let policy = try #require(result.compiled.residencyPolicies.first)
        #expect(policy.allow?.countries?.map(\.value) == ["NO"])
        let plan = result.compiled.plan(for: object("b", "k"))
        #expect(plan.eligibleCodes == ["NO-OSL-SS-1", "NO-OSL-SS-2"])
        #expect(plan.allowed)
    }

    @Test func yesNoOnOffAreStringsWhereAStringIsExpected() throws {
        let text = documents(
            """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata:
              name: strings
              owner: no
              description: yes
            spec:
              match:
                buckets: [on]
                tags:
                  consent: yes
              allow:
                cities: [Off]
            """)
        let set = parsePolicies(text)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        let p = try #require(set.residencyPolicies.first)
        #expect(p.metadata.owner == "no")
        #expect(p.metadata.description == "yes")
        #expect(p.match.buckets?.map(\.value.pattern) == ["on"])
        #expect(p.match.matches(object("on", "k", ["consent": "yes"])))
        #expect(!p.match.matches(object("on", "k", ["consent": "true"])))
        #expect(p.allow?.cities?.map(\.value) == ["Off"])
    }

    // MARK: unknown fields

    @Test func unknownFieldsAreErrorsWithADidYouMeanHint() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata:
              name: typo
            spec:
              match:
                keyprefixes: ["a/"]
              copies: 2
              minProvider: 2
              prefered: [FI-HEL-UC-1]
            """
        let set = parsePolicies(text, file: "typo.yaml")
        let unknown = set.diagnostics.with("unknown-field").sortedByLocation()
        try #require(unknown.count == 3, "\(set.diagnostics.rendered)")
        #expect(unknown.map(\.at) == ["7:5", "9:3", "10:3"])
        #expect(unknown.allSatisfy { $0.severity == .error && $0.location?.file == "typo.yaml" })
        #expect(unknown[0].hints.contains("did you mean 'keyPrefixes'?"))
        #expect(unknown[1].hints.contains("did you mean 'minProviders'?"))
        #expect(unknown[2].hints.contains("did you mean 'prefer'?"))
    }

    @Test func unknownTopLevelFieldHasAHintAndTheRequiredFieldIsThenMissing() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metdata:
              name: x
            spec:
              match: {}
            """
        let set = parsePolicies(text)
        let unknown = set.diagnostics.with("unknown-field")
        try #require(unknown.count == 1, "\(set.diagnostics.rendered)")
        #expect(unknown[0].at == "3:1")
        #expect(unknown[0].hints.contains("did you mean 'metadata'?"))
        #expect(set.diagnostics.with("missing-field").count == 1)
        #expect(set.residencyPolicies.isEmpty)
    }

    @Test func farOffUnknownNamesGetNoMisleadingHint() throws {
        let set = parsePolicies(residency("x", "match: {}\nzzzzzzzzzz: 1"))
        let unknown = set.diagnostics.with("unknown-field")
        try #require(unknown.count == 1, "\(set.diagnostics.rendered)")
        #expect(unknown[0].at == "7:3")
        #expect(!unknown[0].hints.contains { $0.hasPrefix("did you mean") })
        #expect(unknown[0].hints.contains { $0.hasPrefix("allowed fields:") && $0.contains("allow") })
    }

    // MARK: limits

    static func nestedSequences(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
    }

    @Test func nestingOf64LevelsIsAcceptedAnd65IsRefused() throws {
        let ok = loadYAML(Self.nestedSequences(64))
        #expect(ok.diagnostics.isEmpty, "\(ok.diagnostics.rendered)")
        let deep = loadYAML(Self.nestedSequences(65), file: "deep.yaml")
        let d = try #require(deep.diagnostics.first)
        #expect(d.code == "nesting-too-deep")
        #expect(d.location == PolicyEngine.SourceLocation(file: "deep.yaml", line: 1, column: 65))
    }

    @Test func deepBlockMappingsAreRefusedAtTheFirstTooDeepLevel() throws {
        var lines: [String] = []
        for level in 0..<70 { lines.append(String(repeating: "  ", count: level) + "k:") }
        lines[69] += " leaf"
        let result = loadYAML(lines.joined(separator: "\n") + "\n")
        let d = try #require(result.diagnostics.with("nesting-too-deep").first)
        #expect(d.location?.line == 65)
        #expect(d.location?.column == 129)
    }

    @Test func aHugeNestingBombIsRefusedWithoutCrashing() throws {
        let result = loadYAML(String(repeating: "[", count: 200_000))
        #expect(result.diagnostics.codes == ["nesting-too-deep"])
        let mappings = loadYAML(String(repeating: "{a: ", count: 100_000))
        #expect(mappings.diagnostics.codes == ["nesting-too-deep"])
    }

    @Test func filesLargerThan4MiBAreRefused() throws {
        let limit = 4 * 1024 * 1024
        #expect(YAMLLoader.maxFileSize == limit)
        var big = [UInt8](repeating: UInt8(ascii: "#"), count: limit + 1)
        big[limit] = UInt8(ascii: "\n")
        let result = YAMLLoader().load(big, file: "big.yaml")
        let d = try #require(result.diagnostics.first)
        #expect(d.code == "file-too-large")
        #expect(d.location == PolicyEngine.SourceLocation(file: "big.yaml", line: 1, column: 1))
        // Exactly 4 MiB is accepted (a comment of that size).
        var exact = [UInt8](repeating: UInt8(ascii: "#"), count: limit)
        exact[limit - 1] = UInt8(ascii: "\n")
        #expect(YAMLLoader().load(exact, file: "exact.yaml").diagnostics.isEmpty)
    }

    @Test func aTooLargeFileInAPolicyDirectoryIsADiagnosticNotAThrow() throws {
        try withTempDir { dir in
            try writeFile(dir + "/a.yaml", residency("a", "match: {}"))
            try writeFile(dir + "/big.yaml", String(repeating: "# padding padding padding\n", count: 170_000))
            let set = try PolicySet.load(paths: [dir])
            let d = try #require(set.diagnostics.with("file-too-large").first)
            #expect(d.location?.file.hasSuffix("/big.yaml") == true)
            #expect(d.at == "1:1")
            #expect(set.residencyPolicies.map(\.metadata.name) == ["a"])
        }
    }

    // MARK: tags

    @Test func explicitTagsAreErrors() throws {
        let text = """
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata:
              name: tagged
            spec:
              match: {}
              copies: !!int 3
              prefer: !!seq [FI-HEL-UC-1]
              versioning: !custom enabled
            """
        let set = parsePolicies(text, file: "tags.yaml")
        let tags = set.diagnostics.with("tag-not-allowed")
        #expect(tags.map(\.at) == ["7:11", "8:11", "9:15"])
        #expect(tags.allSatisfy { $0.severity == .error })
        #expect(set.replicationPolicies.isEmpty)
        #expect(loadYAML("a: !!str 1\n").diagnostics.with("tag-not-allowed").map(\.at) == ["1:4"])
        #expect(loadYAML("--- !!map\na: 1\n").diagnostics.with("tag-not-allowed").count == 1)
    }

    @Test func complexKeysAreRefused() throws {
        #expect(loadYAML("? [a, b]\n: c\n").diagnostics.codes == ["complex-key"])
        #expect(loadYAML("{[a]: b}\n").diagnostics.codes == ["complex-key"])
    }

    // MARK: syntax errors

    @Test func syntaxErrorsCarryLineAndColumn() throws {
        let cases: [(String, String)] = [
            ("a: b: c\n", "1:5"),                          // mapping values not allowed here
            ("a:\n\tb: 1\n", "2:1"),                       // a tab cannot start a token
            ("a: [1, 2\nb: 3\n", "2:2"),                   // unclosed flow sequence
            ("key: \"unterminated\n", "2:1"),              // unterminated quoted scalar
            ("a: 1\n b: 2\n", "2:3"),                      // bad indentation
        ]
        for (text, at) in cases {
            let result = loadYAML(text, file: "syntax.yaml")
            let d = try #require(result.diagnostics.first, "no diagnostic for \(text.debugDescription)")
            #expect(d.code == "yaml-syntax", "\(text.debugDescription)")
            #expect(d.severity == .error)
            #expect(d.location?.file == "syntax.yaml")
            #expect(d.at == at, "\(text.debugDescription): \(d)")
            #expect(!d.message.isEmpty)
        }
    }

    @Test func aSyntaxErrorInOneFileDoesNotHideTheOtherFiles() throws {
        let set = parsePolicies(files: [
            ("a.yaml", "a: [\n"),
            ("b.yaml", residency("b", "match: {}")),
        ])
        #expect(set.diagnostics.codes == ["yaml-syntax"])
        #expect(set.diagnostics.first?.fileName == "a.yaml")
        #expect(set.residencyPolicies.map(\.metadata.name) == ["b"])
    }

    // MARK: documents

    @Test func multipleDocumentsWithSeparatorsAreAllRead() throws {
        let text = documents(
            residency("first", "match: {}"),
            replication("second", "match: {}\ncopies: 1"),
            group("third", "[EE, LV, LT]"))
        let set = parsePolicies(text, file: "multi.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.map(\.metadata.name) == ["first"])
        #expect(set.replicationPolicies.map(\.metadata.name) == ["second"])
        #expect(set.countryGroups.map(\.metadata.name) == ["third"])
        // Locations are file lines, not document lines: the first document has six lines,
        // then `---`, so the second document's name is on line 11 and the third's on 19.
        #expect(set.replicationPolicies.first?.metadata.location.line == 11)
        #expect(set.countryGroups.first?.metadata.location.line == 19)
    }

    @Test func anErrorInALaterDocumentIsLocatedInFileCoordinates() throws {
        let text = documents(
            residency("first", "match: {}"),
            replication("second", "match: {}\ncopies: 0"))
        let set = parsePolicies(text, file: "multi.yaml")
        let d = try #require(set.diagnostics.errors.first)
        #expect(d.location == PolicyEngine.SourceLocation(file: "multi.yaml", line: 14, column: 11))
    }

    @Test func explicitDocumentStartAndEndMarkersAreAccepted() throws {
        let text = "---\n" + residency("a", "match: {}") + "\n...\n---\n" + residency("b", "match: {}") + "\n...\n"
        let set = parsePolicies(text)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.map(\.metadata.name) == ["a", "b"])
    }

    @Test(arguments: ["", "\n", "# only a comment\n", "---\n", "---\n---\n", "--- ~\n", "---\n# c\n...\n"])
    func emptyDocumentsAndFilesAreAcceptedAndYieldNothing(_ text: String) throws {
        let set = parsePolicies(text)
        #expect(set.diagnostics.isEmpty, "\(text.debugDescription): \(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.isEmpty && set.replicationPolicies.isEmpty)
        #expect(set.countryGroups.isEmpty && set.tests.isEmpty)
    }

    @Test func aTrailingSeparatorAfterAPolicyIsHarmless() throws {
        let set = parsePolicies(residency("a", "match: {}") + "\n---\n")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.rendered)")
        #expect(set.residencyPolicies.count == 1)
    }

    @Test func aDocumentThatIsNotAMappingIsAnError() throws {
        for text in ["just a string\n", "- a\n- b\n", "42\n"] {
            let set = parsePolicies(text, file: "x.yaml")
            let d = try #require(set.diagnostics.first)
            #expect(d.code == "wrong-type", "\(text.debugDescription)")
            #expect(d.at == "1:1")
        }
    }

    @Test func everyLoaderNodeKnowsItsLocation() throws {
        let result = loadYAML("a:\n  - x\n  - {b: c}\n")
        let root = try #require(result.documents.first?.root)
        guard case .mapping(let m) = root else { Issue.record("not a mapping"); return }
        #expect(m.location.line == 1 && m.location.column == 1)
        let a = try #require(m["a"])
        guard case .sequence(let s) = a else { Issue.record("not a sequence"); return }
        #expect(s.items.map(\.location.line) == [2, 3])
        #expect(s.items.map(\.location.column) == [5, 5])
    }
}
