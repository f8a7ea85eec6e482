import Crypto
import Foundation

/// A successfully authenticated request.
public struct SigV4VerifiedRequest: Sendable {
    /// The authenticated access key ID.
    public let accessKeyID: String
    /// The request signature: the seed signature of an aws-chunked body.
    public let signature: String
    /// The signing key, needed to check the chunk signatures of a streaming body.
    public let signingKey: SigV4SigningKey
    /// The credential scope (date, region, service).
    public let scope: SigV4Scope
    /// The signing time, `yyyyMMdd'T'HHmmss'Z'`.
    public let amzDate: String
    /// The signing time.
    public let date: Date
    /// The declared payload: a hash to check after reading the body, unsigned, or a streaming mode.
    public let payload: SigV4PayloadMode
    /// Whether the request was a presigned URL.
    public let isPresigned: Bool
    /// The session token sent with the request, if any (the caller validates it).
    public let sessionToken: String?
    /// The lowercase signed header names.
    public let signedHeaders: [String]

    /// The region the client signed for.
    public var region: String { scope.region }

    /// Checks the signatures of this request's aws-chunked body.
    public var chunkSigner: SigV4ChunkSigner {
        SigV4ChunkSigner(signingKey: signingKey, amzDate: amzDate, scope: scope)
    }

    /// Checks the body's SHA-256 against a declared `x-amz-content-sha256` hash;
    /// does nothing for the other payload modes.
    ///
    /// - Throws: `XAmzContentSHA256Mismatch`.
    public func verifyPayload(sha256 digest: SHA256.Digest) throws(SigV4Error) {
        guard case .sha256(let declared) = payload else { return }
        let computed = Hex.encode(contiguous: digest)
        guard Hex.decode(declared) == Array(digest) else {
            throw SigV4Error(
                .xAmzContentSHA256Mismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                details: [.init("ClientComputedContentSHA256", declared), .init("S3ComputedContentSHA256", computed)])
        }
    }
}
