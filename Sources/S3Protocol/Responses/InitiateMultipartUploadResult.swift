/// The `CreateMultipartUpload` response: `<InitiateMultipartUploadResult>`.
public struct InitiateMultipartUploadResult: S3XMLEncodable, Hashable {
    /// The bucket name.
    public var bucket: String
    /// The object key.
    public var key: String
    /// The new upload id.
    public var uploadId: String
    /// The checksum algorithm requested for the upload, when any.
    public var checksumAlgorithm: String?
    /// The checksum type requested for the upload, when any.
    public var checksumType: String?

    /// Creates the response.
    public init(
        bucket: String,
        key: String,
        uploadId: String,
        checksumAlgorithm: String? = nil,
        checksumType: String? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("InitiateMultipartUploadResult", namespace: S3XMLNamespace.uri)
        writer.element("Bucket", bucket)
        writer.element("Key", key)
        writer.element("UploadId", uploadId)
        writer.element("ChecksumAlgorithm", ifPresent: checksumAlgorithm)
        writer.element("ChecksumType", ifPresent: checksumType)
        writer.close("InitiateMultipartUploadResult")
    }
}
