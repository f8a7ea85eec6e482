import Foundation
import PolicyEngine
import Testing

/// Robustness: random bytes and mutated example files never crash the loader, the parser, the
/// compiler or the catalog reader, and every diagnostic they produce is well-formed.
@Suite struct FuzzTests {
    static let yamlPunctuation = Array("-:{}[],&*!|>'\"%@`#?~\n\n\n  \t.=<\\/".utf8)
    static let words = ["apiVersion", "kind", "metadata", "spec", "match", "copies", "allow", "countries",
                        "ResidencyPolicy", "ReplicationPolicy", "sovereignty/v1", "true", "yes", "---", "...",
                        "FI", "EU", "&a", "*a", "!!int", "name", "- ", ": ", "\n  ", "{", "}", "[", "]"]

    static func randomYAMLBytes(_ rng: inout SplitMix64) -> [UInt8] {
        let length = Int.random(in: 0...512, using: &rng)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        while bytes.count < length {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4: bytes.append(yamlPunctuation.randomElement(using: &rng)!)
            case 4..<6: bytes += Array(words.randomElement(using: &rng)!.utf8)
            case 6..<9: bytes.append(UInt8.random(in: 0x61...0x7a, using: &rng))
            default: bytes.append(UInt8.random(in: 0...255, using: &rng))  // anything, invalid UTF-8 included
            }
        }
        return Array(bytes.prefix(length))
    }

    /// Diagnostics are well-formed: a code, a message, and a location in the given file with
    /// positive line and column (or no location at all).
    static func checkWellFormed(_ diagnostics: [Diagnostic], files: Set<String>, input: String,
                                sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for d in diagnostics {
            #expect(DiagnosticCode(rawValue: d.code) != nil, "unknown code \(d.code) for \(input)", sourceLocation: sourceLocation)
            #expect(!d.message.isEmpty, sourceLocation: sourceLocation)
            if let l = d.location {
                #expect(l.line >= 1 && l.column >= 1, "\(d) for \(input)", sourceLocation: sourceLocation)
                #expect(files.contains(l.file), "\(d) for \(input)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func randomBytesNeverCrashTheLoaderOrTheParser() throws {
        var rng = SplitMix64(seed: 0xfeed_beef)
        let loader = YAMLLoader()
        for i in 0..<2000 {
            let bytes = Self.randomYAMLBytes(&rng)
            let result = loader.load(bytes, file: "fuzz.yaml")
            let input = "input #\(i): \(String(decoding: bytes, as: UTF8.self).debugDescription)"
            Self.checkWellFormed(result.diagnostics, files: ["fuzz.yaml"], input: input)
            #expect(result.documents.allSatisfy { $0.location.line >= 1 }, "\(input)")
            // The policy parser on top of the same bytes.
            if i % 4 == 0 {
                let set = PolicySet.parse(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
                Self.checkWellFormed(set.diagnostics, files: ["fuzz.yaml"], input: input)
            }
        }
    }

    @Test func invalidUTF8AndControlCharactersAreSyntaxErrors() throws {
        for bytes: [UInt8] in [[0xff, 0xfe, 0x61], [0x61, 0x3a, 0x20, 0xc3], [0x61, 0x00, 0x62], [0x1b, 0x5b, 0x41]] {
            let result = YAMLLoader().load(bytes, file: "bin.yaml")
            #expect(result.diagnostics.errors.count >= 1, "\(bytes)")
            Self.checkWellFormed(result.diagnostics, files: ["bin.yaml"], input: "\(bytes)")
        }
    }

    static func mutate(_ text: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = text
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes.remove(at: i)
            case 1: bytes.insert(yamlPunctuation.randomElement(using: &rng)!, at: i)
            case 2: bytes[i] = yamlPunctuation.randomElement(using: &rng)!
            case 3: bytes.insert(contentsOf: Array(words.randomElement(using: &rng)!.utf8), at: i)
            case 4:  // drop a whole line
                let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                var kept = Array(lines)
                kept.remove(at: Int.random(in: 0..<kept.count, using: &rng))
                bytes = Array(kept.joined(separator: [UInt8(ascii: "\n")]))
            default:  // duplicate a line
                var lines = Array(bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false))
                let j = Int.random(in: 0..<lines.count, using: &rng)
                lines.insert(lines[j], at: j)
                bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            }
        }
        return bytes
    }

    @Test func mutationsOfTheExamplePolicyFilesNeverCrashTheCompiler() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Project.policiesDir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 4)
        let originals = try names.map { try Array(Data(contentsOf: URL(fileURLWithPath: Project.policiesDir + "/" + $0))) }
        var rng = SplitMix64(seed: 0x0dd_ba11)
        var sawErrors = 0
        let rounds = 120
        try withTempDir { dir in
            for (i, name) in names.enumerated() { try Data(originals[i]).write(to: URL(fileURLWithPath: dir + "/" + name)) }
            for round in 0..<rounds {
                // All files, one of them mutated, loaded from disk like `policyctl validate` does.
                let victim = round % names.count
                let mutated = Self.mutate(originals[victim], &rng)
                let path = dir + "/" + names[victim]
                try Data(mutated).write(to: URL(fileURLWithPath: path))
                defer { try? Data(originals[victim]).write(to: URL(fileURLWithPath: path)) }
                let set = try PolicySet.load(paths: [dir])
                let result = PolicyCompiler().compile(set, catalog: Project.catalog)
                let files = Set(set.files.map(\.path))
                let input = "round \(round) (\(names[victim])): \(String(decoding: mutated, as: UTF8.self))"
                Self.checkWellFormed(result.diagnostics, files: files, input: input)
                if result.diagnostics.hasErrors { sawErrors += 1 }
                // Plans still come out (refused or not) for a few objects.
                for o in [object("hr-data", "personal/a"), object("audit-x", "y"), object("web", "z", ["classification": "personal"])] {
                    let plan = result.compiled.plan(for: o)
                    #expect(plan.allowed == plan.reasons.isEmpty)
                    #expect(plan.allowed ? plan.zones.count == plan.copies : plan.zones.isEmpty)
                }
            }
        }
        #expect(sawErrors > rounds / 6, "the mutations should break the files often")
    }

    @Test func randomCatalogTextNeverCrashesTheCatalogLoader() throws {
        var rng = SplitMix64(seed: 0xca7a_1096)
        let header = "zone_code,provider_name,country_code,region_city,endpoint,object_lock,latitude,longitude\n"
        let pieces = [",", "\"", "\n", "\r\n", "FI", "true", "false", "yes", "91", "-181", "x", "A-1", " ", "\"\""]
        for i in 0..<500 {
            var text = Int.random(in: 0..<4, using: &rng) == 0 ? "" : header
            for _ in 0..<Int.random(in: 0...60, using: &rng) { text += pieces.randomElement(using: &rng)! }
            let result = CatalogLoader.parse(Array(text.utf8), file: "fuzz.csv")
            Self.checkWellFormed(result.diagnostics, files: ["fuzz.csv"], input: "#\(i) \(text.debugDescription)")
            #expect(Set(result.catalog.zones.map(\.code)).count == result.catalog.zones.count)
            #expect(result.catalog.zones.allSatisfy { Countries.isCode($0.countryCode) })
        }
    }
}
