/// An incoming request as the server received it, to authenticate with ``SigV4Verifier``.
public struct SigV4IncomingRequest: Sendable {
    /// The HTTP method, e.g. `PUT`.
    public var method: String
    /// The path exactly as it appeared on the request line (percent-encoded, no query).
    public var rawPath: String
    /// The query string exactly as received, without `?` (empty for none).
    public var rawQuery: String
    /// Every header field as received, in order; repeated names are allowed.
    public var headers: [(name: String, value: String)]
    /// For services other than S3, whose clients don't send `x-amz-content-sha256`:
    /// the hex SHA-256 of the body. S3 gateways leave it `nil` and the header is used.
    public var bodySHA256: String?

    /// Creates a request from its parts.
    public init(
        method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)],
        bodySHA256: String? = nil
    ) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.bodySHA256 = bodySHA256
    }

    /// Creates a request from its request-line target (`/path?query`), split at the first `?`.
    public init(method: String, target: String, headers: [(name: String, value: String)], bodySHA256: String? = nil) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(
            method: method, rawPath: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "",
            headers: headers, bodySHA256: bodySHA256)
    }

    /// The first value of the header `name` (compared case-insensitively).
    public func header(_ name: String) -> String? {
        HeaderList.first(HeaderList.lowercase(name), in: headers)
    }
}
