extension XMLWriter {
    /// Escapes `value` for use as XML 1.0 text or a double- or single-quoted attribute value.
    ///
    /// - `&`, `<`, `>`, `"` and `'` become entity references.
    /// - Carriage return becomes `&#xD;` so parsers do not normalize it to a line feed.
    /// - Tab and line feed pass through.
    /// - Characters XML 1.0 forbids even as references (C0 controls other than tab, LF and CR,
    ///   U+FFFE and U+FFFF) are replaced by U+FFFD. Such keys survive a listing only with
    ///   `encoding-type=url`, which percent-encodes them before they reach the XML.
    public static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { buffer in appendEscaped(buffer, to: &bytes) }
    }

    /// Returns `value` escaped as by ``appendEscaped(_:to:)``.
    public static func escaped(_ value: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        appendEscaped(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendEscaped(_ input: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        var i = 0
        let count = input.count
        while i < count {
            let b = input[i]
            let replacement: [UInt8]?
            var width = 1
            switch b {
            case UInt8(ascii: "&"): replacement = amp
            case UInt8(ascii: "<"): replacement = lt
            case UInt8(ascii: ">"): replacement = gt
            case UInt8(ascii: "\""): replacement = quot
            case UInt8(ascii: "'"): replacement = apos
            case 0x0D: replacement = cr
            case 0x09, 0x0A: replacement = nil
            case 0x00..<0x20: replacement = replacementCharacter
            case 0xEF where i + 2 < count && input[i + 1] == 0xBF && (input[i + 2] == 0xBE || input[i + 2] == 0xBF):
                // U+FFFE / U+FFFF
                replacement = replacementCharacter
                width = 3
            default: replacement = nil
            }
            if let replacement {
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<i])) }
                bytes.append(contentsOf: replacement)
                i += width
                runStart = i
            } else {
                i += 1
            }
        }
        if runStart < count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<count])) }
    }

    private static let amp = Array("&amp;".utf8)
    private static let lt = Array("&lt;".utf8)
    private static let gt = Array("&gt;".utf8)
    private static let quot = Array("&quot;".utf8)
    private static let apos = Array("&apos;".utf8)
    private static let cr = Array("&#xD;".utf8)
    private static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]
}
