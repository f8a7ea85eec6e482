/// The kinds of document a policy directory holds.
public enum PolicyKind: String, Sendable, CaseIterable {
    case residencyPolicy = "ResidencyPolicy"
    case replicationPolicy = "ReplicationPolicy"
    case countryGroup = "CountryGroup"
    case policyTest = "PolicyTest"
}

/// `metadata:` of every document.
public struct PolicyMetadata: Sendable {
    public var name: String
    public var description: String?
    public var owner: String?
    /// Where `name:` is written.
    public var location: SourceLocation
}

/// `spec.match`: which objects a policy applies to. Omitted fields hold for every object.
public struct Selector: Sendable {
    public enum TagCondition: Sendable, Hashable {
        case equals(String)
        /// `"*"`: the tag is present, with any value.
        case present
    }

    public var buckets: [Located<Glob>]?
    public var keyPrefixes: [Located<String>]?
    public var tags: [(key: String, condition: TagCondition, location: SourceLocation)]?
    public var location: SourceLocation

    /// `match: {}`
    public var isCatchAll: Bool { buckets == nil && keyPrefixes == nil && (tags?.isEmpty ?? true) }

    public func matches(_ object: ObjectRef) -> Bool {
        if let buckets, !buckets.contains(where: { $0.value.matches(object.bucket) }) { return false }
        if let keyPrefixes, !keyPrefixes.contains(where: { object.key.hasPrefixBytes($0.value) }) { return false }
        if let tags {
            for tag in tags {
                guard let value = object.tags.first(where: { $0.key == tag.key })?.value else { return false }
                if case .equals(let expected) = tag.condition, expected != value { return false }
            }
        }
        return true
    }
}

/// A country entry: an ISO code or a group name, as written.
public struct ZoneFilter: Sendable {
    public var countries: [Located<String>]?
    public var cities: [Located<String>]?
    public var providers: [Located<String>]?
    public var zones: [Located<String>]?
    public var location: SourceLocation
    /// Lists of which an entry was refused (not a string, or empty): not the lists as written.
    var incompleteFields: Set<String> = []

    public var isEmpty: Bool { countries == nil && cities == nil && providers == nil && zones == nil }
}

public struct Requirements: Sendable {
    public var capabilities: [Located<String>]
    public var certifications: [Located<String>]
    public var euHeadquartered: Located<Bool>?
    public var location: SourceLocation
}

public struct ResidencyPolicy: Sendable {
    public var metadata: PolicyMetadata
    public var match: Selector
    public var allow: ZoneFilter?
    public var deny: ZoneFilter?
    public var require: Requirements?
    public var location: SourceLocation
    /// The document had errors: what it says was not read in full.
    var hasErrors = false
}

public enum Placement: String, Sendable, CaseIterable { case ordered, spread }

public enum VersioningMode: String, Sendable, CaseIterable {
    /// Always on; clients cannot suspend it.
    case enabled
    /// Always off: a PUT replaces the null version.
    case suspended
    /// The bucket's own S3 versioning setting decides.
    case bucket
}

public enum RetentionMode: String, Sendable, CaseIterable {
    case compliance
    case governance
}

public struct Immutability: Sendable, Hashable {
    public var mode: RetentionMode
    public var retentionSeconds: Int64
}

public struct ReplicationPolicy: Sendable {
    public var metadata: PolicyMetadata
    public var match: Selector
    public var priority: Located<Int>
    public var copies: Located<Int>
    public var minProviders: Located<Int>
    public var minCities: Located<Int>
    public var writeQuorum: Located<Int>?
    public var replicationDeadlineSeconds: Int64?
    public var placement: Placement
    public var prefer: [Located<String>]
    public var versioning: Located<VersioningMode>
    public var immutability: Located<Immutability>?
    public var location: SourceLocation
    /// The document had errors (or, once compiled, a `prefer` entry named nothing).
    var hasErrors = false

    public var effectiveWriteQuorum: Int { writeQuorum?.value ?? copies.value }
}

public struct CountryGroup: Sendable {
    public var metadata: PolicyMetadata
    public var countries: [Located<String>]
    public var location: SourceLocation
}

/// One case of a `PolicyTest`.
public struct PolicyTestCase: Sendable {
    public struct Expectation: Sendable {
        public var allowed: Bool?
        public var zones: [String]?
        public var zonesInclude: [String]?
        public var zonesExclude: [String]?
        public var copies: Int?
        public var writeQuorum: Int?
        public var countries: [String]?
        public var replicationPolicy: String?
        public var residencyPolicies: [String]?
        public var versioning: String?
    }

    public var object: ObjectRef
    public var expect: Expectation
    public var name: String?
    public var location: SourceLocation
}

public struct PolicyTest: Sendable {
    public var metadata: PolicyMetadata
    public var cases: [PolicyTestCase]
    public var location: SourceLocation
}
