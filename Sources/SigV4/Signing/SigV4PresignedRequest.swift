/// The result of ``SigV4Signer/presign(_:expires:date:payload:)``.
public struct SigV4PresignedRequest: Sendable {
    /// The host the URL is for.
    public let host: String
    /// The percent-encoded path.
    public let encodedPath: String
    /// The complete percent-encoded query string, ending with `X-Amz-Signature`.
    public let encodedQuery: String
    /// Headers that were signed besides `host` and must be sent with the URL.
    public let headers: [(name: String, value: String)]
    /// The signature.
    public let signature: String
    /// The canonical request that was signed (for debugging).
    public let canonicalRequest: String
    /// The string that was signed (for debugging).
    public let stringToSign: String

    /// The request target: path and query.
    public var target: String { "\(encodedPath)?\(encodedQuery)" }

    /// The full URL, e.g. `https://bucket.s3.example.com/key?X-Amz-Algorithm=...`.
    public func url(scheme: String = "https") -> String {
        "\(scheme)://\(host)\(target)"
    }
}
