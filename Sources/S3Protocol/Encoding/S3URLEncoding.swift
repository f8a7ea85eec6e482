/// Percent-encoding and -decoding as S3 uses it.
public enum S3URLEncoding {
    /// Percent-encodes `value` per RFC 3986: `A–Z a–z 0–9 - . _ ~` are kept, every other byte of the
    /// UTF-8 encoding becomes `%XX` (uppercase hex). `/` is kept when `preserveSlash` is true.
    public static func encode(_ value: String, preserveSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for c in value.utf8 {
            if isUnreserved(c) || (preserveSlash && c == UInt8(ascii: "/")) {
                out.append(c)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(c >> 4)])
                out.append(hexDigits[Int(c & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a value for a listing answered with `encoding-type=url`, as S3 does for
    /// `Key`, `Prefix`, `Delimiter`, `Marker`, `StartAfter` and the like: RFC 3986 encoding with `/` kept
    /// (a space becomes `%20`, `+` becomes `%2B`).
    public static func encodeListingValue(_ value: String) -> String {
        encode(value, preserveSlash: true)
    }

    /// Percent-decodes `value` to raw bytes; nil when an escape is malformed (`%` not followed by two hex digits).
    /// With `plusAsSpace`, `+` decodes to a space (form / query-string convention).
    public static func decodeBytes(_ value: some StringProtocol, plusAsSpace: Bool = false) -> [UInt8]? {
        let input = Array(value.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < input.count, let hi = hexValue(input[i + 1]), let lo = hexValue(input[i + 2]) else {
                    return nil
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusAsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
        return out
    }

    /// Percent-decodes `value` to a string; nil when an escape is malformed or the result is not valid UTF-8.
    public static func decode(_ value: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        guard let bytes = decodeBytes(value, plusAsSpace: plusAsSpace) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
