/// Lowercase hexadecimal encoding and decoding, as used throughout SigV4.
package enum Hex {
    @usableFromInline
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes `bytes` as lowercase hexadecimal.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let array = Array(bytes)
        return String(unsafeUninitializedCapacity: array.count * 2) { output in
            digits.withUnsafeBufferPointer { digits in
                var index = 0
                for byte in array {
                    output[index] = digits[Int(byte >> 4)]
                    output[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return array.count * 2
        }
    }

    /// Decodes hexadecimal text (either case); `nil` for odd lengths or non-hex characters.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(of: utf8[index]), let low = value(of: utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    /// The value of one hexadecimal digit, or `nil`.
    @inlinable
    package static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Whether `text` is exactly `count` lowercase hexadecimal digits.
    package static func isLowercaseHex(_ text: some StringProtocol, count: Int) -> Bool {
        var seen = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): seen += 1
            default: return false
            }
        }
        return seen == count
    }
}
