/// Canonical headers, canonical requests and strings to sign.
package enum CanonicalRequest {
    /// The only signing algorithm SigV4 over HMAC defines.
    package static let algorithm = "AWS4-HMAC-SHA256"

    /// Appends one header value trimmed, with runs of spaces and tabs collapsed to one space.
    package static func appendCanonicalValue(_ value: some StringProtocol, to output: inout [UInt8]) {
        var pendingSpace = false
        var wroteAny = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = wroteAny
                continue
            }
            if pendingSpace {
                output.append(UInt8(ascii: " "))
                pendingSpace = false
            }
            output.append(byte)
            wroteAny = true
        }
    }

    /// The canonical headers block (`name:value\n` per name, in the order of `names`)
    /// for lowercase `names`, taking every value of each name from `headers` in order
    /// and joining repeated headers with commas. A name absent from `headers` signs
    /// with an empty value.
    package static func canonicalHeaders(names: [String], headers: [(name: String, value: String)]) -> String {
        var output = [UInt8]()
        output.reserveCapacity(names.count * 48)
        for name in names {
            output.append(contentsOf: name.utf8)
            output.append(UInt8(ascii: ":"))
            var first = true
            for header in headers where HeaderList.namesEqual(header.name, name) {
                if !first { output.append(UInt8(ascii: ",")) }
                appendCanonicalValue(header.value, to: &output)
                first = false
            }
            output.append(UInt8(ascii: "\n"))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Assembles a canonical request from its already-canonical parts.
    /// `canonicalHeaders` ends with a newline, as `canonicalHeaders(names:headers:)` returns it.
    package static func build(
        method: String,
        canonicalURI: String,
        canonicalQuery: String,
        canonicalHeaders: String,
        signedHeaders: String,
        payloadHash: String
    ) -> String {
        var result = method
        result.reserveCapacity(
            method.utf8.count + canonicalURI.utf8.count + canonicalQuery.utf8.count + canonicalHeaders.utf8.count
                + signedHeaders.utf8.count + payloadHash.utf8.count + 5)
        result += "\n"
        result += canonicalURI
        result += "\n"
        result += canonicalQuery
        result += "\n"
        result += canonicalHeaders
        result += "\n"
        result += signedHeaders
        result += "\n"
        result += payloadHash
        return result
    }

    /// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical request)>`.
    package static func stringToSign(amzDate: String, scope: SigV4Scope, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope.stringValue)\n\(Digests.sha256Hex(canonicalRequest))"
    }
}
