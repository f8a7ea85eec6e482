import Foundation

/// The `Content-MD5` header: base64 of the body's 16-byte MD5.
public enum S3ContentMD5 {
    /// Decodes a `Content-MD5` value.
    ///
    /// - Throws: `InvalidDigest` unless it is base64 of 16 bytes.
    public static func decode(_ value: String) throws(SigV4Error) -> [UInt8] {
        guard let data = Data(base64Encoded: value.trimmingOWS()), data.count == 16 else {
            throw SigV4Error(
                .invalidDigest, "The Content-MD5 you specified was invalid.", details: [.init("Content-MD5", value)])
        }
        return Array(data)
    }

    /// Compares a `Content-MD5` value with the MD5 computed over the body.
    ///
    /// - Throws: `InvalidDigest` for a malformed value, `BadDigest` for a mismatch.
    public static func verify(_ value: String, computed: [UInt8]) throws(SigV4Error) {
        guard try decode(value) == computed else {
            throw SigV4Error(
                .badDigest, "The Content-MD5 you specified did not match what we received.",
                details: [
                    .init("ExpectedDigest", value), .init("CalculatedDigest", Data(computed).base64EncodedString()),
                ])
        }
    }
}
