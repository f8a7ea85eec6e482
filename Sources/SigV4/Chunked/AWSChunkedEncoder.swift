import Crypto
import NIOCore

/// Frames an outgoing body as `aws-chunked`, signing each chunk when the
/// payload mode asks for it: the client side of ``AWSChunkedDecoder``.
///
/// ```swift
/// let signed = signer.sign(request, payload: .streamingSigned)   // with x-amz-decoded-content-length, content-encoding
/// var encoder = try AWSChunkedEncoder(signed: signed, payload: .streamingSigned)
/// for chunk in chunks { send(encoder.encode(chunk)) }
/// send(encoder.finish())
/// ```
public struct AWSChunkedEncoder: Sendable {
    private let signer: SigV4ChunkSigner?
    private let withTrailer: Bool
    private var previousSignature: String

    /// An encoder for the body of `signed`, a request signed with a streaming `payload`.
    ///
    /// - Throws: `InvalidRequest` if `payload` is not a streaming mode.
    public init(signed: SigV4SignedRequest, payload: SigV4PayloadMode) throws(SigV4Error) {
        try self.init(payload: payload, chunkSigner: signed.chunkSigner, seedSignature: signed.signature)
    }

    /// An encoder for `payload`; the signed modes need the chunk signer and seed signature.
    ///
    /// - Throws: `InvalidRequest` if `payload` is not a streaming mode, or is signed without a signer.
    public init(payload: SigV4PayloadMode, chunkSigner: SigV4ChunkSigner?, seedSignature: String?) throws(SigV4Error) {
        guard payload.isStreaming else {
            throw SigV4Error(.invalidRequest, "The payload \(payload.headerValue) is not aws-chunked.")
        }
        if payload.hasChunkSignatures {
            guard let chunkSigner, let seedSignature else {
                throw SigV4Error(
                    .invalidRequest, "A signed aws-chunked body needs a chunk signer and a seed signature.")
            }
            self.signer = chunkSigner
            self.previousSignature = seedSignature
        } else {
            self.signer = nil
            self.previousSignature = ""
        }
        self.withTrailer = payload.hasTrailer
    }

    /// Frames one chunk of data (which must not be empty: an empty chunk ends the body,
    /// so empty input yields an empty buffer).
    public mutating func encode(_ data: ByteBuffer) -> ByteBuffer {
        guard data.readableBytes > 0 else { return ByteBuffer() }
        var output = ByteBuffer()
        output.reserveCapacity(data.readableBytes + 100)
        writeHeader(size: data.readableBytes, hash: data.withUnsafeReadableBytes { SHA256.hash(data: $0) }, to: &output)
        var data = data
        output.writeBuffer(&data)
        output.writeStaticString("\r\n")
        return output
    }

    /// Frames one chunk of data.
    public mutating func encode(_ bytes: some Sequence<UInt8>) -> ByteBuffer {
        encode(ByteBuffer(bytes: bytes))
    }

    /// The final, empty chunk, then the trailers (signed in the signed-trailer mode)
    /// and the closing CRLF.
    public mutating func finish(trailers: [(name: String, value: String)] = []) -> ByteBuffer {
        var output = ByteBuffer()
        writeHeader(size: 0, hash: SHA256().finalize(), to: &output)
        if withTrailer {
            for trailer in trailers {
                output.writeString("\(HeaderList.lowercase(trailer.name)):\(trailer.value)\r\n")
            }
            if let signer {
                let signature = signer.trailerSignature(previousSignature: previousSignature, trailers: trailers)
                output.writeString("x-amz-trailer-signature:\(signature)\r\n")
            }
        }
        output.writeStaticString("\r\n")
        return output
    }

    /// The encoded length of a body of `decodedLength` bytes cut into `chunkSize`-byte
    /// chunks, for the `Content-Length` header (trailers not included; a `chunkSize`
    /// below 1 counts as 1).
    public static func encodedLength(decodedLength: Int64, chunkSize: Int, signed: Bool) -> Int64 {
        let chunkSize = max(chunkSize, 1)
        let decodedLength = max(decodedLength, 0)
        let signatureLength: Int64 = signed ? Int64(";chunk-signature=".utf8.count + 64) : 0
        func chunkLength(_ size: Int64) -> Int64 {
            Int64(String(size, radix: 16).utf8.count) + signatureLength + 2 + size + 2
        }
        let fullChunks = decodedLength / Int64(chunkSize)
        let remainder = decodedLength % Int64(chunkSize)
        // The final chunk is "0[;chunk-signature=...]\r\n" followed by the closing "\r\n".
        return fullChunks * chunkLength(Int64(chunkSize)) + (remainder > 0 ? chunkLength(remainder) : 0)
            + (1 + signatureLength + 2) + 2
    }

    private mutating func writeHeader(size: Int, hash: SHA256.Digest, to output: inout ByteBuffer) {
        output.writeString(String(size, radix: 16))
        if let signer {
            let signature = signer.chunkSignature(previousSignature: previousSignature, chunkSHA256: hash)
            output.writeString(";chunk-signature=\(signature)")
            previousSignature = signature
        }
        output.writeStaticString("\r\n")
    }
}
