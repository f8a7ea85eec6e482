/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as `x-amz-checksum-crc32`.
public struct CRC32: ReflectedCRC {
    public static let reflectedPolynomial: UInt32 = 0xEDB8_8320
    static let table = CRCEngine.makeTable(reflectedPolynomial: reflectedPolynomial)

    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.table.withUnsafeBufferPointer { CRCEngine.update(register, bytes, table: $0) }
    }

    public var value: UInt32 { ~register }
}
