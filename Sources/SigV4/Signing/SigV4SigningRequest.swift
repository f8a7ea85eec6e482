import Foundation

/// An outgoing HTTP request to sign with ``SigV4Signer``.
///
/// The path and query are held **percent-encoded, exactly as they will be
/// sent**. Build one from an object key with
/// ``init(method:host:rawPath:queryItems:headers:)``, which encodes for you, or
/// from an already-encoded target with
/// ``init(method:host:encodedPath:encodedQuery:headers:)``. Either way the
/// canonical form is derived by decoding once and re-encoding per SigV4, so an
/// encoded path may use any valid spelling (`$` or `%24`). In an encoded query
/// a `+` means a space, as S3 reads it; send a plus sign as `%2B`.
public struct SigV4SigningRequest: Sendable {
    /// The HTTP method, e.g. `PUT`.
    public var method: String
    /// The `Host` header value the request will carry, with `:port` if it is not the scheme's default.
    public var host: String
    /// The percent-encoded path, starting with `/`.
    public var encodedPath: String
    /// The percent-encoded query string without `?` (empty for none).
    public var encodedQuery: String
    /// Header fields to send; all but hop-by-hop and client-specific ones
    /// (`user-agent`, `expect`, `connection`, ...) are signed. A `host` entry is
    /// ignored: ``host`` is what gets signed.
    public var headers: [(name: String, value: String)]

    /// A request whose path and query are already percent-encoded.
    public init(
        method: String, host: String, encodedPath: String, encodedQuery: String = "",
        headers: [(name: String, value: String)] = []
    ) {
        self.method = method
        self.host = host
        self.encodedPath = encodedPath.isEmpty ? "/" : encodedPath
        self.encodedQuery = encodedQuery
        self.headers = headers
    }

    /// A request for an unencoded path (e.g. `/bucket/my key+1.txt`) and unencoded
    /// query items; both are percent-encoded per SigV4.
    public init(
        method: String, host: String, rawPath: String, queryItems: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = []
    ) {
        self.init(
            method: method,
            host: host,
            encodedPath: URIEncoding.canonicalPath(fromRaw: rawPath),
            encodedQuery: CanonicalQuery.canonicalize(
                parameters: queryItems.map { CanonicalQuery.Parameter(name: $0.name, value: $0.value) }),
            headers: headers
        )
    }

    /// A request for an absolute URL such as `https://host:9000/bucket/key?uploads`,
    /// whose path and query are taken as already percent-encoded. `nil` if the URL
    /// has no `scheme://host`.
    public init?(method: String, url: String, headers: [(name: String, value: String)] = []) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let withoutFragment = afterScheme.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let hostEnd = withoutFragment.firstIndex { $0 == "/" || $0 == "?" } ?? withoutFragment.endIndex
        let host = withoutFragment[..<hostEnd]
        guard !host.isEmpty else { return nil }
        let target = withoutFragment[hostEnd...]
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(
            method: method,
            host: String(host),
            encodedPath: String(parts[0]),
            encodedQuery: parts.count > 1 ? String(parts[1]) : "",
            headers: headers
        )
    }

    /// The request target as sent on the request line: path plus `?query` when there is one.
    public var target: String {
        encodedQuery.isEmpty ? encodedPath : "\(encodedPath)?\(encodedQuery)"
    }
}
