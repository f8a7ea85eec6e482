import PolicyEngine
import Testing

/// The plan path finds the matching policies with tries (prefix globs forwards, `*suffix` globs
/// backwards from the name's end), a shortcut for untagged objects and an open-addressing table
/// of classes; these tests compare what it finds with each selector's own `matches`.
@Suite struct MatchIndexTests {
    static let bucketGlobs = ["*-logs", "*logs", "*s", "*", "app-*", "app-logs", "*x-logs", "a*s", "*-?ogs", "logs"]
    static let buckets = ["app-logs", "x-logs", "xx-logs", "logs", "ogs", "s", "", "app-", "app-x", "web-logs", "b-dogs", "a-s"]
    static let keys = ["a/b", "a/", "tmp/x", "z"]
    static let tagSets: [[String: String]] = [[:], ["class": "personal"], ["class": "other"], ["project": "p"],
                                              ["class": "public", "project": "q"]]

    /// Residency policies over every combination of a bucket glob, a key prefix and a tag.
    static func policies() -> [String] {
        var docs: [String] = []
        for (i, glob) in bucketGlobs.enumerated() {
            docs.append(residency("g\(i)", "match: {buckets: [\"\(glob)\"]}"))
            docs.append(residency("gk\(i)", "match: {buckets: [\"\(glob)\"], keyPrefixes: [\"a/\"]}"))
            docs.append(residency("gt\(i)", "match: {buckets: [\"\(glob)\"], tags: {class: personal}}"))
        }
        docs.append(residency("tag-any", "match: {tags: {project: \"*\"}}"))
        docs.append(residency("tag-public", "match: {tags: {class: public}}"))
        docs.append(residency("key-tmp", "match: {keyPrefixes: [\"tmp/\"]}"))
        docs.append(residency("all", "match: {}"))
        return docs
    }

    @Test func theMatchIndexAgreesWithEachSelector() throws {
        let docs = Self.policies()
        let result = compile(documents(docs + [oneCopyEverywhere]), catalog: miniCatalog())
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics.rendered)")
        let compiled = result.compiled
        var checked = 0
        for bucket in Self.buckets {
            for key in Self.keys {
                for tags in Self.tagSets {
                    let o = object(bucket, key, tags)
                    let expected = compiled.residencyPolicies.filter { $0.match.matches(o) }.map(\.metadata.name)
                    #expect(compiled.plan(for: o).residencyPolicies == expected, "\(o)")
                    checked += 1
                }
            }
        }
        #expect(checked == Self.buckets.count * Self.keys.count * Self.tagSets.count)
    }

    /// More than 256 policies: the policy sets spill into their overflow words, which the class
    /// table hashes and compares as well.
    @Test func setsOfMoreThan256PoliciesPlanLikeTheirSelectors() throws {
        var docs: [String] = []
        for i in 0..<300 {
            let glob = switch i % 10 {
            case 1: "*-s\(i)"
            case 2: "p\(i)-*"
            default: "b\(i)"
            }
            docs.append(residency("r\(i)", "match: {buckets: [\"\(glob)\"]}"))
        }
        docs.append(anywhere)
        let compiled = compile(documents(docs + [oneCopyEverywhere]), catalog: miniCatalog()).compiled
        let names = ["b3", "x-s1", "p2-y", "b297", "q-s291", "p292-", "p292-z-s291", "none", "b0", "b299"]
        for name in names {
            let o = object(name, "k")
            let expected = compiled.residencyPolicies.filter { $0.match.matches(o) }.map(\.metadata.name)
            let plan = compiled.plan(for: o)
            #expect(plan.residencyPolicies == expected, "\(o)")
            #expect(plan.residencyPolicies.count >= 1)
        }
        #expect(compiled.plan(for: object("p292-z-s291", "k")).residencyPolicies == ["r291", "r292", "anywhere"])
    }
}
