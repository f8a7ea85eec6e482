import Crypto
import Foundation

/// SHA-256 and HMAC-SHA256 helpers over the types SigV4 works with.
package enum Digests {
    /// Hex SHA-256 of the empty string, the payload hash of every body-less request.
    package static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// SHA-256 of the UTF-8 bytes of `text`.
    package static func sha256(_ text: String) -> SHA256.Digest {
        var text = text
        return text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }

    /// Lowercase hex SHA-256 of the UTF-8 bytes of `text`.
    package static func sha256Hex(_ text: String) -> String {
        Hex.encode(contiguous: sha256(text))
    }

    /// Lowercase hex SHA-256 of `bytes`.
    package static func sha256Hex(bytes: some DataProtocol) -> String {
        Hex.encode(contiguous: SHA256.hash(data: bytes))
    }

    /// HMAC-SHA256 of the UTF-8 bytes of `message` under `key`.
    package static func hmac(key: some ContiguousBytes, _ message: String) -> [UInt8] {
        let symmetricKey = SymmetricKey(data: key)
        var message = message
        return message.withUTF8 { utf8 in
            Array(HMAC<SHA256>.authenticationCode(for: UnsafeRawBufferPointer(utf8), using: symmetricKey))
        }
    }

    /// Compares two strings in time that depends only on their lengths.
    package static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
