import Crypto
import Testing

@testable import SigV4

@Suite("Hex")
struct HexTests {
    @Test func everyEncodingGivesTheSameText() {
        let digest = SHA256.hash(data: Array("abc".utf8))
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(Hex.encode(contiguous: digest) == expected)
        #expect(Hex.encode(Array(digest)) == expected)
        #expect(Hex.encode(digest) == expected)  // a Sequence without contiguous storage
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
    }

    @Test func matchingIgnoresCaseButNotLengthOrDigits() {
        let bytes: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        #expect(Hex.matches("deadbeef", bytes))
        #expect(Hex.matches("DEADbeef", bytes))
        #expect(!Hex.matches("deadbeee", bytes))
        #expect(!Hex.matches("deadbe", bytes))
        #expect(!Hex.matches("deadbeef00", bytes))
        #expect(!Hex.matches("deadbeeg", bytes))
        #expect(!Hex.matches("", bytes))
        #expect(Hex.matches("", [UInt8]()))
    }
}
