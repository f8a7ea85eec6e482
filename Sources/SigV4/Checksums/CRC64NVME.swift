import NIOCore

/// CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final
/// XOR all ones), as `x-amz-checksum-crc64nvme`.
public struct CRC64NVME: Sendable, Hashable {
    static let reflectedPolynomial: UInt64 = 0x9A6C_9329_AC4B_C9B5
    static let table = CRCEngine.makeTable(reflectedPolynomial: reflectedPolynomial)

    private var register: UInt64 = ~0

    /// A CRC of no bytes yet.
    public init() {}

    /// Feeds `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.table.withUnsafeBufferPointer { CRCEngine.update(register, bytes, table: $0) }
    }

    /// Feeds the readable bytes of `buffer`.
    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    /// Feeds `bytes`.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        if bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The CRC of the bytes fed so far.
    public var value: UInt64 { ~register }

    /// The CRC as S3 sends it: 8 bytes, big-endian.
    public var bytes: [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var crc = CRC64NVME()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC of the concatenation `A || B`, given `crc(A)`, `crc(B)` and the length of `B`.
    public static func combine(_ first: UInt64, _ second: UInt64, secondLength: Int64) -> UInt64 {
        CRCEngine.combine(first, second, secondLength: secondLength, reflectedPolynomial: reflectedPolynomial)
    }
}
