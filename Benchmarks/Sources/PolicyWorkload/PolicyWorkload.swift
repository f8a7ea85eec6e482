// A deterministic benchmark workload for the policy engine: a provider catalog of 1,000 zones
// (CSV text), 200 policies (YAML text, in ten files) and 10,000 objects to plan.
//
// Everything is derived from a fixed seed with SplitMix64, so the benchmark executable (which
// generates in memory) and `policy-workload` (which writes the same files for
// `scripts/bench-validate.sh`) see byte-identical inputs.

import PolicyEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: tiny, fast, and the same sequence on every platform.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// Uniform in 0..<n without the stdlib's (version-dependent) algorithms.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    /// `k` distinct elements of `a`, in the order drawn.
    mutating func sample<T>(_ a: [T], _ k: Int) -> [T] {
        var pool = a
        var out: [T] = []
        for _ in 0..<min(k, pool.count) { out.append(pool.remove(at: below(pool.count))) }
        return out
    }
    /// Index drawn with the given weights.
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = Double(next() >> 11) / Double(1 << 53) * total
        for (i, w) in weights.enumerated() {
            x -= w
            if x < 0 { return i }
        }
        return weights.count - 1
    }
}

public struct Workload: Sendable {
    public struct File: Sendable {
        public var name: String
        public var text: String
    }

    public static let defaultSeed: UInt64 = 0x5EED_2025

    /// `providers.csv` text.
    public var catalogCSV: String
    /// Policy files (`policies/NN-….yaml`), in sorted path order.
    public var policyFiles: [File]
    /// The objects to plan, in the order the benchmark cycles through them.
    public var objects: [ObjectRef]
    public var zoneCount: Int
    public var residencyCount: Int
    public var replicationCount: Int

    public static let catalogFileName = "providers.csv"
    public static let policyDirectoryName = "policies"

    /// Writes `DIR/providers.csv` and `DIR/policies/*.yaml` (creating the directories).
    public func write(to directory: String) throws(WriteError) {
        let policies = policyPath(in: directory)
        mkdir(directory, 0o755)
        mkdir(policies, 0o755)
        try Workload.write(catalogCSV, to: catalogPath(in: directory))
        for file in policyFiles { try Workload.write(file.text, to: policies + "/" + file.name) }
    }

    /// Removes what `write(to:)` wrote, and the directories if they are then empty.
    public func remove(from directory: String) {
        let policies = policyPath(in: directory)
        for file in policyFiles { unlink(policies + "/" + file.name) }
        unlink(catalogPath(in: directory))
        rmdir(policies)
        rmdir(directory)
    }

    public func catalogPath(in directory: String) -> String { directory + "/" + Workload.catalogFileName }
    public func policyPath(in directory: String) -> String { directory + "/" + Workload.policyDirectoryName }

    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "cannot write \(path)" }
    }

    static func write(_ text: String, to path: String) throws(WriteError) {
        guard let f = fopen(path, "wb") else { throw WriteError(path: path) }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        if fwrite(bytes, 1, bytes.count, f) != bytes.count { throw WriteError(path: path) }
    }

    /// Writes the workload to a fresh temporary directory (`$TMPDIR` or /tmp) and returns its path.
    public func writeToTemporaryDirectory() throws(WriteError) -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/policy-workload-XXXXXX").utf8CString)
        let dir: String = template.withUnsafeMutableBufferPointer { buf in
            guard let p = mkdtemp(buf.baseAddress!) else { return "" }
            return String(cString: p)
        }
        if dir.isEmpty { throw WriteError(path: base) }
        try write(to: dir)
        return dir
    }

    /// The workload of BENCHMARKS.md: `zones` catalog zones, 100 residency + 100 replication
    /// policies (the policy shapes are fixed), `objects` objects.
    public init(seed: UInt64 = Workload.defaultSeed, zones: Int = 1_000, objects: Int = 10_000) {
        var g = Generator(seed: seed)
        let catalog = g.catalog(zoneCount: zones)
        catalogCSV = catalog.csv
        let (files, r, p) = g.policies(catalog: catalog, residency: 100, replication: 100)
        policyFiles = files
        residencyCount = r
        replicationCount = p
        self.objects = g.objects(count: objects)
        zoneCount = zones
    }
}

// MARK: - generator

