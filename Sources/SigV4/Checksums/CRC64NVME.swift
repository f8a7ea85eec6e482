/// CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final
/// XOR all ones), as `x-amz-checksum-crc64nvme`.
public struct CRC64NVME: ReflectedCRC {
    public static let reflectedPolynomial: UInt64 = 0x9A6C_9329_AC4B_C9B5
    static let table = CRCEngine.makeTable(reflectedPolynomial: reflectedPolynomial)

    private var register: UInt64 = ~0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.table.withUnsafeBufferPointer { CRCEngine.update(register, bytes, table: $0) }
    }

    public var value: UInt64 { ~register }
}
