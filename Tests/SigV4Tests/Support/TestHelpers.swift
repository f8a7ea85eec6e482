import NIOCore
import SigV4

/// A deterministic random number generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
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

extension ByteBuffer {
    /// The readable bytes.
    var bytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

/// Cuts `bytes` into buffers at random points (including 1-byte pieces).
func randomSplit(_ bytes: [UInt8], using generator: inout SeededGenerator, maxPiece: Int) -> [ByteBuffer] {
    var pieces: [ByteBuffer] = []
    var offset = 0
    while offset < bytes.count {
        let length = min(bytes.count - offset, Int.random(in: 1...maxPiece, using: &generator))
        pieces.append(ByteBuffer(bytes: bytes[offset..<(offset + length)]))
        offset += length
    }
    return pieces
}

/// Feeds `pieces` to `decoder` and finishes it, returning the decoded bytes.
func decodeAll(_ pieces: [ByteBuffer], with decoder: inout AWSChunkedDecoder) throws(SigV4Error) -> [UInt8] {
    var output: [UInt8] = []
    for piece in pieces {
        for decoded in try decoder.feed(piece) { output.append(contentsOf: decoded.bytes) }
    }
    try decoder.finish()
    return output
}

/// The ``SigV4Error`` `body` throws, or `nil` if it throws nothing (or another error).
func sigV4Error(_ body: () throws -> Void) -> SigV4Error? {
    do {
        try body()
        return nil
    } catch let error as SigV4Error {
        return error
    } catch {
        return nil
    }
}
