#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `ListMultipartUploads` response: `<ListMultipartUploadsResult>`.
///
/// With ``encodingTypeURL``, `Prefix`, `KeyMarker`, `NextKeyMarker`, `Delimiter`, each `Key` and each
/// common prefix are URL-encoded.
public struct ListMultipartUploadsResult: S3XMLEncodable, Hashable {
    /// One in-progress upload.
    public struct Upload: Sendable, Hashable {
        /// The object key.
        public var key: String
        /// The upload id.
        public var uploadId: String
        /// Who initiated it.
        public var initiator: S3Owner?
        /// Who will own the object.
        public var owner: S3Owner?
        /// The storage class.
        public var storageClass: String
        /// When it was initiated.
        public var initiated: Date
        /// The checksum algorithm, when any.
        public var checksumAlgorithm: String?
        /// The checksum type, when any.
        public var checksumType: String?

        /// Creates an upload entry.
        public init(
            key: String,
            uploadId: String,
            initiator: S3Owner? = nil,
            owner: S3Owner? = nil,
            storageClass: String = "STANDARD",
            initiated: Date,
            checksumAlgorithm: String? = nil,
            checksumType: String? = nil
        ) {
            self.key = key
            self.uploadId = uploadId
            self.initiator = initiator
            self.owner = owner
            self.storageClass = storageClass
            self.initiated = initiated
            self.checksumAlgorithm = checksumAlgorithm
            self.checksumType = checksumType
        }
    }

    /// The bucket name.
    public var bucket: String
    /// `key-marker` echoed back (`""` when none).
    public var keyMarker: String
    /// `upload-id-marker` echoed back (`""` when none).
    public var uploadIdMarker: String
    /// Where the next page starts, when truncated.
    public var nextKeyMarker: String?
    /// The upload id where the next page starts, when truncated.
    public var nextUploadIdMarker: String?
    /// The delimiter, when given.
    public var delimiter: String?
    /// The prefix filter (`""` when none).
    public var prefix: String
    /// Page size requested.
    public var maxUploads: Int
    /// Whether more uploads follow.
    public var isTruncated: Bool
    /// Whether values are URL-encoded (`encoding-type=url`).
    public var encodingTypeURL: Bool
    /// The uploads on this page.
    public var uploads: [Upload]
    /// The rolled-up common prefixes.
    public var commonPrefixes: [String]

    /// Creates the response.
    public init(
        bucket: String,
        keyMarker: String = "",
        uploadIdMarker: String = "",
        nextKeyMarker: String? = nil,
        nextUploadIdMarker: String? = nil,
        delimiter: String? = nil,
        prefix: String = "",
        maxUploads: Int = 1000,
        isTruncated: Bool = false,
        encodingTypeURL: Bool = false,
        uploads: [Upload] = [],
        commonPrefixes: [String] = []
    ) {
        self.bucket = bucket
        self.keyMarker = keyMarker
        self.uploadIdMarker = uploadIdMarker
        self.nextKeyMarker = nextKeyMarker
        self.nextUploadIdMarker = nextUploadIdMarker
        self.delimiter = delimiter
        self.prefix = prefix
        self.maxUploads = maxUploads
        self.isTruncated = isTruncated
        self.encodingTypeURL = encodingTypeURL
        self.uploads = uploads
        self.commonPrefixes = commonPrefixes
    }

    public func write(to writer: inout XMLWriter) {
        let encode = encodingTypeURL
        writer.open("ListMultipartUploadsResult", namespace: S3XMLNamespace.uri)
        writer.element("Bucket", bucket)
        writer.element("KeyMarker", ListingEncoding.value(keyMarker, encode))
        writer.element("UploadIdMarker", uploadIdMarker)
        writer.element("NextKeyMarker", ifPresent: ListingEncoding.optional(nextKeyMarker, encode))
        writer.element("NextUploadIdMarker", ifPresent: nextUploadIdMarker)
        writer.element("Delimiter", ifPresent: ListingEncoding.optional(delimiter, encode))
        writer.element("Prefix", ListingEncoding.value(prefix, encode))
        writer.element("MaxUploads", maxUploads)
        writer.element("IsTruncated", isTruncated)
        if encode { writer.element("EncodingType", "url") }
        for upload in uploads {
            writer.open("Upload")
            writer.element("Key", ListingEncoding.value(upload.key, encode))
            writer.element("UploadId", upload.uploadId)
            upload.initiator?.write(to: &writer, elementName: "Initiator")
            upload.owner?.write(to: &writer)
            writer.element("StorageClass", upload.storageClass)
            writer.element("Initiated", upload.initiated)
            writer.element("ChecksumAlgorithm", ifPresent: upload.checksumAlgorithm)
            writer.element("ChecksumType", ifPresent: upload.checksumType)
            writer.close("Upload")
        }
        ListingEncoding.writeCommonPrefixes(commonPrefixes, to: &writer, encode: encode)
        writer.close("ListMultipartUploadsResult")
    }
}
