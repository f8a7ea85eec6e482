#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `ListObjectVersions` response: `<ListVersionsResult>`.
///
/// Versions and delete markers are interleaved in ``entries`` order (key ascending, newest first per key).
/// With ``encodingTypeURL``, `Prefix`, `KeyMarker`, `NextKeyMarker`, `Delimiter`, each `Key` and each
/// common prefix are URL-encoded.
public struct ListVersionsResult: S3XMLEncodable, Hashable {
    /// A stored object version (`<Version>`).
    public struct Version: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The version id (`null` for the version written while versioning was off or suspended).
        public var versionId: String
        /// Whether this is the current version.
        public var isLatest: Bool
        /// Last modification time.
        public var lastModified: Date
        /// The entity tag including quotes.
        public var eTag: String
        /// Size in bytes.
        public var size: Int64
        /// Storage class.
        public var storageClass: String
        /// The owner, when rendered.
        public var owner: S3Owner?
        /// The checksum algorithm, when known.
        public var checksumAlgorithm: String?
        /// The checksum type, when known.
        public var checksumType: String?

        /// Creates a version entry.
        public init(
            key: String,
            versionId: String,
            isLatest: Bool,
            lastModified: Date,
            eTag: String,
            size: Int64,
            storageClass: String = "STANDARD",
            owner: S3Owner? = nil,
            checksumAlgorithm: String? = nil,
            checksumType: String? = nil
        ) {
            self.key = key
            self.versionId = versionId
            self.isLatest = isLatest
            self.lastModified = lastModified
            self.eTag = eTag
            self.size = size
            self.storageClass = storageClass
            self.owner = owner
            self.checksumAlgorithm = checksumAlgorithm
            self.checksumType = checksumType
        }
    }

    /// A delete marker (`<DeleteMarker>`).
    public struct DeleteMarker: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The marker's version id.
        public var versionId: String
        /// Whether the marker is the current version.
        public var isLatest: Bool
        /// When the marker was created.
        public var lastModified: Date
        /// The owner, when rendered.
        public var owner: S3Owner?

        /// Creates a delete-marker entry.
        public init(key: String, versionId: String, isLatest: Bool, lastModified: Date, owner: S3Owner? = nil) {
            self.key = key
            self.versionId = versionId
            self.isLatest = isLatest
            self.lastModified = lastModified
            self.owner = owner
        }
    }

    /// One entry in listing order.
    public enum Entry: Sendable, Hashable {
        /// An object version.
        case version(Version)
        /// A delete marker.
        case deleteMarker(DeleteMarker)
    }

    /// The bucket name.
    public var name: String
    /// The prefix filter (`""` when none).
    public var prefix: String
    /// `key-marker` echoed back (`""` when none).
    public var keyMarker: String
    /// `version-id-marker` echoed back (`""` when none).
    public var versionIdMarker: String
    /// Where the next page starts, when truncated.
    public var nextKeyMarker: String?
    /// The version id where the next page starts, when truncated.
    public var nextVersionIdMarker: String?
    /// Page size requested.
    public var maxKeys: Int
    /// The delimiter, when given.
    public var delimiter: String?
    /// Whether values are URL-encoded (`encoding-type=url`).
    public var encodingTypeURL: Bool
    /// Whether more results follow.
    public var isTruncated: Bool
    /// Versions and delete markers in order.
    public var entries: [Entry]
    /// The rolled-up common prefixes.
    public var commonPrefixes: [String]

    /// Creates a versions listing.
    public init(
        name: String,
        prefix: String = "",
        keyMarker: String = "",
        versionIdMarker: String = "",
        nextKeyMarker: String? = nil,
        nextVersionIdMarker: String? = nil,
        maxKeys: Int = 1000,
        delimiter: String? = nil,
        encodingTypeURL: Bool = false,
        isTruncated: Bool = false,
        entries: [Entry] = [],
        commonPrefixes: [String] = []
    ) {
        self.name = name
        self.prefix = prefix
        self.keyMarker = keyMarker
        self.versionIdMarker = versionIdMarker
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIdMarker = nextVersionIdMarker
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.encodingTypeURL = encodingTypeURL
        self.isTruncated = isTruncated
        self.entries = entries
        self.commonPrefixes = commonPrefixes
    }

    public func write(to writer: inout XMLWriter) {
        let encode = encodingTypeURL
        writer.open("ListVersionsResult", namespace: S3XMLNamespace.uri)
        writer.element("Name", name)
        writer.element("Prefix", ListingEncoding.value(prefix, encode))
        writer.element("KeyMarker", ListingEncoding.value(keyMarker, encode))
        writer.element("VersionIdMarker", versionIdMarker)
        writer.element("NextKeyMarker", ifPresent: ListingEncoding.optional(nextKeyMarker, encode))
        writer.element("NextVersionIdMarker", ifPresent: nextVersionIdMarker)
        writer.element("MaxKeys", maxKeys)
        writer.element("Delimiter", ifPresent: ListingEncoding.optional(delimiter, encode))
        if encode { writer.element("EncodingType", "url") }
        writer.element("IsTruncated", isTruncated)
        for entry in entries {
            switch entry {
            case .version(let version):
                writer.open("Version")
                writer.element("Key", ListingEncoding.value(version.key, encode))
                writer.element("VersionId", version.versionId)
                writer.element("IsLatest", version.isLatest)
                writer.element("LastModified", version.lastModified)
                writer.element("ETag", version.eTag)
                writer.element("ChecksumAlgorithm", ifPresent: version.checksumAlgorithm)
                writer.element("ChecksumType", ifPresent: version.checksumType)
                writer.element("Size", version.size)
                version.owner?.write(to: &writer)
                writer.element("StorageClass", version.storageClass)
                writer.close("Version")
            case .deleteMarker(let marker):
                writer.open("DeleteMarker")
                writer.element("Key", ListingEncoding.value(marker.key, encode))
                writer.element("VersionId", marker.versionId)
                writer.element("IsLatest", marker.isLatest)
                writer.element("LastModified", marker.lastModified)
                marker.owner?.write(to: &writer)
                writer.close("DeleteMarker")
            }
        }
        ListingEncoding.writeCommonPrefixes(commonPrefixes, to: &writer, encode: encode)
        writer.close("ListVersionsResult")
    }
}
