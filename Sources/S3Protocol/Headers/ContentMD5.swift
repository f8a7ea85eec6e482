/// The `Content-MD5` header: base64 of a 16-byte MD5 digest.
public enum ContentMD5 {
    /// Decodes the header to the 16 digest bytes.
    /// - Throws: `InvalidDigest` unless the value is padded base64 of exactly 16 bytes.
    public static func parse(_ headerValue: String) throws(S3Error) -> [UInt8] {
        guard let digest = Base64.decode(headerValue.trimmingXMLWhitespace()), digest.count == 16 else {
            throw S3Error(.invalidDigest).adding("Content-MD5", headerValue)
        }
        return digest
    }

    /// Base64-encodes a digest, as it appears in `Content-MD5`.
    public static func headerValue(for digest: [UInt8]) -> String {
        Base64.encode(digest)
    }

    /// Lowercase hex of a digest, as S3 uses inside ETags.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
