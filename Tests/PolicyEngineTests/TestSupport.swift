import Foundation
import PolicyEngine
import Testing

// Shared helpers of the PolicyEngine test suite: paths of the shipped example data, small
// catalogs written out as CSV text, policy documents as YAML text, and reference
// implementations of the contract's algorithms (computed independently of the engine).

// MARK: - The project's shipped data

enum Project {
    /// The project root: `Tests/PolicyEngineTests/TestSupport.swift` → two levels above the
    /// test directory (symlinks resolved, so that a package that links the test directory in
    /// still finds the real project).
    static let root: String = {
        let here = resolvedPath(#filePath)
        var url = URL(fileURLWithPath: here).deletingLastPathComponent()  // PolicyEngineTests
        url = url.deletingLastPathComponent().deletingLastPathComponent()   // project root
        return url.path
    }()

    static var policiesDir: String { root + "/policies" }
    static var catalogPath: String { root + "/providers_flat.csv" }
    static var backendsPath: String { root + "/config/s3_backends.json" }

    /// The shipped catalog (loaded once).
    static let catalogResult: CatalogLoader.Result = {
        do { return try CatalogLoader.load(path: catalogPath) } catch {
            fatalError("cannot load the shipped catalog at \(catalogPath): \(error)")
        }
    }()

    static var catalog: Catalog { catalogResult.catalog }

    /// The shipped policy set, compiled against the shipped catalog.
    static func compiledShippedPolicies(enabledZones: Set<String>? = nil) throws -> PolicyCompiler.Result {
        let set = try PolicySet.load(paths: [policiesDir])
        return PolicyCompiler(enabledZones: enabledZones).compile(set, catalog: catalog)
    }
}

func resolvedPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

// MARK: - Temporary directories

/// A fresh temporary directory, removed when the value is released by `withTempDir`.
func withTempDir<R>(_ body: (String) throws -> R) throws -> R {
    let base = FileManager.default.temporaryDirectory
        .appendingPathComponent("policyengine-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: base) }
    return try body(base.path)
}

func writeFile(_ path: String, _ text: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

// MARK: - Diagnostics

extension Array where Element == Diagnostic {
    func with(_ code: String) -> [Diagnostic] { filter { $0.code == code } }
    var codes: [String] { map(\.code) }
    var errors: [Diagnostic] { filter { $0.severity == .error } }
    var warnings: [Diagnostic] { filter { $0.severity == .warning } }
    var rendered: String { map(\.description).joined(separator: "\n") }
}

extension Diagnostic {
    /// The last path component of the diagnostic's file.
    var fileName: String? { location.map { URL(fileURLWithPath: $0.file).lastPathComponent } }
    /// `NAME:LINE:COL` with the file's last path component.
    var shortLocation: String { location.map { "\(URL(fileURLWithPath: $0.file).lastPathComponent):\($0.line):\($0.column)" } ?? "-" }
    /// `LINE:COL`, or `-` without a location.
    var at: String { location.map { "\($0.line):\($0.column)" } ?? "-" }
    var allText: String { ([message] + hints + related.map(\.message)).joined(separator: "\n") }
}

// MARK: - YAML / policies

func loadYAML(_ text: String, file: String = "test.yaml") -> YAMLLoader.Result {
    YAMLLoader().load(text, file: file)
}

func parsePolicies(_ text: String, file: String = "policy.yaml") -> PolicySet {
    PolicySet.parse(text: text, file: file)
}

/// Several files, written to a temporary directory and loaded from there (sorted by name).
/// `PolicySet.SourceFile` has no public initialiser, so in-memory multi-file sets go through disk.
func parsePolicies(files: [(String, String)]) -> PolicySet {
    do {
        return try withTempDir { dir in
            for (name, text) in files { try writeFile(dir + "/" + name, text) }
            return try PolicySet.load(paths: [dir])
        }
    } catch {
        Issue.record("cannot write or load policy files: \(error)")
        return PolicySet.parse(text: "")
    }
}

func compile(_ text: String, catalog: Catalog, file: String = "policy.yaml",
             enabledZones: Set<String>? = nil) -> PolicyCompiler.Result {
    PolicyCompiler(enabledZones: enabledZones).compile(parsePolicies(text, file: file), catalog: catalog)
}

func compile(files: [(String, String)], catalog: Catalog) -> PolicyCompiler.Result {
    PolicyCompiler().compile(parsePolicies(files: files), catalog: catalog)
}

/// One `---`-separated YAML document of the given kind; `spec` is indented by the caller's
/// lines (each line of `spec` is put under `spec:` with two spaces).
func doc(_ kind: String, _ name: String, _ spec: String) -> String {
    let body = spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    return """
        apiVersion: sovereignty/v1
        kind: \(kind)
        metadata:
          name: \(name)
        spec:
        \(body)
        """
}

func residency(_ name: String, _ spec: String) -> String { doc("ResidencyPolicy", name, spec) }
func replication(_ name: String, _ spec: String) -> String { doc("ReplicationPolicy", name, spec) }
func group(_ name: String, _ countries: String) -> String { doc("CountryGroup", name, "countries: \(countries)") }

/// Documents joined with `---`.
func documents(_ docs: String...) -> String { docs.joined(separator: "\n---\n") + "\n" }
func documents(_ docs: [String]) -> String { docs.joined(separator: "\n---\n") + "\n" }

/// A catch-all replication policy with one copy.
let oneCopyEverywhere = replication("one-copy", "match: {}\npriority: 0\ncopies: 1")
/// A catch-all residency policy without restriction.
let anywhere = residency("anywhere", "match: {}")

func object(_ bucket: String, _ key: String, _ tags: [String: String] = [:]) -> ObjectRef {
    ObjectRef(bucket: bucket, key: key, tags: tags)
}

// MARK: - Small catalogs

struct ZoneRow {
    var code: String
    var provider: String
    var country: String
    var city: String
    var flags: Set<String> = []
    var euHQ: Bool = false

    init(_ code: String, _ provider: String, _ country: String, _ city: String,
         flags: Set<String> = [], euHQ: Bool = false) {
        self.code = code
        self.provider = provider
        self.country = country
        self.city = city
        self.flags = flags
        self.euHQ = euHQ
    }
}

let testFlagColumns = ["object_lock", "versioning", "iso27001", "gdpr"]

/// A catalog CSV with the required columns, the flag columns above, `eu_headquartered`, and
/// coordinates.
func catalogCSV(_ rows: [ZoneRow]) -> String {
    var lines = ["zone_code,provider_name,country_code,region_city,endpoint," + testFlagColumns.joined(separator: ",")
                 + ",eu_headquartered,latitude,longitude"]
    for r in rows {
        let flags = testFlagColumns.map { r.flags.contains($0) ? "true" : "false" }.joined(separator: ",")
        lines.append("\(r.code),\(r.provider),\(r.country),\(r.city),\(r.code.lowercased()).example.com,\(flags),\(r.euHQ),10.5,20.25")
    }
    return lines.joined(separator: "\n") + "\n"
}

func makeCatalog(_ rows: [ZoneRow], file: String = "catalog.csv",
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Catalog {
    let result = CatalogLoader.parse(Array(catalogCSV(rows).utf8), file: file)
    #expect(result.diagnostics.isEmpty, "test catalog has diagnostics: \(result.diagnostics.rendered)",
            sourceLocation: sourceLocation)
    return result.catalog
}

/// A small catalog used by many compiler tests.
///   index code         provider country city       flags                     euHQ
///   0     FI-HEL-A-1   ProvA    FI      Helsinki   object_lock               yes
///   1     FI-HEL-B-1   ProvB    FI      Helsinki
///   2     FI-ESP-A-1   ProvA    FI      Espoo
///   3     SE-STO-B-1   ProvB    SE      Stockholm  object_lock
///   4     SE-STO-C-1   ProvC    SE      Stockholm
///   5     DE-BER-C-1   ProvC    DE      Berlin     object_lock, iso27001     yes
///   6     NO-OSL-D-1   ProvD    NO      Oslo
///   7     US-IAD-E-1   ProvE    US      Ashburn    object_lock, iso27001
let miniRows: [ZoneRow] = [
    ZoneRow("FI-HEL-A-1", "ProvA", "FI", "Helsinki", flags: ["object_lock"], euHQ: true),
    ZoneRow("FI-HEL-B-1", "ProvB", "FI", "Helsinki"),
    ZoneRow("FI-ESP-A-1", "ProvA", "FI", "Espoo"),
    ZoneRow("SE-STO-B-1", "ProvB", "SE", "Stockholm", flags: ["object_lock"]),
    ZoneRow("SE-STO-C-1", "ProvC", "SE", "Stockholm"),
    ZoneRow("DE-BER-C-1", "ProvC", "DE", "Berlin", flags: ["object_lock", "iso27001"], euHQ: true),
    ZoneRow("NO-OSL-D-1", "ProvD", "NO", "Oslo"),
    ZoneRow("US-IAD-E-1", "ProvE", "US", "Ashburn", flags: ["object_lock", "iso27001"]),
]

func miniCatalog() -> Catalog { makeCatalog(miniRows, file: "mini.csv") }

extension PlacementPlan {
    var zoneCodes: [String] { zones.map(\.code) }
    var eligibleCodes: [String] { eligibleZones.map(\.code) }
    var candidateCodes: [String] { candidates.map(\.code) }
}

// MARK: - Reference implementations (independent of the engine)

enum Reference {
    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var h = fnvOffset
        for b in bytes {
            h ^= UInt64(b)
            h = h &* fnvPrime
        }
        return h
    }

    static func splitmix64Finalizer(_ h: UInt64) -> UInt64 {
        var z = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The contract's rendezvous score of a zone for an object.
    static func score(zone: String, bucket: String, key: String) -> UInt64 {
        var bytes = Array(zone.utf8)
        bytes.append(0)
        bytes += Array(bucket.utf8)
        bytes.append(0)
        bytes += Array(key.utf8)
        return splitmix64Finalizer(fnv1a64(bytes))
    }

    /// Spread order of the non-preferred zones: descending score, ties by code ascending.
    static func spreadOrder(_ codes: [String], bucket: String, key: String) -> [String] {
        codes.map { ($0, score(zone: $0, bucket: bucket, key: key)) }
            .sorted { a, b in a.1 != b.1 ? a.1 > b.1 : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8)) }
            .map(\.0)
    }

    struct Candidate {
        var code: String
        var provider: String
        var city: String
    }

    /// Step 4 of the placement algorithm, written from the contract: walk the candidates,
    /// taking a zone unless taking it would leave too few slots to still reach minProviders
    /// and minCities; stop at copies. Providers and cities compare without regard to case.
    static func walk(_ candidates: [Candidate], copies: Int, minProviders: Int, minCities: Int,
                     skip: (String) -> Bool = { _ in false }) -> [String] {
        var chosen: [String] = []
        var providers = Set<String>()
        var cities = Set<String>()
        for c in candidates {
            if chosen.count == copies { break }
            if skip(c.code) { continue }
            let p = providers.union([c.provider.lowercased()])
            let ci = cities.union([c.city.lowercased()])
            let slotsLeft = copies - chosen.count - 1
            if max(0, minProviders - p.count) > slotsLeft || max(0, minCities - ci.count) > slotsLeft { continue }
            chosen.append(c.code)
            providers = p
            cities = ci
        }
        return chosen
    }
}

/// A small deterministic RNG (splitmix64), for reproducible random inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return Reference.splitmix64Finalizer(state)
    }
}

/// A regular expression match on a whole string or a prefix (Foundation, for portability).
func matches(_ text: String, _ pattern: String) -> Bool {
    text.range(of: pattern, options: .regularExpression) != nil
}

// MARK: - Locations in test texts

/// `LINE:COL` (1-based) of the first occurrence of `needle` in `text`, plus `offset` columns;
/// computed from the text so that tests need not count lines by hand.
func position(of needle: String, in text: String, offset: Int = 0, occurrence: Int = 1) -> String {
    var seen = 0
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var searchStart = line.startIndex
        while let r = line[searchStart...].range(of: needle) {
            seen += 1
            if seen == occurrence {
                let column = line.distance(from: line.startIndex, to: r.lowerBound) + 1 + offset
                return "\(i + 1):\(column)"
            }
            searchStart = r.upperBound
        }
    }
    return "not found: \(needle)"
}
