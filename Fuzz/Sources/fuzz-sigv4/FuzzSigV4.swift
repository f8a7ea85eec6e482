import Foundation
import NIOCore
import SigV4

/// The fixed identity every input is checked against: seeds signed with it (see
/// `Corpus/fuzz-sigv4`) carry valid signatures the fuzzer can mutate around.
let credentials = SigV4Credentials(accessKeyID: "fuzz-key", secretAccessKey: "fuzz-secret")
let signingDate = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
let streamingModes: [SigV4PayloadMode] = [.streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer]

/// The seed signature and chunk signer of a PUT signed for each streaming mode.
let signedRequests: [SigV4SignedRequest] = streamingModes.map { mode in
    SigV4Signer(credentials: credentials, region: "us-east-1", keyCache: nil).sign(
        SigV4SigningRequest(method: "PUT", host: "localhost", encodedPath: "/b/k", encodedQuery: "", headers: []),
        payload: mode, date: signingDate)
}

/// Input layout: byte 0 picks the target, the rest is its input.
/// - 0...2: an aws-chunked body in the signed, signed-with-trailer or unsigned-trailer mode;
///   byte 1 sets the size of the pieces it is fed in (the network's split points), byte 2 whether
///   `x-amz-decoded-content-length` and `x-amz-trailer` are declared.
/// - 3: an `Authorization` header value.
/// - 4: a whole request (`METHOD target` line, then `name: value` header lines), parsed and
///   verified as the gateway does, at the signing date.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSigV4(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let selector = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch selector % 5 {
    case 0, 1, 2: decodeChunked(mode: Int(selector % 5), rest)
    case 3: _ = try? SigV4AuthorizationHeader(parsing: String(decoding: rest, as: UTF8.self))
    default: verifyRequest(rest)
    }
    return 0
}

func decodeChunked(mode: Int, _ input: [UInt8]) {
    guard input.count >= 2 else { return }
    let pieceSize = Int(input[0]) + 1
    let declare = input[1]
    let body = input[2...]
    let signed = signedRequests[mode]
    let payload = streamingModes[mode]
    var decoder: AWSChunkedDecoder
    do {
        decoder = try AWSChunkedDecoder(
            payload: payload, chunkSigner: signed.chunkSigner, seedSignature: signed.signature,
            decodedContentLength: declare & 1 == 0 ? nil : Int64(declare >> 1),
            declaredTrailers: declare & 2 == 0 ? [] : ["x-amz-checksum-crc32"])
    } catch {
        fatalError("a valid streaming mode was refused: \(error)")
    }
    var decoded = 0
    var offset = body.startIndex
    do {
        while offset < body.endIndex {
            let end = min(offset + pieceSize, body.endIndex)
            for piece in try decoder.feed(ByteBuffer(bytes: body[offset..<end])) { decoded += piece.readableBytes }
            offset = end
        }
        try decoder.finish()
    } catch {
        // Rejections are expected; after one, every call must fail the same way.
        if (try? decoder.finish()) != nil { fatalError("the decoder accepted the end of a body it had rejected") }
        return
    }
    guard decoder.isComplete, Int64(decoded) == decoder.decodedByteCount else {
        fatalError("a finished body reports \(decoder.decodedByteCount) bytes but returned \(decoded)")
    }
    if declare & 1 != 0, decoder.decodedByteCount != Int64(declare >> 1) {
        fatalError("the decoded length differs from x-amz-decoded-content-length")
    }
}

func verifyRequest(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
    guard let requestLine = lines.next() else { return }
    let words = requestLine.split(separator: " ", maxSplits: 1)
    guard words.count == 2 else { return }
    var headers: [(name: String, value: String)] = []
    while let line = lines.next() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
    }
    let request = SigV4IncomingRequest(method: String(words[0]), target: String(words[1]), headers: headers)
    let verifier = SigV4Verifier(keyCache: nil)
    do {
        let parsed = try verifier.parse(request, now: signingDate)
        let verified = try verifier.verify(parsed, secretAccessKey: parsed.accessKeyID == credentials.accessKeyID ? credentials.secretAccessKey : nil)
        if verified.payload.isStreaming {
            _ = try? AWSChunkedDecoder(verified: verified, headers: headers)
        }
    } catch {
        _ = String(reflecting: error)
    }
}

/// SwiftPM links a debug executable with `main` aliased to `fuzz_sigv4_main`, the function that
/// would hold a script's top-level code; built with `-parse-as-library` this target has none, so
/// this is that function, and it runs libFuzzer's driver. (Where no alias is made, libFuzzer's own
/// `main` is linked instead and this is unused.)
@_cdecl("fuzz_sigv4_main")
public func fuzzerEntryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzzSigV4(data, size)
    }
}

/// libFuzzer's entry for programs that have their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
