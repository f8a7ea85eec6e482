import HTTPTypes
import Hummingbird
import NIOCore
import S3Protocol

/// Sub-resources the gateway does not model: clients that ask get what S3 answers for a
/// bucket without that configuration; ACL requests get the owner's canned FULL_CONTROL and
/// ACL changes (like `x-amz-acl` headers) are accepted and ignored: access is the gateway's.
extension S3Handlers {
    static let unconfiguredBucketSubresources: [(name: String, code: S3ErrorCode)] = [
        ("policy", .noSuchBucketPolicy), ("cors", .noSuchCORSConfiguration),
        ("lifecycle", .noSuchLifecycleConfiguration), ("encryption", .serverSideEncryptionConfigurationNotFoundError),
        ("tagging", .noSuchTagSet), ("website", .noSuchWebsiteConfiguration),
        ("replication", .replicationConfigurationNotFoundError), ("ownershipControls", .ownershipControlsNotFoundError),
        ("publicAccessBlock", .noSuchPublicAccessBlockConfiguration),
    ]

    /// A GET of a bucket sub-resource that is not a listing, or nil.
    func bucketSubresource(_ bucket: String) async throws -> Response? {
        if call.has("acl") {
            _ = try await requireBucket(bucket)
            return aclResponse()
        }
        for (name, code) in Self.unconfiguredBucketSubresources where call.has(name) {
            _ = try await requireBucket(bucket)
            throw S3Error(code).adding("BucketName", bucket)
        }
        let emptyDocuments = [
            ("logging", "<BucketLoggingStatus xmlns=\"\(S3XMLNamespace.uri)\"/>"),
            ("notification", "<NotificationConfiguration xmlns=\"\(S3XMLNamespace.uri)\"/>"),
            ("accelerate", "<AccelerateConfiguration xmlns=\"\(S3XMLNamespace.uri)\"/>"),
            ("requestPayment", "<RequestPaymentConfiguration xmlns=\"\(S3XMLNamespace.uri)\"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>"),
        ]
        for (name, body) in emptyDocuments where call.has(name) {
            _ = try await requireBucket(bucket)
            return Self.rawXML(body)
        }
        return nil
    }

    func aclResponse() -> Response {
        let owner = XMLWriter.escaped(principal.accessKey)
        return Self.rawXML(
            "<AccessControlPolicy xmlns=\"\(S3XMLNamespace.uri)\"><Owner><ID>\(owner)</ID><DisplayName>\(owner)</DisplayName></Owner>"
            + "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
            + "<ID>\(owner)</ID><DisplayName>\(owner)</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
            + "</AccessControlList></AccessControlPolicy>")
    }

    /// PUT ?acl: accepted and ignored, as `x-amz-acl` headers are.
    func putACL() async throws -> Response {
        if let bucket = call.bucket { _ = try await requireBucket(bucket) }
        _ = try await smallBody()
        return Self.empty()
    }

    static func rawXML(_ body: String) -> Response {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
