import Foundation

/// An in-progress multipart upload: one backend multipart upload per zone (`backendUploads`),
/// created at initiation, so the eventual version's `storageId` (part of the backend key) is
/// fixed here. The upload row is what keeps the backend uploads alive: its removal (abort,
/// completion) queues the abort of every backend upload left in the same transaction.
public struct MultipartUpload: Sendable, Hashable, Codable {
    public var uploadId: String
    public var bucket: String
    public var key: String
    /// Storage id the completed version will get.
    public var storageId: String
    /// Backend key of the object in every zone.
    public var backendKey: String
    public var initiatedAt: Date
    public var initiator: String
    public var headers: ObjectHeaders
    public var userMetadata: [String: String]
    public var tags: [ObjectTag]
    /// `x-amz-checksum-algorithm` of the upload, if any.
    public var checksumAlgorithm: String?
    public var checksumType: ChecksumType?
    public var placement: PlacementInfo
    /// Zone to the backend's upload id in that zone (the zones every part is sent to).
    public var backendUploads: [String: String]
    public var retention: ObjectRetention?
    public var legalHold: Bool

    public init(
        uploadId: String, bucket: String, key: String, storageId: String, backendKey: String,
        initiatedAt: Date, initiator: String, headers: ObjectHeaders = .init(),
        userMetadata: [String: String] = [:], tags: [ObjectTag] = [], checksumAlgorithm: String? = nil,
        checksumType: ChecksumType? = nil, placement: PlacementInfo = .init(),
        backendUploads: [String: String] = [:], retention: ObjectRetention? = nil, legalHold: Bool = false
    ) {
        self.uploadId = uploadId
        self.bucket = bucket
        self.key = key
        self.storageId = storageId
        self.backendKey = backendKey
        self.initiatedAt = initiatedAt
        self.initiator = initiator
        self.headers = headers
        self.userMetadata = userMetadata
        self.tags = tags
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
        self.placement = placement
        self.backendUploads = backendUploads
        self.retention = retention
        self.legalHold = legalHold
    }
}

/// One uploaded part; uploading the same part number again replaces it.
public struct MultipartPart: Sendable, Hashable, Codable {
    public var uploadId: String
    public var partNumber: Int
    public var size: Int64
    public var etag: String
    /// Algorithm to base64 value.
    public var checksums: [String: String]
    /// Zone to the backend's ETag of this part in that zone: the zones that hold it (a zone
    /// missing here cannot join the completed object).
    public var backendETags: [String: String]
    public var createdAt: Date

    public init(
        uploadId: String, partNumber: Int, size: Int64, etag: String,
        checksums: [String: String] = [:], backendETags: [String: String] = [:], createdAt: Date
    ) {
        self.uploadId = uploadId
        self.partNumber = partNumber
        self.size = size
        self.etag = etag
        self.checksums = checksums
        self.backendETags = backendETags
        self.createdAt = createdAt
    }
}

/// ListMultipartUploads input: uploads by key, then initiation time.
public struct ListUploadsRequest: Sendable, Hashable {
    public var bucket: String
    public var prefix: String
    public var delimiter: String?
    public var keyMarker: String?
    public var uploadIdMarker: String?
    public var maxUploads: Int

    public init(
        bucket: String, prefix: String = "", delimiter: String? = nil, keyMarker: String? = nil,
        uploadIdMarker: String? = nil, maxUploads: Int = 1000
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.uploadIdMarker = uploadIdMarker
        self.maxUploads = maxUploads
    }
}

public struct UploadListing: Sendable, Hashable {
    public var uploads: [MultipartUpload]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIdMarker: String?

    public init(
        uploads: [MultipartUpload], commonPrefixes: [String], isTruncated: Bool,
        nextKeyMarker: String?, nextUploadIdMarker: String?
    ) {
        self.uploads = uploads
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextUploadIdMarker = nextUploadIdMarker
    }
}

public struct PartListing: Sendable, Hashable {
    public var parts: [MultipartPart]
    public var isTruncated: Bool
    public var nextPartNumberMarker: Int?

    public init(parts: [MultipartPart], isTruncated: Bool, nextPartNumberMarker: Int?) {
        self.parts = parts
        self.isTruncated = isTruncated
        self.nextPartNumberMarker = nextPartNumberMarker
    }
}

/// What an abort removed, and the `abortUpload` jobs queued in the same transaction (one per
/// zone with a backend upload), which the gateway runs at once where it can.
public struct AbortedUpload: Sendable, Hashable {
    public var upload: MultipartUpload
    public var parts: [MultipartPart]
    public var jobs: [SyncJob]

    public init(upload: MultipartUpload, parts: [MultipartPart], jobs: [SyncJob] = []) {
        self.upload = upload
        self.parts = parts
        self.jobs = jobs
    }
}
