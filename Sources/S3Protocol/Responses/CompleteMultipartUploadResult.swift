/// The `CompleteMultipartUpload` response: `<CompleteMultipartUploadResult>`.
public struct CompleteMultipartUploadResult: S3XMLEncodable, Hashable {
    /// The object's URL.
    public var location: String
    /// The bucket name.
    public var bucket: String
    /// The object key.
    public var key: String
    /// The entity tag including quotes, e.g. `"3858f6…-2"`.
    public var eTag: String
    /// The object's checksums, when computed.
    public var checksums: S3Checksums

    /// Creates the response.
    public init(location: String, bucket: String, key: String, eTag: String, checksums: S3Checksums = S3Checksums()) {
        self.location = location
        self.bucket = bucket
        self.key = key
        self.eTag = eTag
        self.checksums = checksums
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("CompleteMultipartUploadResult", namespace: S3XMLNamespace.uri)
        writer.element("Location", location)
        writer.element("Bucket", bucket)
        writer.element("Key", key)
        writer.element("ETag", eTag)
        checksums.write(to: &writer)
        writer.close("CompleteMultipartUploadResult")
    }
}