struct Generator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    // 25 EU member states, 5 others (non-EU zones are excluded by the EU catch-all).
    static let countries: [(code: String, name: String, cities: [String], weight: Double)] = [
        ("DE", "Germany", ["Frankfurt", "Berlin", "Munich", "Falkenstein", "Nuremberg"], 9),
        ("FR", "France", ["Paris", "Roubaix", "Strasbourg", "Gravelines", "Marseille"], 8),
        ("NL", "Netherlands", ["Amsterdam", "Rotterdam", "Eemshaven"], 6),
        ("FI", "Finland", ["Helsinki", "Tampere", "Oulu"], 5),
        ("SE", "Sweden", ["Stockholm", "Gothenburg", "Malmo"], 4),
        ("DK", "Denmark", ["Copenhagen", "Aarhus"], 3),
        ("IE", "Ireland", ["Dublin", "Cork"], 4),
        ("BE", "Belgium", ["Brussels", "Antwerp"], 3),
        ("AT", "Austria", ["Vienna", "Graz"], 3),
        ("ES", "Spain", ["Madrid", "Barcelona", "Valencia"], 4),
        ("IT", "Italy", ["Milan", "Rome", "Turin"], 4),
        ("PT", "Portugal", ["Lisbon", "Porto"], 2),
        ("PL", "Poland", ["Warsaw", "Krakow", "Poznan"], 3),
        ("CZ", "Czechia", ["Prague", "Brno"], 2),
        ("EE", "Estonia", ["Tallinn", "Tartu"], 2),
        ("LV", "Latvia", ["Riga"], 1),
        ("LT", "Lithuania", ["Vilnius", "Kaunas"], 1),
        ("LU", "Luxembourg", ["Luxembourg"], 1),
        ("SI", "Slovenia", ["Ljubljana"], 1),
        ("SK", "Slovakia", ["Bratislava"], 1),
        ("HR", "Croatia", ["Zagreb"], 1),
        ("HU", "Hungary", ["Budapest"], 1),
        ("RO", "Romania", ["Bucharest", "Cluj"], 1),
        ("BG", "Bulgaria", ["Sofia"], 1),
        ("GR", "Greece", ["Athens", "Thessaloniki"], 1),
        ("NO", "Norway", ["Oslo", "Bergen", "Stavanger"], 2),
        ("CH", "Switzerland", ["Zurich", "Geneva", "Lausanne"], 2),
        ("GB", "United Kingdom", ["London", "Manchester", "Edinburgh"], 2),
        ("IS", "Iceland", ["Reykjavik", "Keflavik"], 1),
        ("US", "United States", ["Ashburn", "Chicago", "Dallas", "Seattle", "Atlanta"], 1),
    ]

    /// Countries every `allow.countries` list contains, so that residency policies always overlap.
    static let coreCountries = ["DE", "FR", "NL"]

    static let providerNames = [
        "Hetzner", "OVHcloud", "Scaleway", "IONOS", "UpCloud", "Exoscale", "Gcore", "Contabo",
        "StackIT", "Open Telekom Cloud", "Aruba", "Seeweb", "Infomaniak", "Cleura", "Elastx",
        "Safespring", "Leaseweb", "Fuga", "Cyso", "Wasabi", "Backblaze", "Cloudferro", "Plusserver",
        "Noris", "Wiit", "Outscale", "Clever Cloud", "Tilaa", "TransIP", "Nine", "Flow Swiss",
        "Hostinger", "Zone", "Telia", "Orange", "Proximus", "A1 Digital", "Storj", "Impossible Cloud", "Cubbit",
    ]
    /// Providers every `allow.providers` list contains; they are also the largest ones.
    static let coreProviders = ["Hetzner", "OVHcloud", "Scaleway"]

    struct CatalogZone {
        var code: String
        var provider: String
        var country: String
        var city: String
        var flags: [String: Bool]
    }

    struct GeneratedCatalog {
        var zones: [CatalogZone]
        var csv: String
        var cities: [String]
    }

    static let flagColumns = ["object_lock", "versioning", "iso27001", "gdpr", "eu_headquartered"]

    mutating func catalog(zoneCount: Int) -> GeneratedCatalog {
        let providers = Self.providerNames
        // Zipf-like provider sizes: the first providers run many more zones than the last ones.
        let providerWeights = providers.indices.map { 1.0 / Double($0 + 2).squareRoot() }
        var providerEU: [String: Bool] = [:]
        var providerCode: [String: String] = [:]
        for (i, p) in providers.enumerated() {
            providerEU[p] = i < 3 || rng.chance(0.7)
            let letters = p.uppercased().filter { $0.isLetter }
            providerCode[p] = String(letters.prefix(2))
        }
        let countryWeights = Self.countries.map(\.weight)
        var counter: [String: Int] = [:]
        var zones: [CatalogZone] = []
        var csv = "zone_code,provider_name,country_code,country,region_city,endpoint,s3_compatible,object_lock,versioning,iso27001,gdpr,eu_headquartered,latitude,longitude\n"
        for _ in 0..<zoneCount {
            let provider = providers[rng.weighted(providerWeights)]
            let c = Self.countries[rng.weighted(countryWeights)]
            let city = rng.pick(c.cities)
            let cityCode = String(city.uppercased().prefix(3))
            let prefix = "\(c.code)-\(cityCode)-\(providerCode[provider]!)"
            counter[prefix, default: 0] += 1
            let code = "\(prefix)-\(counter[prefix]!)"
            let big = Self.coreProviders.contains(provider)
            let flags: [String: Bool] = [
                "object_lock": rng.chance(big ? 0.8 : 0.6),
                "versioning": rng.chance(big ? 0.9 : 0.75),
                "iso27001": rng.chance(big ? 0.8 : 0.5),
                "gdpr": rng.chance(big ? 0.9 : 0.7),
                "eu_headquartered": providerEU[provider]!,
            ]
            zones.append(CatalogZone(code: code, provider: provider, country: c.code, city: city, flags: flags))
            let lat = Double(rng.below(180_000) - 90_000) / 2_000.0 + 45
            let lon = Double(rng.below(360_000) - 180_000) / 12_000.0
            let endpoint = "s3.\(city.lowercased()).\(provider.lowercased().filter { $0.isLetter || $0.isNumber }).example.net"
            let flagText = Self.flagColumns.map { flags[$0]! ? "true" : "false" }.joined(separator: ",")
            let providerField = provider.contains(" ") ? "\"\(provider)\"" : provider
            csv += "\(code),\(providerField),\(c.code),\(c.name),\(city),\(endpoint),true,\(flagText),\(lat),\(lon)\n"
        }
        var cities: [String] = []
        for z in zones where !cities.contains(z.city) { cities.append(z.city) }
        return GeneratedCatalog(zones: zones, csv: csv, cities: cities)
    }

    // MARK: selectors

    static let words = [
        "hr", "payroll", "patients", "invoices", "crm", "erp", "billing", "audit", "research", "legal",
        "marketing", "sales", "support", "analytics", "ml", "iot", "mobile", "web", "video", "docs",
    ]
    static let literalBuckets: [String] = {
        var names: [String] = []
        for (i, a) in words.enumerated() {
            for b in ["prod", "eu", "archive"] { names.append("\(a)-\(b)-\(i)") }
        }
        return names  // 60 names
    }()
    static let teamCount = 40
    static let keyPrefixes = [
        "personal/", "finance/", "finance/2024/", "logs/", "backup/", "tmp/", "legal/", "health/",
        "invoices/", "media/", "exports/", "audit/",
    ]
    static let classifications = ["personal", "confidential", "public"]
    /// Non-prefix globs: matched one by one at plan time.
    static let suffixGlobs = ["*-backup", "*-logs"]

    // MARK: policies

    struct Doc {
        var file: String
        var text: String
    }

    mutating func policies(catalog: GeneratedCatalog, residency: Int, replication: Int)
        -> (files: [Workload.File], residency: Int, replication: Int) {
        var docs: [Doc] = []
        docs += residencyPolicies(catalog: catalog, count: residency)
        docs += replicationPolicies(catalog: catalog, count: replication)
        // Group into files: residency in 01…05, replication in 06…10, 20 documents each.
        var byFile: [String: [String]] = [:]
        for d in docs { byFile[d.file, default: []].append(d.text) }
        let files = byFile.keys.sorted().map { name in
            Workload.File(name: name, text: byFile[name]!.joined(separator: "---\n"))
        }
        return (files, residency, replication)
    }

    func yamlList(_ items: [String]) -> String {
        "[" + items.map { item in
            item.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) && !item.isEmpty ? item : "\"\(item)\""
        }.joined(separator: ", ") + "]"
    }

    func header(_ kind: String, _ name: String, _ description: String) -> String {
        """
        apiVersion: sovereignty/v1
        kind: \(kind)
        metadata:
          name: \(name)
          description: \(description)
          owner: dpo@example.eu
        spec:

        """
    }

    enum Shape {
        case catchAll
        case literal([String])
        case team(Int, keys: [String]?)
        case suffix(String)
        case keys([String])
        case tag(String, String)
        case literalTagged([String], String)
    }

    func matchYAML(_ shape: Shape) -> String {
        switch shape {
        case .catchAll:
            return "  match: {}\n"
        case .literal(let names):
            return "  match:\n    buckets: \(yamlList(names))\n"
        case .team(let n, let keys):
            var s = "  match:\n    buckets: [\"team-\(n)-*\"]\n"
            if let keys { s += "    keyPrefixes: \(yamlList(keys))\n" }
            return s
        case .suffix(let glob):
            return "  match:\n    buckets: [\"\(glob)\"]\n"
        case .keys(let keys):
            return "  match:\n    keyPrefixes: \(yamlList(keys))\n"
        case .tag(let k, let v):
            return "  match:\n    tags:\n      \(k): \"\(v)\"\n"
        case .literalTagged(let names, let v):
            return "  match:\n    buckets: \(yamlList(names))\n    tags:\n      classification: \(v)\n"
        }
    }

    /// 100 residency policies: a catch-all (EU), literal buckets, team prefixes, key prefixes, tags.
    mutating func residencyPolicies(catalog: GeneratedCatalog, count: Int) -> [Doc] {
        let eu = Generator.countries.prefix(25).map(\.code)
        var shapes: [Shape] = [.catchAll]
        // 40 on literal bucket names: 20 with two names, 20 with one (each name used once).
        var literal = Self.literalBuckets[...]
        for i in 0..<40 {
            let k = i < 20 ? 2 : 1
            shapes.append(.literal(Array(literal.prefix(k))))
            literal = literal.dropFirst(k)
        }
        // 40 on team prefixes, a third of them also narrowed by key prefixes.
        for t in rng.sample(Array(1...Self.teamCount), Self.teamCount) {
            shapes.append(.team(t, keys: rng.chance(0.33) ? rng.sample(Self.keyPrefixes, 1 + rng.below(2)) : nil))
        }
        for g in Self.suffixGlobs { shapes.append(.suffix(g)) }
        // Key prefixes alone.
        for p in ["personal/", "health/", "legal/", "finance/", "finance/2024/", "audit/", "backup/", "exports/", "invoices/", "media/", "logs/", "tmp/"] {
            shapes.append(.keys([p]))
        }
        // Tags.
        shapes.append(.tag("classification", "personal"))
        shapes.append(.tag("classification", "confidential"))
        shapes.append(.tag("retention", "*"))
        shapes.append(.tag("project", "*"))
        shapes.append(.literalTagged(["hr-prod-0", "patients-prod-2"], "public"))
        precondition(shapes.count == count, "residency shapes: \(shapes.count), wanted \(count)")

        var docs: [Doc] = []
        for (i, shape) in shapes.enumerated() {
            let name: String
            var spec = matchYAML(shape)
            switch shape {
            case .catchAll:
                name = "eu-baseline"
                spec += "  allow:\n    countries: [EU]\n"
            case .literal(let names):
                name = "bucket-\(names[0])"
                spec += allowDeny(eu: eu, catalog: catalog, strictness: 2)
            case .team(let t, let keys):
                name = keys == nil ? "team-\(t)" : "team-\(t)-keys"
                spec += allowDeny(eu: eu, catalog: catalog, strictness: 2)
            case .suffix(let g):
                name = "suffix-" + g.filter { $0.isLetter }
                spec += "  deny:\n    countries: [US, GB]\n  require:\n    capabilities: [versioning]\n"
            case .keys(let keys):
                name = "prefix-" + keys[0].filter { $0.isLetter || $0.isNumber || $0 == "-" }
                spec += allowDeny(eu: eu, catalog: catalog, strictness: 1)
            case .tag(let k, let v):
                name = "tag-\(k)-\(v == "*" ? "any" : v)"
                spec += allowDeny(eu: eu, catalog: catalog, strictness: 1)
            case .literalTagged(let names, let v):
                name = "bucket-\(names[0])-\(v)"
                spec += "  allow:\n    countries: [EEA]\n"
            }
            let file = "0\(1 + i * 5 / max(count, 1))-residency.yaml"
            docs.append(Doc(file: file, text: header("ResidencyPolicy", name, "Where data of \(name) may live.") + spec))
        }
        return docs
    }

    /// `allow`/`deny`/`require` clauses that always leave a common core of zones (DE, FR, NL at
    /// the three largest providers) so that any combination of residency policies stays satisfiable.
    mutating func allowDeny(eu: [String], catalog: GeneratedCatalog, strictness: Int) -> String {
        var s = ""
        var allow: [String] = []
        switch rng.below(4) {
        case 0:
            allow.append("  allow:\n    countries: [EU]\n")
        case 1:
            allow.append("  allow:\n    countries: [EEA]\n")
        default:
            let extra = rng.sample(eu.filter { !Self.coreCountries.contains($0) }, 2 + rng.below(5))
            allow.append("  allow:\n    countries: \(yamlList(Self.coreCountries + extra))\n")
        }
        if strictness >= 2, rng.chance(0.2) {
            let extra = rng.sample(Self.providerNames.filter { !Self.coreProviders.contains($0) }, 2 + rng.below(4))
            allow.append("    providers: \(yamlList(Self.coreProviders + extra))\n")
        }
        s += allow.joined()
        var deny: [String] = []
        if rng.chance(0.3) { deny.append("    countries: \(yamlList(rng.sample(["US", "GB", "CH"], 1 + rng.below(2))))\n") }
        if rng.chance(0.25) {
            let p = rng.sample(Self.providerNames.filter { !Self.coreProviders.contains($0) }, 1 + rng.below(3))
            deny.append("    providers: \(yamlList(p))\n")
        }
        if !deny.isEmpty { s += "  deny:\n" + deny.joined() }
        var require: [String] = []
        let caps = ["object_lock", "versioning"].filter { _ in rng.chance(strictness >= 2 ? 0.25 : 0.15) }
        if !caps.isEmpty { require.append("    capabilities: \(yamlList(caps))\n") }
        let certs = ["iso27001", "gdpr"].filter { _ in rng.chance(strictness >= 2 ? 0.25 : 0.15) }
        if !certs.isEmpty { require.append("    certifications: \(yamlList(certs))\n") }
        if rng.chance(0.1) { require.append("    euHeadquartered: true\n") }
        if !require.isEmpty { s += "  require:\n" + require.joined() }
        return s
    }

    /// 100 replication policies with distinct priorities: the more specific a selector, the
    /// higher its priority; a catch-all at the lowest priority.
    mutating func replicationPolicies(catalog: GeneratedCatalog, count: Int) -> [Doc] {
        var shapes: [(Shape, tier: Int)] = []
        // Literal buckets (40), each name at most once.
        var literal = Self.literalBuckets.shuffledDeterministically(&rng)[...]
        for i in 0..<40 {
            let k = i < 20 ? 2 : 1
            shapes.append((.literal(Array(literal.prefix(k))), 2))
            literal = literal.dropFirst(k)
        }
        // Team prefixes: 30 on the bucket alone, 10 narrowed by key prefixes (higher priority).
        for t in rng.sample(Array(1...Self.teamCount), 30) {
            shapes.append((.team(t, keys: nil), 2))
        }
        for t in rng.sample(Array(1...Self.teamCount), 10) {
            shapes.append((.team(t, keys: rng.sample(Self.keyPrefixes, 1 + rng.below(2))), 3))
        }
        for g in Self.suffixGlobs { shapes.append((.suffix(g), 2)) }
        for p in ["personal/", "health/", "legal/", "finance/2024/", "finance/", "audit/", "backup/", "logs/", "tmp/", "invoices/", "media/", "exports/"] {
            shapes.append((.keys([p]), p == "finance/2024/" ? 2 : 1))
        }
        shapes.append((.tag("classification", "personal"), 4))
        shapes.append((.tag("classification", "confidential"), 4))
        shapes.append((.tag("retention", "*"), 5))
        shapes.append((.tag("project", "*"), 5))
        shapes.append((.literalTagged(["hr-prod-0", "patients-prod-2"], "public"), 6))
        precondition(shapes.count == count - 1, "replication shapes: \(shapes.count), wanted \(count - 1)")

        let zoneCodes = catalog.zones.filter { Self.coreCountries.contains($0.country) }.map(\.code)
        var docs: [Doc] = []
        var tierCounter = [Int: Int]()
        for (i, (shape, tier)) in shapes.enumerated() {
            tierCounter[tier, default: 0] += 1
            let priority = tier * 1000 + tierCounter[tier]!
            var spec = matchYAML(shape)
            let name: String
            switch shape {
            case .literal(let names): name = "repl-\(names[0])"
            case .team(let t, let keys): name = keys == nil ? "repl-team-\(t)" : "repl-team-\(t)-keys"
            case .suffix(let g): name = "repl-" + g.filter { $0.isLetter }
            case .keys(let k): name = "repl-prefix-" + k[0].filter { $0.isLetter || $0.isNumber }
            case .tag(let k, let v): name = "repl-tag-\(k)-\(v == "*" ? "any" : v)"
            case .literalTagged(let n, let v): name = "repl-\(n[0])-\(v)"
            case .catchAll: name = "repl-default"
            }
            let copies = 2 + rng.below(2)
            let minProviders = 1 + rng.below(2)
            spec += "  priority: \(priority)\n  copies: \(copies)\n  minProviders: \(minProviders)\n"
            if rng.chance(0.2) { spec += "  minCities: 2\n" }
            if rng.chance(0.4) { spec += "  writeQuorum: \(1 + rng.below(copies))\n  replicationDeadline: \(5 + rng.below(55))m\n" }
            spec += "  placement: \(rng.chance(0.2) ? "spread" : "ordered")\n"
            if rng.chance(0.7) {
                var prefer: [String] = []
                for _ in 0..<(1 + rng.below(3)) {
                    prefer.append(rng.chance(0.5) ? rng.pick(zoneCodes) : rng.pick(Self.coreProviders + ["UpCloud", "IONOS"]))
                }
                spec += "  prefer: \(yamlList(prefer))\n"
            }
            if rng.chance(0.15) {
                spec += "  immutability:\n    mode: \(rng.chance(0.5) ? "compliance" : "governance")\n    retention: \(1 + rng.below(10))y\n"
            }
            let file = "\(String(format2: 6 + i * 5 / max(count, 1)))-replication.yaml"
            docs.append(Doc(file: file, text: header("ReplicationPolicy", name, "How objects of \(name) are replicated.") + spec))
        }
        // The catch-all: lowest priority, ordered, two copies at two providers.
        docs.append(Doc(file: "10-replication.yaml", text: header("ReplicationPolicy", "repl-default", "Everything else.")
            + "  match: {}\n  priority: 1\n  copies: 2\n  minProviders: 2\n  placement: ordered\n  prefer: [Hetzner]\n"))
        return docs
    }

    // MARK: objects

    mutating func objects(count: Int) -> [ObjectRef] {
        let otherBuckets = (0..<50).map { "misc-\(Self.words[$0 % Self.words.count])-\($0)" }
        let keyRoots = ["data/", "uploads/", "reports/", "images/", "2024/", "var/"]
        var result: [ObjectRef] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let bucket: String
            switch rng.below(100) {
            case 0..<30: bucket = rng.pick(Self.literalBuckets)
            case 30..<65: bucket = "team-\(1 + rng.below(Self.teamCount))-\(rng.pick(Self.words))"
            case 65..<75: bucket = "\(rng.pick(Self.words))-\(rng.below(100))\(rng.chance(0.5) ? "-backup" : "-logs")"
            default: bucket = rng.pick(otherBuckets)
            }
            let root = rng.chance(0.5) ? rng.pick(Self.keyPrefixes) : rng.pick(keyRoots)
            let key = "\(root)\(rng.pick(Self.words))/\(rng.below(1_000_000))/object-\(rng.below(10_000)).bin"
            var tags: [ObjectRef.Tag] = []
            if rng.chance(0.3) { tags.append(.init(key: "classification", value: rng.pick(Self.classifications))) }
            if rng.chance(0.1) { tags.append(.init(key: "retention", value: "\(1 + rng.below(10))y")) }
            if rng.chance(0.1) { tags.append(.init(key: "project", value: "p\(rng.below(100))")) }
            result.append(ObjectRef(bucket: bucket, key: key, tags: tags))
        }
        return result
    }
}

extension Array {
    func shuffledDeterministically(_ rng: inout SplitMix64) -> [Element] {
        var a = self
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, rng.below(i + 1))
        }
        return a
    }
}

extension String {
    /// Two-digit zero-padded number, without Foundation.
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
