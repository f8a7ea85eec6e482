import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import NIOCore
import PolicyEngine
import S3Protocol
import SigV4

/// One S3 request being handled: dispatch by method, bucket, key and sub-resource.
struct S3Handlers {
    let state: GatewayState
    /// The policy set this request plans with, read once when it arrived (a reload does not
    /// change it halfway).
    let policies: CompiledPolicySet
    let call: S3Call
    let request: Request
    let principal: Principal
    let auth: SigV4VerifiedRequest
    let headerList: [(name: String, value: String)]
    let requestID: String
    let logger: Logger
    /// What an audited read records beyond its response (the zone it was served from).
    var audit: ReadAudit?

    var store: any MetadataStore { state.store }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { request.headers[$0] }
    }

    func handle() async throws -> Response {
        guard let bucket = call.bucket else {
            guard call.method == .get else { throw S3Error(.methodNotAllowed) }
            return try await listBuckets()
        }
        guard let key = call.key else { return try await handleBucket(bucket) }
        try validateKey(key)
        switch call.method {
        case .put:
            if call.has("tagging") { return try await putObjectTagging(bucket, key) }
            if call.has("retention") { return try await putObjectRetention(bucket, key) }
            if call.has("legal-hold") { return try await putObjectLegalHold(bucket, key) }
            if call.has("acl") { return try await putACL() }
            if header("x-amz-copy-source") == nil { try requireDeclaredLength() }
            if call.has("partNumber") || call.has("uploadId") { return try await uploadPart(bucket, key) }
            if header("x-amz-copy-source") != nil { return try await copyObject(bucket, key) }
            return try await putObject(bucket, key)
        case .get:
            if call.has("tagging") { return try await getObjectTagging(bucket, key) }
            if call.has("uploadId") { return try await listParts(bucket, key) }
            if call.has("retention") { return try await getObjectRetention(bucket, key) }
            if call.has("legal-hold") { return try await getObjectLegalHold(bucket, key) }
            if call.has("acl") {
                _ = try await resolveVersion(bucket, key)
                return aclResponse()
            }
            return try await getObject(bucket, key, head: false)
        case .head:
            return try await getObject(bucket, key, head: true)
        case .delete:
            if call.has("tagging") { return try await deleteObjectTagging(bucket, key) }
            if call.has("uploadId") { return try await abortMultipartUpload(bucket, key) }
            return try await deleteObject(bucket, key)
        case .post:
            if call.has("uploads") { return try await createMultipartUpload(bucket, key) }
            if call.has("uploadId") { return try await completeMultipartUpload(bucket, key) }
            throw S3Error(.methodNotAllowed)
        default:
            throw S3Error(.methodNotAllowed)
        }
    }

    func handleBucket(_ bucket: String) async throws -> Response {
        switch call.method {
        case .put:
            if call.has("versioning") { return try await putBucketVersioning(bucket) }
            if call.has("object-lock") { return try await putObjectLockConfiguration(bucket) }
            if call.has("acl") { return try await putACL() }
            if call.has("tagging") || call.has("cors") || call.has("policy") || call.has("lifecycle") || call.has("encryption") {
                throw S3Error(.notImplemented, message: "This bucket sub-resource is not implemented.")
            }
            return try await createBucket(bucket)
        case .delete:
            return try await deleteBucket(bucket)
        case .head:
            _ = try await requireBucket(bucket)
            return Response(status: .ok, headers: [.init("x-amz-bucket-region")!: state.configuration.region])
        case .get:
            if call.has("location") { return try await getBucketLocation(bucket) }
            if call.has("versioning") { return try await getBucketVersioning(bucket) }
            if call.has("versions") { return try await listObjectVersions(bucket) }
            if call.has("uploads") { return try await listMultipartUploads(bucket) }
            if call.has("object-lock") { return try await getObjectLockConfiguration(bucket) }
            if let response = try await bucketSubresource(bucket) { return response }
            if call.value("list-type") == "2" { return try await listObjectsV2(bucket) }
            return try await listObjectsV1(bucket)
        case .post:
            if call.has("delete") { return try await deleteObjects(bucket) }
            throw S3Error(.methodNotAllowed)
        default:
            throw S3Error(.methodNotAllowed)
        }
    }

    // MARK: helpers

    func requireBucket(_ name: String) async throws -> Bucket {
        guard let bucket = try await store.bucket(named: name) else { throw S3Error.noSuchBucket(name) }
        return bucket
    }

    func validateKey(_ key: String) throws {
        let size = key.utf8.count
        if size > 1024 { throw S3Error.keyTooLong(size: size, maxSizeAllowed: 1024) }
        if key.utf8.contains(0) { throw S3Error(.invalidArgument, message: "Object keys may not contain NUL characters.") }
    }

    /// PutObject and UploadPart need the body's length before it arrives, as in S3 (411
    /// MissingContentLength): the S3 backends refuse a body of unknown length, and the size
    /// limits are checked before a byte is stored. Content-Length, or for an aws-chunked body
    /// (whose Content-Length counts the framing too, and which may come with
    /// `Transfer-Encoding: chunked` instead) `x-amz-decoded-content-length`.
    func requireDeclaredLength() throws {
        if auth.payload.isStreaming {
            guard header("x-amz-decoded-content-length") != nil else {
                throw S3Error(.missingContentLength,
                              message: "You must provide the x-amz-decoded-content-length HTTP header with an aws-chunked body.")
            }
        } else if header("content-length") == nil {
            throw S3Error(.missingContentLength)
        }
    }

    static func xml(_ body: some S3XMLEncodable, status: HTTPResponse.Status = .ok) -> Response {
        let buffer = body.xmlByteBuffer()
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static func empty(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentLength] = "0"
        return Response(status: status, headers: h)
    }

    /// The request body, at most `limit` bytes (for XML documents), checked against the
    /// digests the request declares: the signed `x-amz-content-sha256`, `Content-MD5` and an
    /// `x-amz-checksum-*` header. `requireDigest` (DeleteObjects) refuses a body with neither
    /// Content-MD5 nor a checksum header, as S3 does.
    func smallBody(limit: Int = 1 << 20, requireDigest: Bool = false) async throws -> ByteBuffer {
        let checksum = S3ChecksumAlgorithm.declared(in: headerList)
        let checksumValue = checksum?.value.flatMap { $0.isEmpty ? nil : $0 }
        if requireDigest, header("content-md5") == nil, checksumValue == nil {
            throw S3Error(.invalidRequest, message: "Missing required header for this request: Content-MD5")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw S3Error(.maxMessageLengthExceeded, message: "Your request was too big.")
        }
        let bytes = body.readableBytesView
        do throws(SigV4Error) {
            try auth.verifyPayload(sha256: SHA256.hash(data: bytes))
            if let md5 = header("content-md5") {
                try S3ContentMD5.verify(md5, computed: Array(Insecure.MD5.hash(data: bytes)))
            }
            if let algorithm = checksum?.algorithm, let checksumValue {
                var hasher = algorithm.makeHasher()
                hasher.update(body)
                try algorithm.verify(declaredBase64: checksumValue, computed: hasher.finalize())
            }
        } catch {
            throw S3Error(error)
        }
        return body
    }

    func log(_ operation: String, bucket: String?, key: String?, versionId: String? = nil, status: Int,
             zones: [String] = [], bytes: Int64 = 0, detail: String? = nil) -> OperationLogEntry {
        OperationLogEntry(
            time: Date(), requestId: requestID, principal: principal.accessKey, operation: operation,
            bucket: bucket, key: key, versionId: versionId, httpStatus: status, zones: zones,
            policySetHash: policies.policySetHash, bytes: bytes, durationMs: 0, detail: detail)
    }
}
