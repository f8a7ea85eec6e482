/// Percent-encoding as SigV4 defines it, with S3's rules for the path.
///
/// Every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~` is
/// written as `%XY` with uppercase hex digits. In paths `/` is kept. S3 does
/// not normalise paths (`.`/`..` segments and repeated slashes are signed as
/// they are) and does not encode the path twice, unlike other AWS services.
package enum URIEncoding {
    @usableFromInline
    static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Whether `byte` is one of SigV4's unreserved characters.
    @inlinable
    package static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Appends the SigV4 encoding of `bytes` to `output`, keeping `/` when `keepSlash` is set.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>, keepSlash: Bool, into output: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(upperHex[Int(byte >> 4)])
                output.append(upperHex[Int(byte & 0x0F)])
            }
        }
    }

    /// The SigV4 encoding of `text`'s UTF-8 bytes.
    package static func encode(_ text: some StringProtocol, keepSlash: Bool) -> String {
        var output = [UInt8]()
        output.reserveCapacity(text.utf8.count)
        encode(text.utf8, keepSlash: keepSlash, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `%XY` escapes; a `%` not followed by two hex digits is kept as is.
    /// With `plusAsSpace`, `+` decodes to a space (query strings, as S3 reads them).
    package static func decode(_ bytes: some Collection<UInt8>, plusAsSpace: Bool) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = Hex.value(of: bytes[first]),
                        let low = Hex.value(of: bytes[second])
                    {
                        output.append(high << 4 | low)
                        index = bytes.index(after: second)
                        continue
                    }
                }
                output.append(byte)
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return output
    }

    /// The canonical URI of a path as it appeared on the wire (percent-encoded or not):
    /// decoded once and encoded again, so that equivalent spellings sign the same way.
    package static func canonicalPath(fromEncoded path: some StringProtocol) -> String {
        guard !path.isEmpty else { return "/" }
        var output = [UInt8]()
        output.reserveCapacity(path.utf8.count + 8)
        encode(decode(path.utf8, plusAsSpace: false), keepSlash: true, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// The canonical URI of an unencoded path (the object key as it is): encoded once.
    package static func canonicalPath(fromRaw path: some StringProtocol) -> String {
        guard !path.isEmpty else { return "/" }
        return encode(path, keepSlash: true)
    }
}
