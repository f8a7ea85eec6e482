import Crypto
import Foundation

/// Computes the signatures of an aws-chunked body: each chunk's signature
/// chains from the previous one (the first from the request's seed
/// signature), and a signed trailer chains from the final, empty chunk's.
///
/// Chunk string to sign:
/// ```
/// AWS4-HMAC-SHA256-PAYLOAD
/// <amz date>
/// <scope>
/// <previous signature>
/// <hex sha256 of the empty string>
/// <hex sha256 of the chunk data>
/// ```
/// Trailer string to sign:
/// ```
/// AWS4-HMAC-SHA256-TRAILER
/// <amz date>
/// <scope>
/// <previous signature>
/// <hex sha256 of the canonical trailers, "name:value\n" each>
/// ```
public struct SigV4ChunkSigner: Sendable {
    /// The request's signing key.
    public let signingKey: SigV4SigningKey
    /// The request's `x-amz-date`.
    public let amzDate: String
    /// The request's credential scope.
    public let scope: SigV4Scope
    private let chunkPrefix: String
    private let trailerPrefix: String

    /// Creates a chunk signer for a request signed with `signingKey` at `amzDate` in `scope`.
    public init(signingKey: SigV4SigningKey, amzDate: String, scope: SigV4Scope) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.scope = scope
        self.chunkPrefix = "AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(scope.stringValue)\n"
        self.trailerPrefix = "AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(scope.stringValue)\n"
    }

    /// The signature of a chunk whose data hashes to `chunkSHA256`.
    public func chunkSignature(previousSignature: String, chunkSHA256: SHA256.Digest) -> String {
        signingKey.signature(
            for: chunkPrefix + previousSignature + "\n" + Digests.emptySHA256 + "\n" + Hex.encode(chunkSHA256))
    }

    /// The signature of a chunk holding `data`.
    public func chunkSignature(previousSignature: String, data: some DataProtocol) -> String {
        chunkSignature(previousSignature: previousSignature, chunkSHA256: SHA256.hash(data: data))
    }

    /// The `x-amz-trailer-signature` of `trailers` (excluding the signature itself).
    public func trailerSignature(previousSignature: String, trailers: [(name: String, value: String)]) -> String {
        let canonical = Self.canonicalTrailers(trailers)
        return signingKey.signature(for: trailerPrefix + previousSignature + "\n" + Digests.sha256Hex(canonical))
    }

    /// The canonical trailer block: `name:value\n` per trailer, names lowercased and
    /// sorted, values trimmed.
    public static func canonicalTrailers(_ trailers: [(name: String, value: String)]) -> String {
        let lowered = trailers.map { (name: HeaderList.lowercase($0.name), value: $0.value) }
        let sorted = lowered.enumerated().sorted { lhs, rhs in
            if lhs.element.name != rhs.element.name {
                return Array(lhs.element.name.utf8).lexicographicallyPrecedes(Array(rhs.element.name.utf8))
            }
            return lhs.offset < rhs.offset
        }
        var output = [UInt8]()
        for (_, trailer) in sorted {
            output.append(contentsOf: trailer.name.utf8)
            output.append(UInt8(ascii: ":"))
            CanonicalRequest.appendCanonicalValue(trailer.value, to: &output)
            output.append(UInt8(ascii: "\n"))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
