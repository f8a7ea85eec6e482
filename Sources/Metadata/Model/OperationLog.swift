import Foundation

/// One row of the operations log (audit of every S3 and admin operation).
public struct OperationLogEntry: Sendable, Hashable, Codable {
    /// Assigned by the store on append (ignored on input); increasing.
    public var id: Int64
    public var time: Date
    public var requestId: String
    public var principal: String?
    /// S3 operation name, e.g. `PutObject`, `DeleteObject`, `CompleteMultipartUpload`.
    public var operation: String
    public var bucket: String?
    public var key: String?
    public var versionId: String?
    public var httpStatus: Int
    public var zones: [String]
    public var policySetHash: String?
    public var bytes: Int64
    public var durationMs: Int64
    /// Free text: the error or a note.
    public var detail: String?

    public init(
        id: Int64 = 0, time: Date, requestId: String, principal: String? = nil, operation: String,
        bucket: String? = nil, key: String? = nil, versionId: String? = nil, httpStatus: Int,
        zones: [String] = [], policySetHash: String? = nil, bytes: Int64 = 0, durationMs: Int64 = 0,
        detail: String? = nil
    ) {
        self.id = id
        self.time = time
        self.requestId = requestId
        self.principal = principal
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.httpStatus = httpStatus
        self.zones = zones
        self.policySetHash = policySetHash
        self.bytes = bytes
        self.durationMs = durationMs
        self.detail = detail
    }
}

/// A page of the operations log, newest first; every filter is optional.
public struct OperationLogQuery: Sendable, Hashable {
    public var limit: Int
    /// Cursor: only entries with an id below this (pass the last id of the previous page).
    public var beforeId: Int64?
    public var bucket: String?
    public var keyPrefix: String?
    public var operation: String?
    public var statusRange: ClosedRange<Int>?
    /// Inclusive.
    public var since: Date?
    /// Exclusive.
    public var until: Date?

    public init(
        limit: Int = 100, beforeId: Int64? = nil, bucket: String? = nil, keyPrefix: String? = nil,
        operation: String? = nil, statusRange: ClosedRange<Int>? = nil, since: Date? = nil, until: Date? = nil
    ) {
        self.limit = limit
        self.beforeId = beforeId
        self.bucket = bucket
        self.keyPrefix = keyPrefix
        self.operation = operation
        self.statusRange = statusRange
        self.since = since
        self.until = until
    }
}

/// Where an entry of the operations log sits in the chain of seals.
public struct LogSeal: Sendable, Hashable, Codable {
    /// 1, 2, 3, … in the order the entries were sealed (not always their id order: an entry
    /// whose transaction committed late is sealed in a later batch).
    public var sequence: Int64
    /// The entry's id.
    public var id: Int64
    /// The chain hash: of this entry and the hash of the one sealed before it.
    public var hash: String

    public init(sequence: Int64, id: Int64, hash: String) {
        self.sequence = sequence
        self.id = id
        self.hash = hash
    }
}

/// What ``MetadataStore/sealLog(limit:seal:)`` did.
public struct LogSealBatch: Sendable, Hashable {
    /// Entries sealed by this call.
    public var sealed: Int
    /// The last seal of the chain after the call (nil when nothing was ever sealed).
    public var head: LogSeal?

    public init(sealed: Int, head: LogSeal?) {
        self.sealed = sealed
        self.head = head
    }
}

/// Entries not sealed yet: how many, and the time of the oldest.
public struct UnsealedLog: Sendable, Hashable {
    public var count: Int
    public var oldest: Date?

    public init(count: Int, oldest: Date?) {
        self.count = count
        self.oldest = oldest
    }
}
