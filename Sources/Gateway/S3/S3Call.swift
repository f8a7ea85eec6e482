import HTTPTypes
import Hummingbird
import S3Protocol

/// An S3 request as the gateway sees it: which bucket and key, which sub-resource.
struct S3Call: Sendable {
    var method: HTTPRequest.Method
    var bucket: String?
    var key: String?
    var query: QueryParameters
    /// The path as received (still percent-encoded), for signature checks.
    var rawPath: String
    var rawQuery: String

    func has(_ name: String) -> Bool { query.contains(name) }

    /// The S3 operation a GET or HEAD performs (as the handlers dispatch it); nil for the
    /// other methods, which change something and are logged by their handlers.
    var readOperation: String? {
        switch method {
        case .get:
            guard let bucket, !bucket.isEmpty else { return "ListBuckets" }
            guard key != nil else {
                for (parameter, operation) in Self.bucketReads where has(parameter) { return operation }
                return value("list-type") == "2" ? "ListObjectsV2" : "ListObjects"
            }
            for (parameter, operation) in Self.objectReads where has(parameter) { return operation }
            return "GetObject"
        case .head:
            return key == nil ? "HeadBucket" : "HeadObject"
        default:
            return nil
        }
    }

    private static let bucketReads = [
        ("location", "GetBucketLocation"), ("versioning", "GetBucketVersioning"), ("versions", "ListObjectVersions"),
        ("uploads", "ListMultipartUploads"), ("object-lock", "GetObjectLockConfiguration"), ("acl", "GetBucketAcl"),
        ("tagging", "GetBucketTagging"), ("cors", "GetBucketCors"), ("policy", "GetBucketPolicy"),
        ("lifecycle", "GetBucketLifecycleConfiguration"), ("encryption", "GetBucketEncryption"),
    ]
    private static let objectReads = [
        ("tagging", "GetObjectTagging"), ("uploadId", "ListParts"), ("retention", "GetObjectRetention"),
        ("legal-hold", "GetObjectLegalHold"), ("acl", "GetObjectAcl"),
    ]
    func value(_ name: String) -> String? { query.values(name).first }

    /// Parses path-style `/bucket/key` (after `prefix`, e.g. `/s3`) or virtual-hosted style
    /// when `domain` is set and the Host is `bucket.domain`.
    static func parse(_ request: Request, prefix: String, domain: String?) throws(S3Error) -> S3Call {
        let rawPath = request.uri.path
        let rawQuery = request.uri.query ?? ""
        let query = try QueryParameters(parsing: rawQuery)
        var path = Substring(rawPath)
        if !prefix.isEmpty, path.hasPrefix(prefix) { path = path.dropFirst(prefix.count) }
        var bucket: String?
        var key: String?
        if let domain, !domain.isEmpty, let host = request.head.authority?.split(separator: ":").first?.lowercased(),
           host.count > domain.count + 1, host.hasSuffix("." + domain.lowercased()) {
            bucket = String(host.dropLast(domain.count + 1))
            let k = path.drop { $0 == "/" }
            if !k.isEmpty { key = try decode(k) }
        } else {
            let trimmed = path.hasPrefix("/") ? path.dropFirst() : path
            if let slash = trimmed.firstIndex(of: "/") {
                bucket = try decode(trimmed[..<slash])
                let k = trimmed[trimmed.index(after: slash)...]
                if !k.isEmpty { key = try decode(k) }
            } else if !trimmed.isEmpty {
                bucket = try decode(trimmed)
            }
        }
        return S3Call(method: request.method, bucket: bucket, key: key, query: query, rawPath: rawPath, rawQuery: rawQuery)
    }

    private static func decode(_ s: Substring) throws(S3Error) -> String {
        guard let bytes = S3URLEncoding.decodeBytes(s) else {
            throw S3Error(.invalidURI, message: "Couldn't parse the specified URI.")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // S3 answers a path that is not UTF-8 once decoded as one it cannot parse.
            throw S3Error(.invalidURI, message: "Couldn't parse the specified URI.")
        }
        return text
    }
}
