#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `ListParts` response: `<ListPartsResult>`.
public struct ListPartsResult: S3XMLEncodable, Hashable {
    /// One uploaded part.
    public struct Part: Sendable, Hashable {
        /// The part number, 1...10000.
        public var partNumber: Int
        /// When the part was uploaded.
        public var lastModified: Date
        /// The part's entity tag including quotes.
        public var eTag: String
        /// Size in bytes.
        public var size: Int64
        /// The part's checksums, when known (`ChecksumType` is not rendered per part).
        public var checksums: S3Checksums

        /// Creates a part entry.
        public init(
            partNumber: Int,
            lastModified: Date,
            eTag: String,
            size: Int64,
            checksums: S3Checksums = S3Checksums()
        ) {
            self.partNumber = partNumber
            self.lastModified = lastModified
            self.eTag = eTag
            self.size = size
            self.checksums = checksums
        }
    }

    /// The bucket name.
    public var bucket: String
    /// The object key.
    public var key: String
    /// The upload id.
    public var uploadId: String
    /// Who initiated the upload.
    public var initiator: S3Owner?
    /// Who will own the object.
    public var owner: S3Owner?
    /// The storage class of the upload.
    public var storageClass: String
    /// `part-number-marker` echoed back (0 when none).
    public var partNumberMarker: Int
    /// Where the next page starts, when truncated.
    public var nextPartNumberMarker: Int?
    /// Page size requested.
    public var maxParts: Int
    /// Whether more parts follow.
    public var isTruncated: Bool
    /// The parts on this page.
    public var parts: [Part]
    /// The upload's checksum algorithm, when any.
    public var checksumAlgorithm: String?
    /// The upload's checksum type, when any.
    public var checksumType: String?

    /// Creates the response.
    public init(
        bucket: String,
        key: String,
        uploadId: String,
        initiator: S3Owner? = nil,
        owner: S3Owner? = nil,
        storageClass: String = "STANDARD",
        partNumberMarker: Int = 0,
        nextPartNumberMarker: Int? = nil,
        maxParts: Int = 1000,
        isTruncated: Bool = false,
        parts: [Part] = [],
        checksumAlgorithm: String? = nil,
        checksumType: String? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
        self.initiator = initiator
        self.owner = owner
        self.storageClass = storageClass
        self.partNumberMarker = partNumberMarker
        self.nextPartNumberMarker = nextPartNumberMarker
        self.maxParts = maxParts
        self.isTruncated = isTruncated
        self.parts = parts
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("ListPartsResult", namespace: S3XMLNamespace.uri)
        writer.element("Bucket", bucket)
        writer.element("Key", key)
        writer.element("UploadId", uploadId)
        initiator?.write(to: &writer, elementName: "Initiator")
        owner?.write(to: &writer)
        writer.element("StorageClass", storageClass)
        writer.element("PartNumberMarker", partNumberMarker)
        writer.element("NextPartNumberMarker", ifPresent: nextPartNumberMarker)
        writer.element("MaxParts", maxParts)
        writer.element("IsTruncated", isTruncated)
        for part in parts {
            writer.open("Part")
            writer.element("PartNumber", part.partNumber)
            writer.element("LastModified", part.lastModified)
            writer.element("ETag", part.eTag)
            writer.element("Size", part.size)
            part.checksums.writeValues(to: &writer)
            writer.close("Part")
        }
        writer.element("ChecksumAlgorithm", ifPresent: checksumAlgorithm)
        writer.element("ChecksumType", ifPresent: checksumType)
        writer.close("ListPartsResult")
    }
}
