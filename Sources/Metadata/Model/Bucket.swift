import Foundation

/// S3 bucket versioning state.
public enum VersioningState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Never enabled: every write is the "null" version and replaces the previous one.
    case unversioned
    case enabled
    /// Was enabled: existing versions stay, new writes are "null" versions.
    case suspended
}

/// Object Lock retention mode.
public enum RetentionMode: String, Sendable, Hashable, Codable, CaseIterable {
    case compliance = "COMPLIANCE"
    case governance = "GOVERNANCE"
}

/// A bucket's default retention (Object Lock configuration `DefaultRetention`).
public struct DefaultRetention: Sendable, Hashable, Codable {
    public enum Period: Sendable, Hashable, Codable {
        case days(Int)
        case years(Int)
    }

    public var mode: RetentionMode
    public var period: Period

    public init(mode: RetentionMode, period: Period) {
        self.mode = mode
        self.period = period
    }
}

/// A logical bucket (all of them live as key prefixes in the backends' physical bucket).
public struct Bucket: Sendable, Hashable, Codable {
    public var name: String
    public var createdAt: Date
    /// The principal (access key id or user) that created it.
    public var owner: String
    public var region: String
    public var versioning: VersioningState
    public var objectLockEnabled: Bool
    public var defaultRetention: DefaultRetention?

    public init(
        name: String,
        createdAt: Date,
        owner: String,
        region: String,
        versioning: VersioningState = .unversioned,
        objectLockEnabled: Bool = false,
        defaultRetention: DefaultRetention? = nil
    ) {
        self.name = name
        self.createdAt = createdAt
        self.owner = owner
        self.region = region
        self.versioning = versioning
        self.objectLockEnabled = objectLockEnabled
        self.defaultRetention = defaultRetention
    }
}
