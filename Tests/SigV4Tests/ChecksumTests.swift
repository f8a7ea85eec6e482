import Foundation
import NIOCore
import SigV4
import Testing

/// Bit-at-a-time reference CRCs, independent of the table-driven implementation.
private func referenceCRC32(_ bytes: [UInt8], poly: UInt32) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ poly : crc >> 1 }
    }
    return ~crc
}

private func referenceCRC64(_ bytes: [UInt8]) -> UInt64 {
    var crc: UInt64 = ~0
    for byte in bytes {
        crc ^= UInt64(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5 : crc >> 1 }
    }
    return ~crc
}

@Suite struct ChecksumTests {
    static let check = Array("123456789".utf8)

    @Test func checkValues() {
        #expect(CRC32.checksum(Self.check) == 0xCBF4_3926)
        #expect(CRC32C.checksum(Self.check) == 0xE306_9283)
        #expect(CRC64NVME.checksum(Self.check) == 0xAE8B_1486_0A79_9888)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC64NVME.checksum([]) == 0)
    }

    @Test func base64AsS3SendsIt() {
        var crc32 = S3ChecksumHasher(.crc32)
        crc32.update(Self.check)
        #expect(crc32.finalize() == [0xCB, 0xF4, 0x39, 0x26])
        #expect(crc32.finalizeBase64() == "y/Q5Jg==")
        var crc32c = S3ChecksumHasher(.crc32c)
        crc32c.update(Self.check)
        #expect(crc32c.finalizeBase64() == "4waSgw==")
        var crc64 = S3ChecksumHasher(.crc64nvme)
        crc64.update(Self.check)
        #expect(crc64.finalize() == [0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88])
        #expect(crc64.finalizeBase64() == "rosUhgp5mIg=")
    }

    @Test func digests() {
        let abc = Array("abc".utf8)
        var sha1 = S3ChecksumHasher(.sha1)
        sha1.update(abc)
        #expect(sha1.finalizeHex() == "a9993e364706816aba3e25717850c26c9cd0d89d")
        var sha256 = S3ChecksumHasher(.sha256)
        sha256.update(abc)
        #expect(sha256.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let md5 = S3ChecksumHasher.md5()
        #expect(md5.finalizeHex() == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(md5.algorithm == nil)
        #expect(sha1.algorithm == .sha1)
    }

