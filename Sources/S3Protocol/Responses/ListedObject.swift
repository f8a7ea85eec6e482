#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `<Contents>` entry of an object listing (V1 or V2).
public struct ListedObject: Sendable, Hashable {
    /// The object key (URL-encoded on output when the listing uses `encoding-type=url`).
    public var key: String
    /// Last modification time.
    public var lastModified: Date
    /// The entity tag exactly as rendered, including its double quotes (e.g. `"d41d8…"`).
    public var eTag: String
    /// Size in bytes.
    public var size: Int64
    /// The storage class (`STANDARD` unless set).
    public var storageClass: String
    /// The owner, rendered only when set (V2 lists it only with `fetch-owner=true`).
    public var owner: S3Owner?
    /// The checksum algorithm (`ChecksumAlgorithm`), when known.
    public var checksumAlgorithm: String?
    /// The checksum type (`ChecksumType`), when known.
    public var checksumType: String?

    /// Creates a listing entry.
    public init(
        key: String,
        lastModified: Date,
        eTag: String,
        size: Int64,
        storageClass: String = "STANDARD",
        owner: S3Owner? = nil,
        checksumAlgorithm: String? = nil,
        checksumType: String? = nil
    ) {
        self.key = key
        self.lastModified = lastModified
        self.eTag = eTag
        self.size = size
        self.storageClass = storageClass
        self.owner = owner
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }

    func write(to writer: inout XMLWriter, encodeURL: Bool) {
        writer.open("Contents")
        writer.element("Key", ListingEncoding.value(key, encodeURL))
        writer.element("LastModified", lastModified)
        writer.element("ETag", eTag)
        writer.element("ChecksumAlgorithm", ifPresent: checksumAlgorithm)
        writer.element("ChecksumType", ifPresent: checksumType)
        writer.element("Size", size)
        owner?.write(to: &writer)
        writer.element("StorageClass", storageClass)
        writer.close("Contents")
    }
}

/// Shared rendering rules for listings that honour `encoding-type=url`.
enum ListingEncoding {
    static func value(_ value: String, _ encode: Bool) -> String {
        encode ? S3URLEncoding.encodeListingValue(value) : value
    }

    static func optional(_ value: String?, _ encode: Bool) -> String? {
        value.map { Self.value($0, encode) }
    }

    static func writeCommonPrefixes(_ prefixes: [String], to writer: inout XMLWriter, encode: Bool) {
        for prefix in prefixes {
            writer.open("CommonPrefixes")
            writer.element("Prefix", value(prefix, encode))
            writer.close("CommonPrefixes")
        }
    }
}
