/// Case-insensitive lookups in a plain list of HTTP header fields.
package enum HeaderList {
    /// ASCII case-insensitive comparison of a header name with a lowercase name.
    @inlinable
    package static func namesEqual(_ name: some StringProtocol, _ lowercaseName: some StringProtocol) -> Bool {
        // Most names looked at are not the one sought, and most of those differ in length
        // (a native string knows its UTF-8 count).
        guard name.utf8.count == lowercaseName.utf8.count else { return false }
        var left = name.utf8.makeIterator()
        var right = lowercaseName.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil):
                return true
            case (let l?, let r?):
                let folded = (l >= UInt8(ascii: "A") && l <= UInt8(ascii: "Z")) ? l | 0x20 : l
                if folded != r { return false }
            default:
                return false
            }
        }
    }

    /// Whether `name` starts with the lowercase `prefix`, ignoring ASCII case.
    package static func hasPrefix(_ name: some StringProtocol, _ lowercasePrefix: String) -> Bool {
        var characters = name.utf8.makeIterator()
        for expected in lowercasePrefix.utf8 {
            guard let byte = characters.next() else { return false }
            let folded = (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
            if folded != expected { return false }
        }
        return true
    }

    /// The first value of the header `lowercaseName`.
    package static func first(_ lowercaseName: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { namesEqual($0.name, lowercaseName) }?.value
    }

    /// Every value of the header `lowercaseName`, in order.
    package static func all(_ lowercaseName: String, in headers: [(name: String, value: String)]) -> [String] {
        headers.compactMap { namesEqual($0.name, lowercaseName) ? $0.value : nil }
    }

    /// ASCII-lowercases a header name (header names are ASCII tokens).
    package static func lowercase(_ name: some StringProtocol) -> String {
        let isUpper = { (byte: UInt8) in byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
        // Most names arrive lowercase already (HTTP/2, the SDKs): then a String is returned as
        // it is, without a copy.
        guard name.utf8.contains(where: isUpper) else { return String(name) }
        return String(unsafeUninitializedCapacity: name.utf8.count) { buffer in
            var count = 0
            for byte in name.utf8 {
                buffer[count] = isUpper(byte) ? byte | 0x20 : byte
                count += 1
            }
            return count
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (HTTP's optional whitespace).
    /// Foundation's `trimmingCharacters(in:)` goes through `NSString` on Linux and costs
    /// microseconds per call; header values are trimmed several times per request.
    package func trimmingOWS() -> String { trimming { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } }

    /// The string without leading and trailing double quotes (an ETag's quoting).
    package func trimmingQuotes() -> String { trimming { $0 == UInt8(ascii: "\"") } }

    /// The string without the leading and trailing ASCII bytes `isTrimmed` selects.
    package func trimming(_ isTrimmed: (UInt8) -> Bool) -> String {
        let bytes = Substring(self).utf8
        guard let first = bytes.firstIndex(where: { !isTrimmed($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isTrimmed($0) })!
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
