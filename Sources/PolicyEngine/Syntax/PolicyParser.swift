/// Turns YAML documents into typed policy documents, checking their shape strictly.
struct PolicyParser {
    static let apiVersion = "sovereignty/v1"

    var reader = NodeReader()
    var residency: [ResidencyPolicy] = []
    var replication: [ReplicationPolicy] = []
    var groups: [CountryGroup] = []
    var tests: [PolicyTest] = []

    var diagnostics: [Diagnostic] { reader.diagnostics }

    mutating func parse(_ document: YAMLDocument) {
        guard let root = document.root, !(isNull(root)) else {
            return  // an empty document (a trailing `---`) is allowed
        }
        let errorsBefore = reader.diagnostics.errorCount
        // A PolicyTest may leave out apiVersion (as the contract's own example does); if it
        // gives one, it is checked like any other. Every other kind requires it.
        let required = Self.isPolicyTest(root) ? ["kind", "metadata", "spec"] : ["apiVersion", "kind", "metadata", "spec"]
        guard let m = reader.mapping(root, "a policy document",
                                     allowed: ["apiVersion", "kind", "metadata", "spec"],
                                     required: required) else { return }
        if let v = m["apiVersion"], let version = reader.string(v, "apiVersion"), version.value != Self.apiVersion {
            reader.error(.unsupportedAPIVersion, version.location,
                         "unsupported apiVersion '\(version.value)'", hints: ["use apiVersion: \(Self.apiVersion)"])
        }
        guard let kindNode = m["kind"], let kindText = reader.string(kindNode, "kind") else { return }
        guard let kind = PolicyKind(rawValue: kindText.value) else {
            reader.error(.unknownKind, kindText.location, "unknown kind '\(kindText.value)'",
                         hints: Suggestions.hint(for: kindText.value, in: PolicyKind.allCases.map(\.rawValue))
                            + ["kinds: " + PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")])
            return
        }
        guard let metaNode = m["metadata"], let metadata = parseMetadata(metaNode, kind: kind) else { return }
        guard let specNode = m["spec"] else { return }
        switch kind {
        case .residencyPolicy:
            if var p = parseResidency(specNode, metadata: metadata, at: m.location) {
                p.hasErrors = reader.diagnostics.errorCount > errorsBefore
                residency.append(p)
            }
        case .replicationPolicy:
            if var p = parseReplication(specNode, metadata: metadata, at: m.location) {
                p.hasErrors = reader.diagnostics.errorCount > errorsBefore
                replication.append(p)
            }
        case .countryGroup:
            if let g = parseGroup(specNode, metadata: metadata, at: m.location) { groups.append(g) }
        case .policyTest:
            if let t = parseTest(specNode, metadata: metadata, at: m.location) { tests.append(t) }
        }
    }

    /// A mapping whose `kind` is `PolicyTest`.
    private static func isPolicyTest(_ node: YAMLNode) -> Bool {
        guard case .mapping(let m) = node, case .scalar(let kind)? = m["kind"] else { return false }
        return kind.value == PolicyKind.policyTest.rawValue
    }

    private func isNull(_ node: YAMLNode) -> Bool {
        if case .scalar(let s) = node { return s.isNull }
        return false
    }

    // MARK: metadata

    mutating func parseMetadata(_ node: YAMLNode, kind: PolicyKind) -> PolicyMetadata? {
        guard let m = reader.mapping(node, "metadata", allowed: ["name", "description", "owner"],
                                     required: ["name"]) else { return nil }
        guard let nameNode = m["name"], let name = reader.string(nameNode, "metadata.name") else { return nil }
        if !Self.isDNSLabel(name.value) {
            reader.error(.invalidName, name.location,
                         "metadata.name '\(name.value)' is not a lowercase DNS label",
                         hints: ["use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or digit"])
        }
        return PolicyMetadata(
            name: name.value,
            description: m["description"].flatMap { reader.string($0, "metadata.description")?.value },
            owner: m["owner"].flatMap { reader.string($0, "metadata.owner")?.value },
            location: name.location
        )
    }

    static func isDNSLabel(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard alnum(bytes.first!), alnum(bytes.last!) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    // MARK: selector

    mutating func parseSelector(_ node: YAMLNode) -> Selector? {
        guard let m = reader.mapping(node, "spec.match", allowed: ["buckets", "keyPrefixes", "tags"]) else { return nil }
        var selector = Selector(buckets: nil, keyPrefixes: nil, tags: nil, location: m.location)
        if let b = m["buckets"], let (list, complete) = reader.stringListCheckingItems(b, "spec.match.buckets") {
            if list.isEmpty && complete {
                reader.warning(.emptyList, b.location, "spec.match.buckets is empty: the policy matches no object",
                               hints: ["omit the field to match every bucket"])
            }
            selector.buckets = list.map { Located(Glob($0.value), at: $0.location) }
        }
        if let k = m["keyPrefixes"], let (list, complete) = reader.stringListCheckingItems(k, "spec.match.keyPrefixes") {
            if list.isEmpty && complete {
                reader.warning(.emptyList, k.location, "spec.match.keyPrefixes is empty: the policy matches no object",
                               hints: ["omit the field to match every key"])
            }
            selector.keyPrefixes = list
        }
        if let t = m["tags"] {
            if case .mapping(let tm) = t {
                selector.tags = tm.entries.compactMap { entry in
                    guard let v = reader.string(entry.value, "spec.match.tags.\(entry.key.value)") else { return nil }
                    let condition: Selector.TagCondition = v.value == "*" ? .present : .equals(v.value)
                    return (entry.key.value, condition, entry.key.location)
                }
            } else {
                reader.error(.wrongType, t.location, "spec.match.tags must be a mapping of tag keys to values")
            }
        }
        return selector
    }

    // MARK: residency

    mutating func parseFilter(_ node: YAMLNode, _ path: String, allowZones: Bool = true) -> ZoneFilter? {
        let fields = ["countries", "cities", "providers", "zones"]
        guard let m = reader.mapping(node, path, allowed: fields) else { return nil }
        var filter = ZoneFilter(location: m.location)
        // An empty name admits or denies nothing: an error about the value.
        func names(_ field: String, _ what: String) -> [Located<String>]? {
            guard let n = m[field], let (list, complete) = reader.stringListCheckingItems(n, "\(path).\(field)", naming: what) else { return nil }
            if !complete { filter.incompleteFields.insert(field) }
            return list
        }
        filter.countries = names("countries", "a country code or group name")
        filter.cities = names("cities", "a city name")
        filter.providers = names("providers", "a provider name")
        filter.zones = names("zones", "a zone code")
        return filter
    }

    mutating func parseResidency(_ node: YAMLNode, metadata: PolicyMetadata, at location: SourceLocation) -> ResidencyPolicy? {
        guard let m = reader.mapping(node, "spec", allowed: ["match", "allow", "deny", "require"], required: ["match"]) else { return nil }
        guard let matchNode = m["match"], let match = parseSelector(matchNode) else { return nil }
        var policy = ResidencyPolicy(metadata: metadata, match: match, allow: nil, deny: nil, require: nil, location: location)
        if let n = m["allow"] { policy.allow = parseFilter(n, "spec.allow") }
        if let n = m["deny"] { policy.deny = parseFilter(n, "spec.deny") }
        if let n = m["require"],
           let r = reader.mapping(n, "spec.require", allowed: ["capabilities", "certifications", "euHeadquartered"]) {
            policy.require = Requirements(
                capabilities: r["capabilities"].flatMap { reader.stringListCheckingItems($0, "spec.require.capabilities", naming: "a catalog column")?.list } ?? [],
                certifications: r["certifications"].flatMap { reader.stringListCheckingItems($0, "spec.require.certifications", naming: "a catalog column")?.list } ?? [],
                euHeadquartered: r["euHeadquartered"].flatMap { reader.bool($0, "spec.require.euHeadquartered") },
                location: r.location)
        }
        return policy
    }

    // MARK: replication

    mutating func parseReplication(_ node: YAMLNode, metadata: PolicyMetadata, at location: SourceLocation) -> ReplicationPolicy? {
        let fields = ["match", "priority", "copies", "minProviders", "minCities", "writeQuorum",
                      "replicationDeadline", "placement", "prefer", "versioning", "immutability"]
        guard let m = reader.mapping(node, "spec", allowed: fields, required: ["match", "copies"]) else { return nil }
        guard let matchNode = m["match"], let match = parseSelector(matchNode) else { return nil }
        guard let copiesNode = m["copies"], let copies = reader.int(copiesNode, "spec.copies", range: 1...16) else { return nil }
        let priority = m["priority"].flatMap { reader.int($0, "spec.priority", range: -1_000_000...1_000_000) }
            ?? Located(0, at: m.location)
        let minProviders = m["minProviders"].flatMap { reader.int($0, "spec.minProviders", range: 1...16) }
            ?? Located(1, at: m.location)
        let minCities = m["minCities"].flatMap { reader.int($0, "spec.minCities", range: 1...16) }
            ?? Located(1, at: m.location)
        var policy = ReplicationPolicy(
            metadata: metadata, match: match, priority: priority, copies: copies,
            minProviders: minProviders, minCities: minCities, writeQuorum: nil,
            replicationDeadlineSeconds: nil, placement: .ordered, prefer: [],
            versioning: Located(.enabled, at: m.location), immutability: nil, location: location)
        if let n = m["writeQuorum"], let q = reader.int(n, "spec.writeQuorum") {
            if q.value < 1 || q.value > copies.value {
                reader.error(.invalidQuorum, q.location, "spec.writeQuorum must be 1…copies (1…\(copies.value)), not \(q.value)")
            } else {
                policy.writeQuorum = q
            }
        }
        for (value, name) in [(minProviders, "minProviders"), (minCities, "minCities")] where value.value > copies.value {
            reader.error(.invalidValue, value.location,
                         "spec.\(name) (\(value.value)) is larger than spec.copies (\(copies.value)): it can never be reached")
        }
        if let n = m["replicationDeadline"] { policy.replicationDeadlineSeconds = reader.duration(n, "spec.replicationDeadline")?.value }
        if let n = m["placement"], let p = reader.enumValue(n, "spec.placement", as: Placement.self) { policy.placement = p.value }
        if let n = m["prefer"] { policy.prefer = reader.stringListCheckingItems(n, "spec.prefer", naming: "a zone code or provider name")?.list ?? [] }
        if let n = m["versioning"], let v = reader.enumValue(n, "spec.versioning", as: VersioningMode.self) { policy.versioning = v }
        if let n = m["immutability"],
           let im = reader.mapping(n, "spec.immutability", allowed: ["mode", "retention"], required: ["mode", "retention"]),
           let modeNode = im["mode"], let mode = reader.enumValue(modeNode, "spec.immutability.mode", as: RetentionMode.self),
           let retentionNode = im["retention"], let retention = reader.duration(retentionNode, "spec.immutability.retention") {
            policy.immutability = Located(Immutability(mode: mode.value, retentionSeconds: retention.value), at: im.location)
            if policy.versioning.value != .enabled {
                reader.error(.immutabilityNeedsVersioning, im.location,
                             "immutability requires versioning: enabled (as S3 Object Lock does); this policy has versioning: \(policy.versioning.value.rawValue)",
                             hints: ["set spec.versioning: enabled, or remove spec.immutability"])
            }
        }
        return policy
    }

    // MARK: groups

    mutating func parseGroup(_ node: YAMLNode, metadata: PolicyMetadata, at location: SourceLocation) -> CountryGroup? {
        guard let m = reader.mapping(node, "spec", allowed: ["countries"], required: ["countries"]),
              let n = m["countries"],
              let (list, complete) = reader.stringListCheckingItems(n, "spec.countries", naming: "a country code or group name") else { return nil }
        if list.isEmpty && complete { reader.warning(.emptyList, n.location, "country group '\(metadata.name)' is empty") }
        return CountryGroup(metadata: metadata, countries: list, location: location)
    }

    // MARK: tests

    mutating func parseTest(_ node: YAMLNode, metadata: PolicyMetadata, at location: SourceLocation) -> PolicyTest? {
        guard let m = reader.mapping(node, "spec", allowed: ["cases"], required: ["cases"]),
              let casesNode = m["cases"], let items = reader.list(casesNode, "spec.cases") else { return nil }
        var cases: [PolicyTestCase] = []
        for (i, item) in items.enumerated() {
            let path = "spec.cases[\(i)]"
            guard let c = reader.mapping(item, path, allowed: ["name", "object", "expect"], required: ["object", "expect"]),
                  let objectNode = c["object"],
                  let o = reader.mapping(objectNode, "\(path).object", allowed: ["bucket", "key", "tags"], required: ["bucket", "key"]),
                  let bucket = o["bucket"].flatMap({ reader.string($0, "\(path).object.bucket") }),
                  let key = o["key"].flatMap({ reader.string($0, "\(path).object.key") }),
                  let expectNode = c["expect"] else { continue }
            var tags: [ObjectRef.Tag] = []
            if let t = o["tags"] {
                if case .mapping(let tm) = t {
                    for entry in tm.entries {
                        if let v = reader.string(entry.value, "\(path).object.tags.\(entry.key.value)") {
                            tags.append(.init(key: entry.key.value, value: v.value))
                        }
                    }
                } else {
                    reader.error(.wrongType, t.location, "\(path).object.tags must be a mapping")
                }
            }
            let fields = ["allowed", "zones", "zonesInclude", "zonesExclude", "copies", "writeQuorum", "countries",
                          "replicationPolicy", "residencyPolicies", "versioning"]
            guard let e = reader.mapping(expectNode, "\(path).expect", allowed: fields) else { continue }
            var expect = PolicyTestCase.Expectation()
            expect.allowed = e["allowed"].flatMap { reader.bool($0, "\(path).expect.allowed")?.value }
            expect.zones = e["zones"].flatMap { reader.stringList($0, "\(path).expect.zones")?.map(\.value) }
            expect.zonesInclude = e["zonesInclude"].flatMap { reader.stringList($0, "\(path).expect.zonesInclude")?.map(\.value) }
            expect.zonesExclude = e["zonesExclude"].flatMap { reader.stringList($0, "\(path).expect.zonesExclude")?.map(\.value) }
            expect.copies = e["copies"].flatMap { reader.int($0, "\(path).expect.copies")?.value }
            expect.writeQuorum = e["writeQuorum"].flatMap { reader.int($0, "\(path).expect.writeQuorum")?.value }
            expect.countries = e["countries"].flatMap { reader.stringList($0, "\(path).expect.countries")?.map(\.value) }
            expect.replicationPolicy = e["replicationPolicy"].flatMap { reader.string($0, "\(path).expect.replicationPolicy")?.value }
            expect.residencyPolicies = e["residencyPolicies"].flatMap { reader.stringList($0, "\(path).expect.residencyPolicies")?.map(\.value) }
            expect.versioning = e["versioning"].flatMap { reader.enumValue($0, "\(path).expect.versioning", as: VersioningMode.self)?.value.rawValue }
            let name = c["name"].flatMap { reader.string($0, "\(path).name")?.value }
            cases.append(PolicyTestCase(object: ObjectRef(bucket: bucket.value, key: key.value, tags: tags),
                                        expect: expect, name: name, location: c.location))
        }
        return PolicyTest(metadata: metadata, cases: cases, location: location)
    }
}
