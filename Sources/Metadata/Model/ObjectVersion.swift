import Foundation

/// The literal S3 version id of writes to unversioned or suspended buckets.
public let nullVersionID = "null"

/// Standard HTTP headers stored with an object and returned on GET/HEAD.
public struct ObjectHeaders: Sendable, Hashable, Codable {
    public var contentType: String?
    public var cacheControl: String?
    public var contentDisposition: String?
    public var contentEncoding: String?
    public var contentLanguage: String?
    /// The `Expires` header as the client sent it.
    public var expires: String?

    public init(
        contentType: String? = nil,
        cacheControl: String? = nil,
        contentDisposition: String? = nil,
        contentEncoding: String? = nil,
        contentLanguage: String? = nil,
        expires: String? = nil
    ) {
        self.contentType = contentType
        self.cacheControl = cacheControl
        self.contentDisposition = contentDisposition
        self.contentEncoding = contentEncoding
        self.contentLanguage = contentLanguage
        self.expires = expires
    }
}

/// One object tag; tags keep the order the client gave.
public struct ObjectTag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// S3 checksum type of an object.
public enum ChecksumType: String, Sendable, Hashable, Codable {
    case fullObject = "FULL_OBJECT"
    case composite = "COMPOSITE"
}

/// Additional checksums: algorithm name (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`) to
/// the base64 value, plus the checksum type.
public struct ObjectChecksums: Sendable, Hashable, Codable {
    public var values: [String: String]
    public var type: ChecksumType?

    public init(_ values: [String: String] = [:], type: ChecksumType? = nil) {
        self.values = values
        self.type = type
    }
}

/// Object Lock retention of one version.
public struct ObjectRetention: Sendable, Hashable, Codable {
    public var mode: RetentionMode
    public var retainUntil: Date

    public init(mode: RetentionMode, retainUntil: Date) {
        self.mode = mode
        self.retainUntil = retainUntil
    }

    /// Whether the retention still protects the version at `now`.
    public func isActive(at now: Date) -> Bool { retainUntil > now }
}

/// Where a version must live, as decided by the policy set that planned it.
public struct PlacementInfo: Sendable, Hashable, Codable {
    /// Hash of the compiled policy set that produced the plan.
    public var policySetHash: String?
    /// Names of the residency policies that applied.
    public var residencyPolicies: [String]
    /// Name of the replication policy that applied.
    public var replicationPolicy: String?
    /// Zones in plan order (the read path tries them in this order).
    public var plannedZones: [String]
    /// Copies that must exist for the version to be fully replicated.
    public var requiredCopies: Int
    /// Copies that had to be written before the PUT was acknowledged.
    public var writeQuorum: Int
    /// When the remaining copies must exist; sync jobs past it are "late".
    public var replicationDeadline: Date?

    public init(
        policySetHash: String? = nil,
        residencyPolicies: [String] = [],
        replicationPolicy: String? = nil,
        plannedZones: [String] = [],
        requiredCopies: Int = 1,
        writeQuorum: Int = 1,
        replicationDeadline: Date? = nil
    ) {
        self.policySetHash = policySetHash
        self.residencyPolicies = residencyPolicies
        self.replicationPolicy = replicationPolicy
        self.plannedZones = plannedZones
        self.requiredCopies = requiredCopies
        self.writeQuorum = writeQuorum
        self.replicationDeadline = replicationDeadline
    }
}

/// One version of an object (or a delete marker), as committed.
public struct ObjectVersion: Sendable, Hashable, Codable {
    /// Internal id chosen by the gateway, unique forever; part of the backend keys.
    public var storageId: String
    /// The S3-visible version id: generated, or ``nullVersionID``.
    public var versionId: String
    public var bucket: String
    public var key: String
    /// Assigned by the store at commit; strictly increasing, newest is highest.
    public var sequence: Int64
    /// Whether this is the key's newest version (maintained by the store).
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var size: Int64
    public var etag: String
    public var headers: ObjectHeaders
    /// `x-amz-meta-*` headers without the prefix.
    public var userMetadata: [String: String]
    public var tags: [ObjectTag]
    public var checksums: ObjectChecksums
    /// Number of parts for a multipart object, nil for a single PUT.
    public var partsCount: Int?
    /// Last-Modified.
    public var createdAt: Date
    public var placement: PlacementInfo
    public var retention: ObjectRetention?
    public var legalHold: Bool

    public init(
        storageId: String,
        versionId: String,
        bucket: String,
        key: String,
        sequence: Int64 = 0,
        isLatest: Bool = true,
        isDeleteMarker: Bool = false,
        size: Int64,
        etag: String,
        headers: ObjectHeaders = .init(),
        userMetadata: [String: String] = [:],
        tags: [ObjectTag] = [],
        checksums: ObjectChecksums = .init(),
        partsCount: Int? = nil,
        createdAt: Date,
        placement: PlacementInfo = .init(),
        retention: ObjectRetention? = nil,
        legalHold: Bool = false
    ) {
        self.storageId = storageId
        self.versionId = versionId
        self.bucket = bucket
        self.key = key
        self.sequence = sequence
        self.isLatest = isLatest
        self.isDeleteMarker = isDeleteMarker
        self.size = size
        self.etag = etag
        self.headers = headers
        self.userMetadata = userMetadata
        self.tags = tags
        self.checksums = checksums
        self.partsCount = partsCount
        self.createdAt = createdAt
        self.placement = placement
        self.retention = retention
        self.legalHold = legalHold
    }

    /// A delete marker: a version without data that hides the key from listings and GETs.
    public static func deleteMarker(
        storageId: String,
        versionId: String,
        bucket: String,
        key: String,
        createdAt: Date
    ) -> ObjectVersion {
        ObjectVersion(
            storageId: storageId, versionId: versionId, bucket: bucket, key: key,
            isDeleteMarker: true, size: 0, etag: "", createdAt: createdAt,
            placement: PlacementInfo(requiredCopies: 0, writeQuorum: 0)
        )
    }

    /// Whether Object Lock forbids deleting this version permanently at `now`.
    public func isLocked(at now: Date, bypassGovernance: Bool) -> Bool {
        if isDeleteMarker { return false }
        if legalHold { return true }
        guard let retention, retention.isActive(at: now) else { return false }
        return retention.mode == .compliance || !bypassGovernance
    }
}
