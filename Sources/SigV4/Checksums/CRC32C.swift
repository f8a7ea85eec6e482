import NIOCore

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as `x-amz-checksum-crc32c`.
public struct CRC32C: Sendable, Hashable {
    static let reflectedPolynomial: UInt32 = 0x82F6_3B78
    static let table = CRCEngine.makeTable(reflectedPolynomial: reflectedPolynomial)

    private var register: UInt32 = 0xFFFF_FFFF

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
    public var value: UInt32 { ~register }

    /// The CRC as S3 sends it: 4 bytes, big-endian.
    public var bytes: [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC of the concatenation `A || B`, given `crc(A)`, `crc(B)` and the length of `B`.
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int64) -> UInt32 {
        CRCEngine.combine(first, second, secondLength: secondLength, reflectedPolynomial: reflectedPolynomial)
    }
}