    @Test func tablesAgreeWithTheBitwiseDefinition() {
        var generator = SeededGenerator(seed: 1)
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32.checksum(data) == referenceCRC32(data, poly: 0xEDB8_8320))
            #expect(CRC32C.checksum(data) == referenceCRC32(data, poly: 0x82F6_3B78))
            #expect(CRC64NVME.checksum(data) == referenceCRC64(data))
        }
    }

    @Test(arguments: S3ChecksumAlgorithm.allCases)
    func streamingEqualsOneShot(algorithm: S3ChecksumAlgorithm) {
        var generator = SeededGenerator(seed: 5)
        let data = (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var oneShot = S3ChecksumHasher(algorithm)
        oneShot.update(data)
        var streamed = algorithm.makeHasher()
        for piece in randomSplit(data, using: &generator, maxPiece: 777) { streamed.update(piece) }
        #expect(streamed.finalize() == oneShot.finalize())
        #expect(streamed.finalize().count == algorithm.digestByteCount)
        // Finalizing does not end the hasher.
        streamed.update([1, 2, 3])
        oneShot.update(ByteBuffer(bytes: [1, 2, 3]))
        #expect(streamed.finalize() == oneShot.finalize())
    }

    @Test func crcsCombine() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let first = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let second = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let length = Int64(second.count)
            #expect(
                CRC32.combine(CRC32.checksum(first), CRC32.checksum(second), secondLength: length)
                    == CRC32.checksum(first + second))
            #expect(
                CRC32C.combine(CRC32C.checksum(first), CRC32C.checksum(second), secondLength: length)
                    == CRC32C.checksum(first + second))
            #expect(
                CRC64NVME.combine(CRC64NVME.checksum(first), CRC64NVME.checksum(second), secondLength: length)
                    == CRC64NVME.checksum(first + second))
        }
    }

    @Test(arguments: [S3ChecksumAlgorithm.crc32, .crc32c, .crc64nvme])
    func fullObjectChecksumOfParts(algorithm: S3ChecksumAlgorithm) throws {
        var generator = SeededGenerator(seed: 3)
        let parts = (0..<4).map { _ in
            (0..<Int.random(in: 1...5000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let partChecksums = parts.map { part -> (checksum: [UInt8], length: Int64) in
            var hasher = S3ChecksumHasher(algorithm)
            hasher.update(part)
            return (hasher.finalize(), Int64(part.count))
        }
        var whole = S3ChecksumHasher(algorithm)
        whole.update(parts.flatMap { $0 })
        #expect(S3MultipartChecksum.fullObject(algorithm, parts: partChecksums) == whole.finalize())
        #expect(S3MultipartChecksum.fullObject(algorithm, parts: [([1, 2], 2)]) == nil)
        #expect(S3MultipartChecksum.fullObject(.sha256, parts: partChecksums) == nil)
    }

    @Test func compositeChecksumIsAChecksumOfChecksums() throws {
        let parts: [[UInt8]] = [Array("part one".utf8), Array("part two".utf8), Array("three".utf8)]
        let raw = parts.map { part -> [UInt8] in
            var hasher = S3ChecksumHasher(.sha256)
            hasher.update(part)
            return hasher.finalize()
        }
        var outer = S3ChecksumHasher(.sha256)
        outer.update(raw.flatMap { $0 })
        let expected = "\(outer.finalizeBase64())-3"
        #expect(S3MultipartChecksum.composite(.sha256, partChecksums: raw) == expected)
        let base64 = raw.map { Data($0).base64EncodedString() }
        #expect(try S3MultipartChecksum.composite(.sha256, partChecksumsBase64: base64) == expected)
        let error = sigV4Error { _ = try S3MultipartChecksum.composite(.crc32, partChecksumsBase64: base64) }
        #expect(error?.code == .invalidRequest)
    }

    @Test func multipartETag() {
        let md5s = ["a", "b"].map { text -> [UInt8] in
            var md5 = S3ChecksumHasher.md5()
            md5.update(Array(text.utf8))
            return md5.finalize()
        }
        var outer = S3ChecksumHasher.md5()
        outer.update(md5s.flatMap { $0 })
        #expect(S3MultipartChecksum.multipartETag(partMD5s: md5s) == "\(outer.finalizeHex())-2")
    }

    @Test func algorithmNames() {
        #expect(S3ChecksumAlgorithm(algorithmName: "crc32c") == .crc32c)
        #expect(S3ChecksumAlgorithm(algorithmName: " CRC64NVME ") == .crc64nvme)
        #expect(S3ChecksumAlgorithm(algorithmName: "Sha256") == .sha256)
        #expect(S3ChecksumAlgorithm(algorithmName: "md5") == nil)
        #expect(S3ChecksumAlgorithm(headerName: "x-amz-checksum-crc32") == .crc32)
        #expect(S3ChecksumAlgorithm(headerName: "X-Amz-Checksum-SHA1") == .sha1)
        #expect(S3ChecksumAlgorithm(headerName: "x-amz-checksum-algorithm") == nil)
        #expect(S3ChecksumAlgorithm(headerName: "x-amz-checksum-type") == nil)
        #expect(S3ChecksumAlgorithm(headerName: "x-amz-meta-crc32") == nil)
        #expect(S3ChecksumAlgorithm.crc64nvme.headerName == "x-amz-checksum-crc64nvme")
        #expect(S3ChecksumAlgorithm.allCases.map(\.digestByteCount) == [4, 4, 8, 20, 32])
    }

    @Test func declaredChecksums() {
        let withValue = S3ChecksumAlgorithm.declared(in: [
            ("X-Amz-Checksum-CRC32C", "sOO8/Q=="), ("x-amz-sdk-checksum-algorithm", "SHA1"),
        ])
        #expect(withValue?.algorithm == .crc32c)
        #expect(withValue?.value == "sOO8/Q==")
        let trailer = S3ChecksumAlgorithm.declared(in: [("x-amz-trailer", "x-amz-checksum-crc64nvme")])
        #expect(trailer?.algorithm == .crc64nvme)
        #expect(trailer?.value == nil)
        #expect(S3ChecksumAlgorithm.declared(in: [("x-amz-sdk-checksum-algorithm", "CRC32")])?.algorithm == .crc32)
        #expect(S3ChecksumAlgorithm.declared(in: [("x-amz-checksum-algorithm", "sha256")])?.algorithm == .sha256)
        #expect(S3ChecksumAlgorithm.declared(in: [("content-type", "text/plain")]) == nil)
    }

    @Test func checksumVerification() throws {
        try S3ChecksumAlgorithm.crc32.verify(declaredBase64: "y/Q5Jg==", computed: [0xCB, 0xF4, 0x39, 0x26])
        let mismatch = sigV4Error {
            try S3ChecksumAlgorithm.crc32.verify(declaredBase64: "AAAAAA==", computed: [0xCB, 0xF4, 0x39, 0x26])
        }
        #expect(mismatch?.code == .badDigest)
        #expect(mismatch?.message == "The CRC32 you specified did not match the calculated checksum.")
        for invalid in ["not base64!", "AAAA", "AAAAAAAA", ""] {
            let error = sigV4Error { _ = try S3ChecksumAlgorithm.crc32.decode(base64: invalid) }
            #expect(error?.code == .invalidRequest)
            #expect(error?.message == "Value for x-amz-checksum-crc32 header is invalid.")
        }
    }

    @Test func contentMD5() throws {
        var md5 = S3ChecksumHasher.md5()
        md5.update(Array("hello".utf8))
        let computed = md5.finalize()
        try S3ContentMD5.verify("XUFAKrxLKna5cZ2REBfFkg==", computed: computed)
        #expect(
            sigV4Error { try S3ContentMD5.verify("1B2M2Y8AsgTpgAmY7PhCfg==", computed: computed) }?.code == .badDigest)
        #expect(sigV4Error { try S3ContentMD5.verify("XUFAKrxLKna5", computed: computed) }?.code == .invalidDigest)
        #expect(sigV4Error { _ = try S3ContentMD5.decode("%%%") }?.code == .invalidDigest)
    }
}
