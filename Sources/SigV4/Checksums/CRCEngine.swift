/// Table-driven (slicing-by-8) engine for reflected CRCs, plus CRC combination.
///
/// A table holds 8 × 256 entries: entry `k * 256 + i` is the CRC register after
/// feeding byte `i` followed by `k` zero bytes, which lets the loop consume 8
/// input bytes per step.
package enum CRCEngine {
    /// Builds the slicing-by-8 table of a reflected polynomial.
    package static func makeTable<T: FixedWidthInteger & UnsignedInteger>(reflectedPolynomial poly: T) -> [T] {
        var table = [T](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = T(byte)
            for _ in 0..<8 {
                crc = crc & 1 != 0 ? (crc >> 1) ^ poly : crc >> 1
            }
            table[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(truncatingIfNeeded: previous & 0xFF)]
            }
        }
        return table
    }

    /// Feeds `bytes` into a 32-bit CRC register.
    @inlinable
    package static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer, table: UnsafeBufferPointer<UInt32>)
        -> UInt32
    {
        var crc = crc
        var offset = 0
        let count = bytes.count
        while count - offset >= 8 {
            let low = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian ^ crc
            let high = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
            crc =
                table[0x700 | Int(low & 0xFF)] ^ table[0x600 | Int((low >> 8) & 0xFF)]
                ^ table[0x500 | Int((low >> 16) & 0xFF)] ^ table[0x400 | Int(low >> 24)]
                ^ table[0x300 | Int(high & 0xFF)] ^ table[0x200 | Int((high >> 8) & 0xFF)]
                ^ table[0x100 | Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
            offset += 8
        }
        while offset < count {
            crc = table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
            offset += 1
        }
        return crc
    }

    /// Feeds `bytes` into a 64-bit CRC register.
    @inlinable
    package static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer, table: UnsafeBufferPointer<UInt64>)
        -> UInt64
    {
        var crc = crc
        var offset = 0
        let count = bytes.count
        while count - offset >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian ^ crc
            crc =
                table[0x700 | Int(word & 0xFF)] ^ table[0x600 | Int((word >> 8) & 0xFF)]
                ^ table[0x500 | Int((word >> 16) & 0xFF)] ^ table[0x400 | Int((word >> 24) & 0xFF)]
                ^ table[0x300 | Int((word >> 32) & 0xFF)] ^ table[0x200 | Int((word >> 40) & 0xFF)]
                ^ table[0x100 | Int((word >> 48) & 0xFF)] ^ table[Int(word >> 56)]
            offset += 8
        }
        while offset < count {
            crc = table[Int((crc ^ UInt64(bytes[offset])) & 0xFF)] ^ (crc >> 8)
            offset += 1
        }
        return crc
    }

    /// The CRC of `A || B` from `crc(A)`, `crc(B)` and `B`'s length, for reflected CRCs
    /// whose initial value equals their final XOR (CRC32, CRC32C, CRC64NVME).
    package static func combine<T: FixedWidthInteger & UnsignedInteger>(
        _ first: T, _ second: T, secondLength: Int64, reflectedPolynomial poly: T
    ) -> T {
        guard secondLength > 0 else { return first }
        // x^(8 * length) mod P, by square-and-multiply; x^0 is the top bit in reflected form.
        var power: T = 1 << (T.bitWidth - 1 - 8)  // x^8
        var shift: T = 1 << (T.bitWidth - 1)  // x^0
        var remaining = UInt64(secondLength)
        while remaining > 0 {
            if remaining & 1 != 0 { shift = multiply(shift, power, poly: poly) }
            power = multiply(power, power, poly: poly)
            remaining >>= 1
        }
        return multiply(shift, first, poly: poly) ^ second
    }

    /// `a * b mod P` for reflected polynomials (bit `width - 1` is x^0).
    package static func multiply<T: FixedWidthInteger & UnsignedInteger>(_ a: T, _ b: T, poly: T) -> T {
        var mask: T = 1 << (T.bitWidth - 1)
        var product: T = 0
        var b = b
        while mask != 0 {
            if a & mask != 0 { product ^= b }
            mask >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ poly : b >> 1
        }
        return product
    }
}
