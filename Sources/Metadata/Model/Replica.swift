import Foundation

/// State of one copy of a version in one zone.
public enum ReplicaStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Planned; a sync job will (or is about to) copy it.
    case pending
    /// The backend holds the complete object.
    case complete
    /// Copying failed for good (the reconciler may retry).
    case failed
    /// The version is gone; a delete job removes the backend object.
    case deleting
}

/// One copy of a version (`storageId`) in one zone.
public struct Replica: Sendable, Hashable, Codable {
    public var storageId: String
    public var zone: String
    public var status: ReplicaStatus
    /// Key of the object in the zone's backend bucket.
    public var backendKey: String
    public var size: Int64
    /// The backend's ETag of the copy (may differ from the S3-visible ETag).
    public var etag: String?
    /// A checksum of the copy as the backend reported it.
    public var checksum: String?
    public var updatedAt: Date
    public var lastError: String?

    public init(
        storageId: String,
        zone: String,
        status: ReplicaStatus,
        backendKey: String,
        size: Int64,
        etag: String? = nil,
        checksum: String? = nil,
        updatedAt: Date,
        lastError: String? = nil
    ) {
        self.storageId = storageId
        self.zone = zone
        self.status = status
        self.backendKey = backendKey
        self.size = size
        self.etag = etag
        self.checksum = checksum
        self.updatedAt = updatedAt
        self.lastError = lastError
    }
}

/// A version with its replicas, for `/api/replicas/status` and the reconciler.
public struct ReplicationStatus: Sendable, Hashable {
    public var version: ObjectVersion
    public var replicas: [Replica]

    /// Number of replicas whose status is `complete`.
    public var completeCopies: Int { replicas.filter { $0.status == .complete }.count }

    public init(version: ObjectVersion, replicas: [Replica]) {
        self.version = version
        self.replicas = replicas
    }
}

/// A version with its replicas in zone order (``MetadataStore/versionWithReplicas(bucket:key:versionId:)``).
public struct VersionWithReplicas: Sendable, Hashable {
    public var version: ObjectVersion
    public var replicas: [Replica]

    public init(version: ObjectVersion, replicas: [Replica]) {
        self.version = version
        self.replicas = replicas
    }
}

/// Where a walk over replicas stopped: the last (storage id, zone) it saw.
public struct ReplicaCursor: Sendable, Hashable {
    public var storageId: String
    public var zone: String

    public init(storageId: String, zone: String) {
        self.storageId = storageId
        self.zone = zone
    }

    public init(_ replica: Replica) {
        self.init(storageId: replica.storageId, zone: replica.zone)
    }
}

/// What ``MetadataStore/retireReplica(storageId:zone:keeping:copies:reason:log:now:)`` did.
public enum ReplicaRetirement: Sendable, Hashable {
    /// The replica is `deleting` and `job` removes its object from the zone.
    case retired(job: SyncJob)
    /// Fewer than the required copies are complete in the zones to keep (`complete` are):
    /// nothing changed.
    case tooFewCopies(complete: Int)
    /// Object Lock (a legal hold, or retention until `until`) protects the version: its copies
    /// stay where they are.
    case held(until: Date?)
    /// A `replicate` job to the zone is queued or running: retiring the copy now could leave
    /// an object the delete ran before.
    case copying
    /// The version, or its replica in the zone, is gone or already being deleted.
    case gone
}
