import Foundation

/// A request whose authentication information has been parsed and checked
/// (syntax, clock skew, expiry, scope) and whose canonical request and string
/// to sign are computed: all that is left is to look up the secret of
/// ``accessKeyID`` and call ``SigV4Verifier/verify(_:secretAccessKey:)``.
public struct SigV4ParsedAuthorization: Sendable {
    /// The access key ID the client claims.
    public let accessKeyID: String
    /// The credential scope the client signed with.
    public let scope: SigV4Scope
    /// The signing time, `yyyyMMdd'T'HHmmss'Z'`.
    public let amzDate: String
    /// The signing time.
    public let date: Date
    /// The lowercase signed header names, in the client's order.
    public let signedHeaders: [String]
    /// The signature the client sent.
    public let signature: String
    /// The canonical request the server computed.
    public let canonicalRequest: String
    /// The string to sign the server computed.
    public let stringToSign: String
    /// The declared payload.
    public let payload: SigV4PayloadMode
    /// Whether the request is a presigned URL (query-string authentication).
    public let isPresigned: Bool
    /// `x-amz-security-token` / `X-Amz-Security-Token`, if sent; validating it is the caller's concern.
    public let sessionToken: String?
    /// `X-Amz-Expires` of a presigned URL, in seconds.
    public let expires: Int?
}
