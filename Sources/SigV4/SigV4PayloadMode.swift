import Crypto
import Foundation

/// What `x-amz-content-sha256` declares about the body: its hash, that it is
/// unsigned, or that it is sent aws-chunked (signed chunk by chunk and/or
/// followed by trailers).
public enum SigV4PayloadMode: Sendable, Hashable, CustomStringConvertible {
    /// The body's hex SHA-256 as the client sent it (64 hex digits, lowercase from every SDK).
    case sha256(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, every chunk signed.
    case streamingSigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: aws-chunked, chunks and trailer signed.
    case streamingSignedWithTrailer
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked, unsigned, with a trailer (usually a checksum).
    case streamingUnsignedWithTrailer

    /// `UNSIGNED-PAYLOAD`.
    public static let unsignedPayloadValue = "UNSIGNED-PAYLOAD"
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    public static let streamingSignedValue = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    public static let streamingSignedWithTrailerValue = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    public static let streamingUnsignedWithTrailerValue = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    /// The hex SHA-256 of an empty body.
    public static let emptySHA256 = Digests.emptySHA256

    /// The payload mode of a body held in memory.
    public static func sha256(of body: some DataProtocol) -> SigV4PayloadMode {
        .sha256(Hex.encode(contiguous: SHA256.hash(data: body)))
    }

    /// Parses an `x-amz-content-sha256` value.
    ///
    /// - Throws: `InvalidArgument` for anything but a 64-digit hex hash or one of the
    ///   four supported keywords (SigV4a's ECDSA streaming modes are not supported).
    public init(headerValue: String) throws(SigV4Error) {
        switch headerValue {
        case Self.unsignedPayloadValue: self = .unsigned
        case Self.streamingSignedValue: self = .streamingSigned
        case Self.streamingSignedWithTrailerValue: self = .streamingSignedWithTrailer
        case Self.streamingUnsignedWithTrailerValue: self = .streamingUnsignedWithTrailer
        default:
            guard headerValue.utf8.count == 64, Hex.decode(headerValue) != nil else {
                if headerValue.hasPrefix("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") {
                    throw SigV4Error(
                        .invalidArgument,
                        "Signature Version 4A (\(headerValue)) is not supported; sign with AWS4-HMAC-SHA256.",
                        details: [.init("ArgumentName", "x-amz-content-sha256"), .init("ArgumentValue", headerValue)])
                }
                throw SigV4Error(
                    .invalidArgument,
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                        + "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
                        + "or a valid sha256 value.",
                    details: [.init("ArgumentName", "x-amz-content-sha256"), .init("ArgumentValue", headerValue)])
            }
            self = .sha256(headerValue)
        }
    }

    /// The `x-amz-content-sha256` value, which is also the last line of the canonical request.
    public var headerValue: String {
        switch self {
        case .sha256(let hash): return hash
        case .unsigned: return Self.unsignedPayloadValue
        case .streamingSigned: return Self.streamingSignedValue
        case .streamingSignedWithTrailer: return Self.streamingSignedWithTrailerValue
        case .streamingUnsignedWithTrailer: return Self.streamingUnsignedWithTrailerValue
        }
    }

    /// Whether the body is aws-chunked and must go through an ``AWSChunkedDecoder``.
    public var isStreaming: Bool {
        switch self {
        case .sha256, .unsigned: return false
        case .streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer: return true
        }
    }

    /// Whether every chunk carries a signature chained from the seed signature.
    public var hasChunkSignatures: Bool {
        self == .streamingSigned || self == .streamingSignedWithTrailer
    }

    /// Whether trailers follow the last chunk.
    public var hasTrailer: Bool {
        self == .streamingSignedWithTrailer || self == .streamingUnsignedWithTrailer
    }

    /// The `x-amz-content-sha256` value.
    public var description: String { headerValue }
}
