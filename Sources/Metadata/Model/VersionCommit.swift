import Foundation

/// A replica row written with a commit: `complete` for copies the gateway wrote (the quorum),
/// `pending` for copies still to make (the store queues a `replicate` job for each), `failed`
/// for a zone whose write failed (also queued for retry).
public struct CommitReplica: Sendable, Hashable {
    public var zone: String
    public var status: ReplicaStatus
    public var backendKey: String
    public var etag: String?
    public var checksum: String?
    public var lastError: String?

    public init(
        zone: String, status: ReplicaStatus, backendKey: String,
        etag: String? = nil, checksum: String? = nil, lastError: String? = nil
    ) {
        self.zone = zone
        self.status = status
        self.backendKey = backendKey
        self.etag = etag
        self.checksum = checksum
        self.lastError = lastError
    }
}

/// A conditional write, checked against the key's latest version inside the commit transaction.
public enum WritePrecondition: Sendable, Hashable {
    case none
    /// `If-None-Match: *`: the key has no current object (no version, or a delete marker).
    case keyAbsent
    /// `If-Match: etag`: the current object has this ETag.
    case latestETag(String)
}

/// Everything one PUT / CompleteMultipartUpload / DELETE (marker) commits atomically.
public struct VersionCommit: Sendable, Hashable {
    /// The version to insert; `sequence` and `isLatest` are assigned by the store.
    public var version: ObjectVersion
    /// Replica rows; ignored for delete markers.
    public var replicas: [CommitReplica]
    public var precondition: WritePrecondition
    /// Appended to the operations log in the same transaction.
    public var log: OperationLogEntry?

    public init(
        version: ObjectVersion,
        replicas: [CommitReplica] = [],
        precondition: WritePrecondition = .none,
        log: OperationLogEntry? = nil
    ) {
        self.version = version
        self.replicas = replicas
        self.precondition = precondition
        self.log = log
    }
}

/// What a commit did.
public struct CommitResult: Sendable, Hashable {
    /// The committed version with its sequence.
    public var version: ObjectVersion
    /// The previous "null" version this commit replaced, if any.
    public var replaced: ObjectVersion?
    /// Jobs queued for the copies still to make.
    public var replicationJobs: [SyncJob]
    /// Jobs queued to delete the replaced version's backend objects.
    public var deleteJobs: [SyncJob]
    /// Id of the operations-log row, when one was written.
    public var logId: Int64?
    /// CompleteMultipartUpload: jobs queued to abort the backend uploads of the zones that did
    /// not complete (their copies come from `replicationJobs`).
    public var abortJobs: [SyncJob]

    public init(
        version: ObjectVersion, replaced: ObjectVersion?, replicationJobs: [SyncJob],
        deleteJobs: [SyncJob], logId: Int64?, abortJobs: [SyncJob] = []
    ) {
        self.version = version
        self.replaced = replaced
        self.replicationJobs = replicationJobs
        self.deleteJobs = deleteJobs
        self.logId = logId
        self.abortJobs = abortJobs
    }
}

/// Permanent deletion of one version (`DELETE ?versionId=`).
public struct DeleteVersionRequest: Sendable, Hashable {
    public var bucket: String
    public var key: String
    public var versionId: String
    /// Time for the Object Lock check and the jobs.
    public var now: Date
    /// `x-amz-bypass-governance-retention: true` from a principal allowed to use it.
    public var bypassGovernance: Bool
    public var log: OperationLogEntry?

    public init(
        bucket: String, key: String, versionId: String, now: Date,
        bypassGovernance: Bool = false, log: OperationLogEntry? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.now = now
        self.bypassGovernance = bypassGovernance
        self.log = log
    }
}

/// What a permanent deletion did.
public struct DeletedVersion: Sendable, Hashable {
    /// The removed version as it was.
    public var version: ObjectVersion
    /// The key's latest version after the deletion (nil when none is left).
    public var newLatest: ObjectVersion?
    /// Jobs queued to delete its backend objects.
    public var deleteJobs: [SyncJob]
    public var logId: Int64?

    public init(version: ObjectVersion, newLatest: ObjectVersion?, deleteJobs: [SyncJob], logId: Int64?) {
        self.version = version
        self.newLatest = newLatest
        self.deleteJobs = deleteJobs
        self.logId = logId
    }
}

/// A write intent: recorded before any byte is streamed so that a crash leaves a trace the
/// reconciler can clean (delete the partial backend objects, then ``MetadataStore/abandonIntent(storageId:)``).
public struct WriteIntent: Sendable, Hashable, Codable {
    public var storageId: String
    public var bucket: String
    public var key: String
    /// Zones the data is being written to.
    public var zones: [String]
    /// Backend key of the data in every zone.
    public var backendKey: String
    public var createdAt: Date

    public init(storageId: String, bucket: String, key: String, zones: [String], backendKey: String, createdAt: Date) {
        self.storageId = storageId
        self.bucket = bucket
        self.key = key
        self.zones = zones
        self.backendKey = backendKey
        self.createdAt = createdAt
    }

    /// Where a version's bytes live inside a backend's physical bucket: `<bucket>/<key>.<storage
    /// id>`, write-once and readable with any S3 client. The storage id is a suffix of the key's
    /// name rather than a name inside a folder of the key: S3 servers that keep objects as files
    /// (and the local-disk zones) then make no folder per object, and a new key costs one file.
    /// Versions written before this layout keep the key they were recorded with
    /// (`<bucket>/<key>/<storage id>`): every reader takes the key from the metadata.
    public static func backendKey(bucket: String, key: String, storageId: String) -> String {
        "\(bucket)/\(key).\(storageId)"
    }

    /// ``backendKey(bucket:key:storageId:)`` in words, as `/bucket-config` shows it.
    public static let backendKeyLayout = "<logical-bucket>/<key>.<storage-id>"
}
