import Foundation

/// What a sync job does in its zone.
public enum SyncJobKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Copy the version from `sourceZone` to `zone`.
    case replicate
    /// Delete the backend object `backendKey` in `zone`.
    case delete
    /// Abort the unfinished backend multipart uploads of `backendKey` in `zone` (a client's
    /// upload was aborted, or completed without this zone); when no version has `storageId`,
    /// an object an unrecorded completion left at `backendKey` is deleted too.
    case abortUpload
}

/// Lifecycle of a sync job. "Late" is not a status: it is any unfinished job past its deadline
/// (see ``MetadataStore/lateJobs(now:limit:)``).
public enum SyncJobStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting until `notBefore`.
    case queued
    /// Claimed by a worker until `leaseUntil`; reclaimable after it.
    case running
    case done
    /// Gave up (no retry was scheduled).
    case failed
}

/// A unit of work for the replication worker.
public struct SyncJob: Sendable, Hashable, Codable {
    public var id: Int64
    public var kind: SyncJobKind
    public var storageId: String
    public var zone: String
    public var sourceZone: String?
    public var bucket: String
    public var key: String
    public var backendKey: String
    public var attempts: Int
    public var notBefore: Date
    public var deadline: Date?
    public var status: SyncJobStatus
    public var lastError: String?
    public var claimedBy: String?
    public var claimedAt: Date?
    public var leaseUntil: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, kind: SyncJobKind, storageId: String, zone: String, sourceZone: String?,
        bucket: String, key: String, backendKey: String, attempts: Int, notBefore: Date,
        deadline: Date?, status: SyncJobStatus, lastError: String?, claimedBy: String?,
        claimedAt: Date?, leaseUntil: Date?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.storageId = storageId
        self.zone = zone
        self.sourceZone = sourceZone
        self.bucket = bucket
        self.key = key
        self.backendKey = backendKey
        self.attempts = attempts
        self.notBefore = notBefore
        self.deadline = deadline
        self.status = status
        self.lastError = lastError
        self.claimedBy = claimedBy
        self.claimedAt = claimedAt
        self.leaseUntil = leaseUntil
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the job is unfinished and past its deadline at `now`.
    public func isLate(at now: Date) -> Bool {
        guard let deadline, status != .done else { return false }
        return deadline < now
    }
}

/// A job to enqueue outside a commit (the reconciler re-queues copies and cleanups).
public struct NewSyncJob: Sendable, Hashable {
    public var kind: SyncJobKind
    public var storageId: String
    public var zone: String
    public var sourceZone: String?
    public var bucket: String
    public var key: String
    public var backendKey: String
    public var notBefore: Date
    public var deadline: Date?

    public init(
        kind: SyncJobKind, storageId: String, zone: String, sourceZone: String? = nil,
        bucket: String, key: String, backendKey: String, notBefore: Date, deadline: Date? = nil
    ) {
        self.kind = kind
        self.storageId = storageId
        self.zone = zone
        self.sourceZone = sourceZone
        self.bucket = bucket
        self.key = key
        self.backendKey = backendKey
        self.notBefore = notBefore
        self.deadline = deadline
    }
}

/// Number of jobs per status, plus unfinished jobs past their deadline.
public struct SyncJobCounts: Sendable, Hashable, Codable {
    public var queued: Int
    public var running: Int
    public var done: Int
    public var failed: Int
    public var late: Int

    public init(queued: Int = 0, running: Int = 0, done: Int = 0, failed: Int = 0, late: Int = 0) {
        self.queued = queued
        self.running = running
        self.done = done
        self.failed = failed
        self.late = late
    }
}
