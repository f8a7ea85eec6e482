import NIOCore

/// A reflected CRC whose initial value and final XOR are all ones (CRC32, CRC32C,
/// CRC64NVME): each type names its polynomial and feeds raw bytes; feeding buffers and
/// sequences, the S3 byte form, one-shot checksums and combination are shared.
public protocol ReflectedCRC: Sendable, Hashable {
    associatedtype Value: FixedWidthInteger & UnsignedInteger & Sendable

    static var reflectedPolynomial: Value { get }

    /// A CRC of no bytes yet.
    init()

    /// Feeds `bytes`.
    mutating func update(_ bytes: UnsafeRawBufferPointer)

    /// The CRC of the bytes fed so far.
    var value: Value { get }
}

extension ReflectedCRC {
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

    /// The CRC as S3 sends it: big-endian bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> Value {
        var crc = Self()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC of the concatenation `A || B`, given `crc(A)`, `crc(B)` and the length of `B`.
    public static func combine(_ first: Value, _ second: Value, secondLength: Int64) -> Value {
        CRCEngine.combine(first, second, secondLength: secondLength, reflectedPolynomial: reflectedPolynomial)
    }
}
