/// The result of ``SigV4Signer/sign(_:payload:date:)``.
public struct SigV4SignedRequest: Sendable {
    /// The header fields to send: the request's own plus `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` (if any) and `authorization`.
    public let headers: [(name: String, value: String)]
    /// The `Authorization` header value.
    public let authorization: String
    /// The request signature (the seed signature of an aws-chunked body).
    public let signature: String
    /// The signing time, `yyyyMMdd'T'HHmmss'Z'`.
    public let amzDate: String
    /// The credential scope.
    public let scope: SigV4Scope
    /// The signing key, needed to sign the chunks of a streaming body.
    public let signingKey: SigV4SigningKey
    /// The canonical request that was signed (for debugging).
    public let canonicalRequest: String
    /// The string that was signed (for debugging).
    public let stringToSign: String

    /// Signs the chunks of an aws-chunked body sent with this request.
    public var chunkSigner: SigV4ChunkSigner {
        SigV4ChunkSigner(signingKey: signingKey, amzDate: amzDate, scope: scope)
    }
}
