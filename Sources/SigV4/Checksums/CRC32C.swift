/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as `x-amz-checksum-crc32c`.
public struct CRC32C: ReflectedCRC {
    public static let reflectedPolynomial: UInt32 = 0x82F6_3B78
    static let table = CRCEngine.makeTable(reflectedPolynomial: reflectedPolynomial)

    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.table.withUnsafeBufferPointer { CRCEngine.update(register, bytes, table: $0) }
    }

    public var value: UInt32 { ~register }
}
