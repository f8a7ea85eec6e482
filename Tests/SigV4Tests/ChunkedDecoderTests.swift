import Foundation
import NIOCore
import SigV4
import Testing

/// `AWSChunkedDecoder` against the S3 documentation's streaming examples, and
/// what it does with every way a body can be cut into buffers or go wrong.
@Suite struct ChunkedDecoderTests {
    static let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)

    /// The signed example: 65536 + 1024 bytes of `a` and the final chunk.
    static let signedBody: [UInt8] = {
        var body = Array(
            "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".utf8)
        body += payload[0..<65536]
        body += Array(
            "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n".utf8)
        body += payload[65536...]
        body += Array(
            "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n".utf8)
        return body
    }()

    /// The signed example with a CRC32C trailer.
    static let trailerBody: [UInt8] = {
        var body = Array(
            "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n".utf8)
        body += payload[0..<65536]
        body += Array(
            "\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n".utf8)
        body += payload[65536...]
        body += Array("\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n".utf8)
        body += Array("x-amz-checksum-crc32c:sOO8/Q==\r\n".utf8)
        body += Array(
            "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n".utf8)
        return body
    }()

    /// The verified request and headers of one of the streaming examples.
    static func verified(_ name: String) throws -> (SigV4VerifiedRequest, [(name: String, value: String)]) {
        let vector = try #require(TestVector.load(suite: "s3-examples").first { $0.name == name })
        let headers = vector.request.headers + [("Authorization", try #require(vector.authorization))]
        let request = SigV4IncomingRequest(
            method: vector.request.method, target: vector.request.target, headers: headers)
        let verified = try SigV4Verifier().verify(request, now: Fixtures.s3Date) { _ in
            Fixtures.s3Credentials.secretAccessKey
        }
        return (verified, headers)
    }

    static func signedDecoder(configuration: AWSChunkedDecoder.Configuration = .init()) throws -> AWSChunkedDecoder {
        let (verified, headers) = try verified("put-object-chunked")
        return try AWSChunkedDecoder(verified: verified, headers: headers, configuration: configuration)
    }

    static func trailerDecoder() throws -> AWSChunkedDecoder {
        let (verified, headers) = try verified("put-object-chunked-trailer")
        return try AWSChunkedDecoder(verified: verified, headers: headers)
    }

    // MARK: - The documented examples

    @Test func signedExampleDecodes() throws {
        #expect(Self.signedBody.count == 66824)  // the example's Content-Length
        var decoder = try Self.signedDecoder()
        let output = try decodeAll([ByteBuffer(bytes: Self.signedBody)], with: &decoder)
        #expect(output == Self.payload)
        #expect(decoder.isComplete)
        #expect(decoder.decodedByteCount == 66560)
        #expect(decoder.trailers.isEmpty)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 1000, 4096, 65537, 70000] as [Int])
    func signedExampleDecodesWhateverTheSplits(maxPiece: Int) throws {
        var generator = SeededGenerator(seed: UInt64(maxPiece))
        for _ in 0..<(maxPiece < 8 ? 1 : 5) {
            var decoder = try Self.signedDecoder()
            let pieces = randomSplit(Self.signedBody, using: &generator, maxPiece: maxPiece)
            #expect(try decodeAll(pieces, with: &decoder) == Self.payload)
        }
    }

    @Test func trailerExampleDecodesAndExposesTheChecksum() throws {
        var generator = SeededGenerator(seed: 42)
        for maxPiece in [1, 5, 100, 10_000, 100_000] {
            var decoder = try Self.trailerDecoder()
            let output = try decodeAll(
                randomSplit(Self.trailerBody, using: &generator, maxPiece: maxPiece), with: &decoder)
            #expect(output == Self.payload)
            #expect(decoder.trailer("x-amz-checksum-crc32c") == "sOO8/Q==")
            #expect(decoder.trailers.map(\.name) == ["x-amz-checksum-crc32c"])
        }
        var crc = S3ChecksumHasher(.crc32c)
        crc.update(Self.payload)
        #expect(crc.finalizeBase64() == "sOO8/Q==")
        try S3ChecksumAlgorithm.crc32c.verify(declaredBase64: "sOO8/Q==", computed: crc.finalize())
    }

    @Test func chunkDataIsStreamedNotCollected() throws {
        var decoder = try Self.signedDecoder()
        let header = Self.signedBody.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        #expect(try decoder.feed(ByteBuffer(bytes: Self.signedBody[..<header])).isEmpty)
        var offset = header
        for _ in 0..<64 {
            let out = try decoder.feed(ByteBuffer(bytes: Self.signedBody[offset..<(offset + 1000)]))
            #expect(out.map(\.readableBytes) == [1000])
            offset += 1000
        }
    }

    // MARK: - Unsigned streaming with a trailer

    @Test func unsignedTrailerBodyDecodes() throws {
        let body = Array("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".utf8)
        var generator = SeededGenerator(seed: 7)
        for maxPiece in [1, 2, 3, 10, 100] {
            var decoder = try AWSChunkedDecoder(
                payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: 11,
                declaredTrailers: ["x-amz-checksum-crc32"])
            let output = try decodeAll(randomSplit(body, using: &generator, maxPiece: maxPiece), with: &decoder)
            #expect(String(decoding: output, as: UTF8.self) == "hello world")
            #expect(decoder.trailer("X-Amz-Checksum-CRC32") == "DUoRhQ==")
        }
        var crc = S3ChecksumHasher(.crc32)
        crc.update(Array("hello world".utf8))
        #expect(crc.finalizeBase64() == "DUoRhQ==")
    }

    @Test func unsignedChunksMayCarryExtensions() throws {
        let body = Array("5;foo=bar\r\nhello\r\n0\r\n\r\n".utf8)
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
        #expect(try decodeAll([ByteBuffer(bytes: body)], with: &decoder) == Array("hello".utf8))
    }

    @Test func aBlankLineBeforeTheTrailersIsTolerated() throws {
        let body = Array("5\r\nhello\r\n0\r\n\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: 5,
            declaredTrailers: ["x-amz-checksum-crc32"])
        #expect(try decodeAll([ByteBuffer(bytes: body)], with: &decoder) == Array("hello".utf8))
        #expect(decoder.trailer("x-amz-checksum-crc32") == "NhCmhg==")
    }

    @Test func aMissingFinalCRLFIsTolerated() throws {
        var decoder = try Self.signedDecoder()
        #expect(try decodeAll([ByteBuffer(bytes: Self.signedBody.dropLast(2))], with: &decoder) == Self.payload)
        var trailerDecoder = try Self.trailerDecoder()
        #expect(try decodeAll([ByteBuffer(bytes: Self.trailerBody.dropLast(2))], with: &trailerDecoder) == Self.payload)
    }

    // MARK: - Round trips through the encoder

    @Test(arguments: [SigV4PayloadMode.streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer])
    func encoderAndDecoderRoundTrip(mode: SigV4PayloadMode) throws {
        var generator = SeededGenerator(seed: 99)
        let credentials = SigV4Credentials(accessKeyID: "AK", secretAccessKey: "secret")
        let signer = SigV4Signer(credentials: credentials, region: "eu-central-1")
        for _ in 0..<8 {
            let length = Int.random(in: 0...50_000, using: &generator)
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let headers: [(name: String, value: String)] =
                [
                    ("content-encoding", "aws-chunked"), ("x-amz-decoded-content-length", String(length)),
                ] + (mode.hasTrailer ? [("x-amz-trailer", "x-amz-checksum-crc64nvme")] : [])
            let request = SigV4SigningRequest(method: "PUT", host: "localhost:9000", rawPath: "/b/k", headers: headers)
            let signed = signer.sign(request, payload: mode, date: Fixtures.s3Date)

            var encoder = try AWSChunkedEncoder(signed: signed, payload: mode)
            var body: [UInt8] = []
            var offset = 0
            while offset < length {
                let size = min(length - offset, Int.random(in: 1...9000, using: &generator))
                body += encoder.encode(data[offset..<(offset + size)]).bytes
                offset += size
            }
            var crc = S3ChecksumHasher(.crc64nvme)
            crc.update(data)
            body +=
                encoder.finish(trailers: mode.hasTrailer ? [("x-amz-checksum-crc64nvme", crc.finalizeBase64())] : [])
                .bytes

            let incoming = SigV4IncomingRequest(
                method: "PUT", rawPath: "/b/k", headers: signed.headers + [("Host", "localhost:9000")])
            let verified = try SigV4Verifier().verify(incoming, now: Fixtures.s3Date) { _ in "secret" }
            #expect(verified.payload == mode)
            var decoder = try AWSChunkedDecoder(verified: verified, headers: incoming.headers)
            let output = try decodeAll(randomSplit(body, using: &generator, maxPiece: 3000), with: &decoder)
            #expect(output == data)
            if mode.hasTrailer {
                try S3ChecksumAlgorithm.crc64nvme.verify(
                    declaredBase64: try #require(decoder.trailer("x-amz-checksum-crc64nvme")), computed: crc.finalize())
            }
        }
    }

    @Test func encodedLengthMatchesTheEncoding() throws {
        let signer = SigV4Signer(credentials: .init(accessKeyID: "AK", secretAccessKey: "s"), region: "r")
        let signed = signer.sign(
            SigV4SigningRequest(method: "PUT", host: "h", rawPath: "/k"), payload: .streamingSigned)
        for length in [0, 1, 8191, 8192, 8193, 65536 + 1024] {
            var encoder = try AWSChunkedEncoder(signed: signed, payload: .streamingSigned)
            var total = 0
            var offset = 0
            while offset < length {
                let size = min(8192, length - offset)
                total += encoder.encode([UInt8](repeating: 1, count: size)).readableBytes
                offset += size
            }
            total += encoder.finish().readableBytes
            #expect(
                AWSChunkedEncoder.encodedLength(decodedLength: Int64(length), chunkSize: 8192, signed: true)
                    == Int64(total))
        }
        #expect(AWSChunkedEncoder.encodedLength(decodedLength: 66560, chunkSize: 65536, signed: true) == 66824)
    }

    // MARK: - Tampering

    @Test func corruptedChunkDataIsRefused() throws {
        var body = Self.signedBody
        body[66_000] = UInt8(ascii: "b")
        var decoder = try Self.signedDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: body)], with: &decoder) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func corruptedChunkSignatureIsRefused() throws {
        var body = Self.signedBody
        body[30] = body[30] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        var decoder = try Self.signedDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: body)], with: &decoder) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func aMissingChunkSignatureIsRefused() throws {
        var decoder = try Self.signedDecoder()
        let error = sigV4Error { _ = try decoder.feed(ByteBuffer(string: "10000\r\n")) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func aTamperedTrailerIsRefused() throws {
        let tampered = String(decoding: Self.trailerBody, as: UTF8.self).replacingOccurrences(
            of: "sOO8/Q==", with: "sOO8/A==")
        var decoder = try Self.trailerDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(string: tampered)], with: &decoder) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func anUnsignedTrailerIsRefusedInTheSignedTrailerMode() throws {
        let text = String(decoding: Self.trailerBody, as: UTF8.self)
        let unsigned = text.components(separatedBy: "x-amz-trailer-signature")[0] + "\r\n"
        var decoder = try Self.trailerDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(string: unsigned)], with: &decoder) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func aMissingDeclaredTrailerIsRefused() throws {
        let body = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: 5,
            declaredTrailers: ["x-amz-checksum-crc32"])
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: body)], with: &decoder) }
        #expect(error?.code == .malformedTrailerError)
    }

    @Test func anUndeclaredTrailerIsRefused() throws {
        let body = Array("5\r\nhello\r\n0\r\nx-amz-checksum-sha1:abc\r\n\r\n".utf8)
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: 5,
            declaredTrailers: ["x-amz-checksum-crc32"])
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: body)], with: &decoder) }
        #expect(error?.code == .malformedTrailerError)
    }

    @Test func trailersAreRefusedWithoutATrailerMode() throws {
        var decoder = try Self.signedDecoder()
        var body = Self.signedBody.dropLast(2)
        body += Array("x-amz-checksum-crc32:AAAAAA==\r\n\r\n".utf8)
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: body)], with: &decoder) }
        #expect(error?.code == .invalidRequest)
    }

    // MARK: - Framing errors

    @Test(arguments: [66000, 65550, 65600, 66700, 66819, 66820])
    func truncatedBodiesAreIncomplete(length: Int) throws {
        var decoder = try Self.signedDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: Self.signedBody[..<length])], with: &decoder) }
        #expect(error?.code == .incompleteBody)
    }

    @Test func aTruncatedTrailerIsIncomplete() throws {
        var decoder = try Self.trailerDecoder()
        let cut = Self.trailerBody.count - 20
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: Self.trailerBody[..<cut])], with: &decoder) }
        #expect(error?.code == .incompleteBody)
    }

    @Test func aDecodedLengthMismatchIsIncomplete() throws {
        let (verified, headers) = try Self.verified("put-object-chunked")
        for declared in ["66559", "66561", "0"] {
            let replaced = headers.map { $0.name == "x-amz-decoded-content-length" ? ($0.name, declared) : $0 }
            var decoder = try AWSChunkedDecoder(verified: verified, headers: replaced)
            let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: Self.signedBody)], with: &decoder) }
            #expect(error?.code == .incompleteBody)
        }
    }

    @Test func anInvalidDecodedLengthIsRefused() throws {
        let (verified, _) = try Self.verified("put-object-chunked")
        for value in ["-1", "abc", "1e3", ""] {
            let error = sigV4Error {
                _ = try AWSChunkedDecoder(verified: verified, headers: [("x-amz-decoded-content-length", value)])
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test(arguments: [
        "zz;chunk-signature=\(String(repeating: "0", count: 64))\r\n",
        ";chunk-signature=\(String(repeating: "0", count: 64))\r\n",
        "-5\r\n",
        " 5\r\n",
        "5 \r\n",
        "5\n",
        "\r\n",
        "fffffffffffffffffff\r\n",
    ])
    func badChunkHeadersAreRefused(header: String) throws {
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
        let error = sigV4Error {
            _ = try decodeAll([ByteBuffer(string: header + "hello\r\n0\r\n\r\n")], with: &decoder)
        }
        #expect(error?.code == .invalidRequest)
    }

    @Test func anOversizeHeaderLineIsRefusedWithoutBufferingIt() throws {
        var decoder = try Self.signedDecoder()
        let line = ByteBuffer(repeating: UInt8(ascii: "1"), count: 1000)
        var error: SigV4Error?
        for _ in 0..<10 where error == nil {
            error = sigV4Error { _ = try decoder.feed(line) }
        }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("4096") == true)
    }

    @Test func chunkDataMustEndWithCRLF() throws {
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(string: "5\r\nhelloX\r\n0\r\n\r\n")], with: &decoder) }
        #expect(error?.code == .invalidRequest)
    }

    @Test func dataAfterTheEndIsRefused() throws {
        var decoder = try Self.signedDecoder()
        let error = sigV4Error { _ = try decodeAll([ByteBuffer(bytes: Self.signedBody + [0x41])], with: &decoder) }
        #expect(error?.code == .invalidRequest)
    }

    @Test func aBodyLongerThanDeclaredIsRefusedEarly() throws {
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: 3)
        let error = sigV4Error { _ = try decoder.feed(ByteBuffer(string: "5\r\n")) }
        #expect(error?.code == .incompleteBody)
    }

    @Test func smallChunksCanBeRefused() throws {
        let configuration = AWSChunkedDecoder.Configuration(minimumChunkSize: 8192)
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil,
            configuration: configuration)
        let error = sigV4Error {
            _ = try decodeAll([ByteBuffer(string: "5\r\nhello\r\n5\r\nhello\r\n0\r\n\r\n")], with: &decoder)
        }
        #expect(error?.code == .invalidChunkSizeError)
        // The last data chunk may be small.
        var signed = try Self.signedDecoder(configuration: configuration)
        #expect(try decodeAll([ByteBuffer(bytes: Self.signedBody)], with: &signed) == Self.payload)
    }

    @Test func errorsAreSticky() throws {
        var decoder = try AWSChunkedDecoder(
            payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
        let first = sigV4Error { _ = try decoder.feed(ByteBuffer(string: "xyz\r\n")) }
        let second = sigV4Error { _ = try decoder.feed(ByteBuffer(string: "5\r\nhello\r\n")) }
        let third = sigV4Error { try decoder.finish() }
        #expect(first != nil)
        #expect(second == first)
        #expect(third == first)
    }

    @Test func nonStreamingPayloadsHaveNoDecoder() {
        for mode in [SigV4PayloadMode.unsigned, .sha256(SigV4PayloadMode.emptySHA256)] {
            let error = sigV4Error {
                _ = try AWSChunkedDecoder(
                    payload: mode, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
            }
            #expect(error?.code == .invalidRequest)
        }
        let error = sigV4Error {
            _ = try AWSChunkedDecoder(
                payload: .streamingSigned, chunkSigner: nil, seedSignature: nil, decodedContentLength: nil)
        }
        #expect(error?.code == .invalidRequest)
    }

    /// Random corruptions of valid bodies must end in an error or a result, never a crash.
    @Test func randomCorruptionNeverCrashes() throws {
        var generator = SeededGenerator(seed: 2024)
        let unsigned = Array("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".utf8)
        for round in 0..<300 {
            var body =
                round.isMultiple(of: 2) ? unsigned : Array(Self.trailerBody.prefix(200) + Self.trailerBody.suffix(200))
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<body.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: body[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: body.remove(at: index)
                default: body.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            var decoder =
                round.isMultiple(of: 2)
                ? try AWSChunkedDecoder(
                    payload: .streamingUnsignedWithTrailer, chunkSigner: nil, seedSignature: nil,
                    decodedContentLength: 11)
                : try Self.trailerDecoder()
            _ = sigV4Error { _ = try decodeAll(randomSplit(body, using: &generator, maxPiece: 50), with: &decoder) }
        }
    }
}
