import Foundation

/// JSON text columns (maps, lists, tags).
///
/// Lists of strings and string maps (zones, policy names, user metadata, checksums), written and
/// read on every commit and every object read, go through a small hand-written codec:
/// Foundation's `JSONEncoder`/`JSONDecoder` cost several microseconds per column. Anything else,
/// and any text the fast reader does not expect, goes through Foundation.
enum JSONColumn {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding dictionaries and arrays of strings cannot fail.
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `["a","b"]`.
    static func encode(_ value: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, element) in value.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(element, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `[{"key":"k","value":"v"}]`, what Foundation writes for the tags with sorted keys (the
    /// common case, no tags, without a `JSONEncoder` per write).
    static func encode(_ value: [ObjectTag]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, tag) in value.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"key":"#.utf8)
            appendString(tag.key, to: &out)
            out += Array(#","value":"#.utf8)
            appendString(tag.value, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"a":"1","b":"2"}`, keys sorted.
    static func encode(_ value: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in value.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String) throws -> T {
        if T.self == [String].self, let list = FastReader.stringList(text) { return list as! T }
        if T.self == [String: String].self, let map = FastReader.stringMap(text) { return map as! T }
        if text == "[]", let empty = [ObjectTag]() as? T { return empty }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw MetadataError(.internal, "unexpected database result", details: "column \(column): \(error)")
        }
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\uXXXX` (or their
    /// short forms); everything else, `/` and non-ASCII included, as it is.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Reads the two shapes the fast path writes, with any JSON whitespace (PostgreSQL's
    /// `jsonb` adds some); nil for anything else, which then goes to Foundation.
    struct FastReader {
        private let bytes: [UInt8]
        private var at = 0

        private init(_ text: String) { bytes = Array(text.utf8) }

        static func stringList(_ text: String) -> [String]? {
            var reader = FastReader(text)
            guard reader.take(UInt8(ascii: "[")) else { return nil }
            var list: [String] = []
            if reader.take(UInt8(ascii: "]")) { return reader.atEnd ? list : nil }
            repeat {
                guard let element = reader.string() else { return nil }
                list.append(element)
            } while reader.take(UInt8(ascii: ","))
            return reader.take(UInt8(ascii: "]")) && reader.atEnd ? list : nil
        }

        static func stringMap(_ text: String) -> [String: String]? {
            var reader = FastReader(text)
            guard reader.take(UInt8(ascii: "{")) else { return nil }
            var map: [String: String] = [:]
            if reader.take(UInt8(ascii: "}")) { return reader.atEnd ? map : nil }
            repeat {
                guard let key = reader.string(), reader.take(UInt8(ascii: ":")), let value = reader.string() else { return nil }
                map[key] = value
            } while reader.take(UInt8(ascii: ","))
            return reader.take(UInt8(ascii: "}")) && reader.atEnd ? map : nil
        }

        private mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
        }

        private var atEnd: Bool {
            mutating get {
                skipSpace()
                return at == bytes.count
            }
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A surrogate pair: the low half must follow as \uXXXX.
                            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
                            at += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out += Array(String(Character(unicode)).utf8)
                    default:
                        return nil
                    }
                case 0x00..<0x20:
                    return nil
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<(at + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            at += 4
            return value
        }
    }
}
