import AsyncHTTPClient
import NIOCore
import SigV4

/// The bytes every PUT of one run sends: a fixed pseudo-random pattern, so no request pays for
/// generating data and compressing links or deduplicating stores gain nothing.
///
/// Bodies up to ``bufferedLimit`` are one buffer, sent with its SHA-256 signed (as the SDKs do
/// for small uploads over plain HTTP) unless the run asks for `UNSIGNED-PAYLOAD`. Larger bodies
/// are streamed as slices of one 1 MiB block, so a 1 GiB upload needs 1 MiB of memory, and
/// always go `UNSIGNED-PAYLOAD`: hashing them up front would measure the load tool.
struct RequestBody: Sendable {
    static let bufferedLimit = 64 << 20
    static let blockSize = 1 << 20

    let size: Int
    let payload: SigV4PayloadMode
    private let block: ByteBuffer

    init(size: Int, signPayload: Bool) {
        self.size = size
        var generator = SplitMix64(seed: 0x5EED_2025)
        var bytes = [UInt8](repeating: 0, count: min(size, Self.blockSize))
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: generator.next()) }
        if size <= Self.bufferedLimit {
            var whole = ByteBuffer()
            whole.reserveCapacity(size)
            while whole.readableBytes < size {
                whole.writeBytes(bytes.prefix(size - whole.readableBytes))
            }
            block = whole
            payload = signPayload ? .sha256(of: Array(whole.readableBytesView)) : .unsigned
        } else {
            block = ByteBuffer(bytes: bytes)
            payload = .unsigned
        }
    }

    /// A fresh body for one request.
    func httpBody() -> HTTPClientRequest.Body {
        if size <= Self.bufferedLimit { return .bytes(block) }
        return .stream(Blocks(block: block, size: size), length: .known(Int64(size)))
    }

    /// `size` bytes as slices of `block`, produced on demand.
    struct Blocks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let block: ByteBuffer
        let size: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            let block: ByteBuffer
            var remaining: Int
            mutating func next() async -> ByteBuffer? {
                guard remaining > 0 else { return nil }
                let n = Swift.min(remaining, block.readableBytes)
                remaining -= n
                return block.getSlice(at: block.readerIndex, length: n)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(block: block, remaining: size) }
    }
}

/// Small deterministic generator (Steele, Lea, Flood 2014) for the body pattern and the
/// choice of operations in a mixed run.
struct SplitMix64: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
