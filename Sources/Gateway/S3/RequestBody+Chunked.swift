import Hummingbird
import NIOCore
import S3Protocol
import SigV4

/// Removes aws-chunked framing from a request body as it streams, verifying the chunk
/// signatures; the trailers (checksums) are available once the body has been read to its end.
final class ChunkedBodyDecoder: @unchecked Sendable {
    // Used by one request task at a time: the body is consumed once, sequentially.
    private var decoder: AWSChunkedDecoder
    private(set) var finished = false

    init(verified: SigV4VerifiedRequest, headers: [(name: String, value: String)]) throws {
        decoder = try AWSChunkedDecoder(verified: verified, headers: headers)
    }

    func feed(_ buffer: ByteBuffer) throws -> [ByteBuffer] { try decoder.feed(buffer) }

    func finish() throws {
        try decoder.finish()
        finished = true
    }

    func trailer(_ name: String) -> String? { decoder.trailer(name) }

    /// The decoded body.
    /// Pull-based: each element is read and decoded when the consumer asks for it.
    func decode(_ body: RequestBody) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { try await self.nextDecoded(body) })
    }

    private var iterator: RequestBody.AsyncIterator?
    private var pending: [ByteBuffer] = []

    private func nextDecoded(_ body: RequestBody) async throws -> ByteBuffer? {
        if iterator == nil { iterator = body.makeAsyncIterator() }
        while pending.isEmpty {
            let next: ByteBuffer?
            do {
                next = try await iterator!.next()
            } catch {
                throw S3Error.bodyEndedEarly(error)
            }
            guard let buffer = next else {
                if !finished { try finish() }
                return nil
            }
            pending = try feed(buffer).filter { $0.readableBytes > 0 }
        }
        return pending.removeFirst()
    }
}
