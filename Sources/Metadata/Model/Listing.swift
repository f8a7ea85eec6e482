/// ListObjects (V1 and V2) input. Keys are ordered by their UTF-8 bytes.
public struct ListObjectsRequest: Sendable, Hashable {
    public var bucket: String
    public var prefix: String
    /// Rolls keys up into common prefixes at the first delimiter after `prefix`.
    public var delimiter: String?
    /// Exclusive start: V1 `marker`, V2 `start-after` or the decoded continuation token.
    public var startAfter: String?
    public var maxKeys: Int

    public init(bucket: String, prefix: String = "", delimiter: String? = nil, startAfter: String? = nil, maxKeys: Int = 1000) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.maxKeys = maxKeys
    }
}

/// One page of ListObjects: the latest versions of keys that are not deleted.
public struct ObjectListing: Sendable, Hashable {
    public var objects: [ObjectVersion]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// When truncated: the last key or common prefix returned; pass it as `startAfter`.
    public var nextMarker: String?

    public init(objects: [ObjectVersion], commonPrefixes: [String], isTruncated: Bool, nextMarker: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextMarker = nextMarker
    }
}

/// ListObjectVersions input.
public struct ListVersionsRequest: Sendable, Hashable {
    public var bucket: String
    public var prefix: String
    public var delimiter: String?
    public var keyMarker: String?
    /// Only with `keyMarker`: continue after this version of `keyMarker`.
    public var versionIdMarker: String?
    public var maxKeys: Int

    public init(
        bucket: String, prefix: String = "", delimiter: String? = nil, keyMarker: String? = nil,
        versionIdMarker: String? = nil, maxKeys: Int = 1000
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.versionIdMarker = versionIdMarker
        self.maxKeys = maxKeys
    }
}

/// One page of ListObjectVersions: keys ascending, each key's versions newest first.
/// `versions` holds objects and delete markers in that order (`isDeleteMarker`, `isLatest`).
public struct VersionListing: Sendable, Hashable {
    public var versions: [ObjectVersion]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextVersionIdMarker: String?

    public init(
        versions: [ObjectVersion], commonPrefixes: [String], isTruncated: Bool,
        nextKeyMarker: String?, nextVersionIdMarker: String?
    ) {
        self.versions = versions
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIdMarker = nextVersionIdMarker
    }
}
