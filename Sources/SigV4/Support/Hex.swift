import Foundation

/// Lowercase hexadecimal encoding and decoding, as used throughout SigV4.
package enum Hex {
    @usableFromInline
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes `bytes` as lowercase hexadecimal.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encode(raw: UnsafeRawBufferPointer($0)) }) {
            return encoded
        }
        return Array(bytes).withUnsafeBytes { encode(raw: $0) }
    }

    /// Encodes the bytes of a digest (or any contiguous bytes) without copying them first.
    @inlinable
    package static func encode(contiguous bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { encode(raw: $0) }
    }

    @inlinable
    package static func encode(raw bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { output in
            digits.withUnsafeBufferPointer { digits in
                var index = 0
                for byte in bytes {
                    output[index] = digits[Int(byte >> 4)]
                    output[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return bytes.count * 2
        }
    }

    /// Whether `text` is the hexadecimal form (either case) of `bytes`, compared without
    /// building either form.
    @inlinable
    package static func matches(_ text: some StringProtocol, _ bytes: some ContiguousBytes) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard text.utf8.count == raw.count * 2 else { return false }
            var digits = text.utf8.makeIterator()
            for byte in raw {
                guard let high = digits.next().flatMap(value(of:)), let low = digits.next().flatMap(value(of:)),
                      high << 4 | low == byte else { return false }
            }
            return true
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
