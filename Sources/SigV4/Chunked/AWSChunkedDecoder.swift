import Crypto
import Foundation
import NIOCore

/// Decodes an `aws-chunked` request body incrementally, without I/O: feed it
/// the buffers as they arrive and it returns the decoded payload.
///
/// Handles the three streaming modes:
/// - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`:
///   `<hex size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n\r\n`,
///   every signature chained from the request's seed signature;
/// - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the same, then trailers
///   (`name:value\r\n`) closed by `x-amz-trailer-signature:<sig>\r\n\r\n`;
/// - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `<hex size>\r\n<data>\r\n ... 0\r\n<trailers>\r\n`.
///
/// Chunk data is passed through as slices of the input buffers (never copied
/// or collected), hashed incrementally for the signature check; at most one
/// header or trailer line is buffered, capped at
/// ``Configuration/maxLineLength``.
///
/// - Important: a chunk's data is returned before its signature (which can
///   only be checked once the chunk ends) and before the end of the body is
///   seen. Treat the output as tentative until ``finish()`` returns: only then
///   is the whole body authenticated and complete.
///
/// ```swift
/// var decoder = try AWSChunkedDecoder(verified: auth, headers: headers)
/// for try await buffer in body {
///     for piece in try decoder.feed(buffer) { try await sink.write(piece) }
/// }
/// try decoder.finish()
/// let checksum = decoder.trailer("x-amz-checksum-crc32c")
/// ```
public struct AWSChunkedDecoder: @unchecked Sendable {
    // @unchecked: the only non-Sendable stored value is swift-crypto's SHA256,
    // a copy-on-write value type with no shared mutable state.

    /// Limits on what the decoder accepts.
    public struct Configuration: Sendable {
        /// The longest chunk header or trailer line, CRLF included.
        public var maxLineLength: Int
        /// The most trailer fields accepted.
        public var maxTrailerCount: Int
        /// If set, every data chunk but the last must hold at least this many bytes
        /// (S3 requires 8192 for signed chunks); otherwise `InvalidChunkSizeError`.
        public var minimumChunkSize: Int?

        /// Creates a configuration.
        public init(maxLineLength: Int = 4096, maxTrailerCount: Int = 16, minimumChunkSize: Int? = nil) {
            self.maxLineLength = maxLineLength
            self.maxTrailerCount = maxTrailerCount
            self.minimumChunkSize = minimumChunkSize
        }
    }

    private enum State {
        case chunkHeader
        case chunkData(remaining: Int64)
        case chunkDataEnd(sawCR: Bool)
        case trailerSection
        case done
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    private let configuration: Configuration
    private let signer: SigV4ChunkSigner?
    private let expectsTrailers: Bool
    private let trailerSigned: Bool
    private let declaredTrailers: [String]
    private let decodedContentLength: Int64?

    private var state = State.chunkHeader
    private var line: [UInt8] = []
    private var chunkHasher: SHA256?
    private var chunkSignature = ""
    private var previousSignature: String
    private var lastDataChunkSize: Int64?
    private var skippedBlankLine = false
    private var trailerSignatureSeen = false
    private var failure: SigV4Error?

    /// The number of decoded payload bytes returned so far.
    public private(set) var decodedByteCount: Int64 = 0
    /// The trailers received, names lowercased, values trimmed, in order
    /// (without `x-amz-trailer-signature`).
    public private(set) var trailers: [(name: String, value: String)] = []

    /// Creates a decoder for the body of an authenticated request, reading
    /// `x-amz-decoded-content-length` and `x-amz-trailer` from `headers`.
    ///
    /// - Throws: `InvalidRequest` if the request's payload mode is not a streaming one,
    ///   `InvalidArgument` for an invalid `x-amz-decoded-content-length`.
    public init(
        verified: SigV4VerifiedRequest, headers: [(name: String, value: String)],
        configuration: Configuration = Configuration()
    ) throws(SigV4Error) {
        var length: Int64?
        if let value = HeaderList.first("x-amz-decoded-content-length", in: headers) {
            let trimmed = value.trimmingOWS()
            guard let parsed = Int64(trimmed), parsed >= 0, trimmed.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw SigV4Error(
                    .invalidArgument, "x-amz-decoded-content-length must be a non-negative integer.",
                    details: [.init("ArgumentName", "x-amz-decoded-content-length"), .init("ArgumentValue", value)])
            }
            length = parsed
        }
        let declared = HeaderList.all("x-amz-trailer", in: headers).flatMap { $0.split(separator: ",") }.map {
            HeaderList.lowercase($0.trimmingOWS())
        }.filter { !$0.isEmpty }
        try self.init(
            payload: verified.payload, chunkSigner: verified.chunkSigner, seedSignature: verified.signature,
            decodedContentLength: length, declaredTrailers: declared, configuration: configuration)
    }

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - payload: the request's streaming payload mode.
    ///   - chunkSigner: checks chunk signatures; required by the signed modes, ignored otherwise.
    ///   - seedSignature: the request's signature, which the first chunk's chains from.
    ///   - decodedContentLength: `x-amz-decoded-content-length`, enforced when given.
    ///   - declaredTrailers: the trailer names from `x-amz-trailer`; each must arrive,
    ///     and no other may (when the list is not empty).
    /// - Throws: `InvalidRequest` for a non-streaming payload or a signed one without signer,
    ///   `InvalidArgument` for a negative decoded length.
    public init(
        payload: SigV4PayloadMode, chunkSigner: SigV4ChunkSigner?, seedSignature: String?,
        decodedContentLength: Int64?, declaredTrailers: [String] = [], configuration: Configuration = Configuration()
    ) throws(SigV4Error) {
        guard payload.isStreaming else {
            throw SigV4Error(.invalidRequest, "The payload \(payload.headerValue) is not aws-chunked.")
        }
        if let decodedContentLength, decodedContentLength < 0 {
            throw SigV4Error(.invalidArgument, "x-amz-decoded-content-length must be a non-negative integer.")
        }
        if payload.hasChunkSignatures {
            guard let chunkSigner, let seedSignature else {
                throw SigV4Error(
                    .invalidRequest, "A signed aws-chunked body needs the request's signing key and seed signature.")
            }
            self.signer = chunkSigner
            self.previousSignature = seedSignature
        } else {
            self.signer = nil
            self.previousSignature = ""
        }
        self.expectsTrailers = payload.hasTrailer
        self.trailerSigned = payload == .streamingSignedWithTrailer
        self.declaredTrailers = declaredTrailers.map { HeaderList.lowercase($0) }
        self.decodedContentLength = decodedContentLength
        self.configuration = configuration
    }

    /// Whether the whole body, final chunk and trailers included, has been decoded.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// The value of the trailer `name` (case-insensitive), once received.
    public func trailer(_ name: String) -> String? {
        HeaderList.first(HeaderList.lowercase(name), in: trailers)
    }

    /// Decodes `buffer`, returning the payload bytes it completes (possibly none),
    /// as slices of `buffer`.
    ///
    /// - Throws: `SignatureDoesNotMatch` for a bad chunk or trailer signature,
    ///   `IncompleteBody` when the decoded length disagrees with
    ///   `x-amz-decoded-content-length`, `InvalidRequest` for malformed framing,
    ///   `InvalidChunkSizeError`, `MalformedTrailerError`. After an error, every
    ///   call throws it again.
    public mutating func feed(_ buffer: ByteBuffer) throws(SigV4Error) -> [ByteBuffer] {
        if let failure { throw failure }
        var input = buffer
        var output: [ByteBuffer] = []
        do throws(SigV4Error) {
            try decode(&input, into: &output)
        } catch {
            failure = error
            throw error
        }
        return output
    }

    /// Signals the end of the body.
    ///
    /// - Throws: `IncompleteBody` if the body stopped before its final chunk (or in the
    ///   middle of a trailer), `MalformedTrailerError` if a declared trailer is missing,
    ///   `SignatureDoesNotMatch` if a signed trailer has no signature.
    public mutating func finish() throws(SigV4Error) {
        if let failure { throw failure }
        do throws(SigV4Error) {
            switch state {
            case .done:
                return
            case .trailerSection where line.isEmpty:
                // The final CRLF is missing; everything it would have closed is complete.
                try complete()
            default:
                throw SigV4Error(
                    .incompleteBody, "The request body terminated unexpectedly.",
                    details: decodedContentLength.map { [.init("ExpectedLength", String($0))] } ?? [])
            }
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - State machine

    private mutating func decode(_ input: inout ByteBuffer, into output: inout [ByteBuffer]) throws(SigV4Error) {
        while input.readableBytes > 0 {
            switch state {
            case .chunkHeader:
                guard let header = try takeLine(&input) else { return }
                try startChunk(header)

            case .chunkData(let remaining):
                let count = Int(min(Int64(input.readableBytes), remaining))
                guard let slice = input.readSlice(length: count) else { return }
                if signer != nil {
                    slice.withUnsafeReadableBytes { chunkHasher?.update(bufferPointer: $0) }
                }
                decodedByteCount += Int64(count)
                output.append(slice)
                state =
                    remaining == Int64(count)
                    ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - Int64(count))

            case .chunkDataEnd(let sawCR):
                guard let byte = input.readInteger(as: UInt8.self) else { return }
                if !sawCR {
                    guard byte == Self.cr else { throw Self.malformed("chunk data is not followed by CRLF") }
                    state = .chunkDataEnd(sawCR: true)
                } else {
                    guard byte == Self.lf else { throw Self.malformed("chunk data is not followed by CRLF") }
                    try endChunk()
                    state = .chunkHeader
                }

            case .trailerSection:
                guard let trailerLine = try takeLine(&input) else { return }
                try handleTrailerLine(trailerLine)

            case .done:
                throw Self.malformed("data follows the end of the aws-chunked body")
            }
        }
    }

    /// Takes one CRLF-terminated line (without the CRLF) from `input`, or buffers a
    /// partial line and returns `nil`.
    private mutating func takeLine(_ input: inout ByteBuffer) throws(SigV4Error) -> [UInt8]? {
        let newline = input.withUnsafeReadableBytes { $0.firstIndex(of: Self.lf) }
        let available = newline.map { $0 + 1 } ?? input.readableBytes
        guard line.count + available <= configuration.maxLineLength else {
            throw Self.malformed(
                "an aws-chunked header or trailer line is longer than \(configuration.maxLineLength) bytes")
        }
        guard let bytes = input.readBytes(length: available) else { return nil }
        line.append(contentsOf: bytes)
        guard newline != nil else { return nil }
        guard line.count >= 2, line[line.count - 2] == Self.cr else {
            throw Self.malformed("an aws-chunked line does not end with CRLF")
        }
        let complete = Array(line[..<(line.count - 2)])
        line.removeAll(keepingCapacity: true)
        return complete
    }

    /// Parses `<hex size>[;name=value]*` and enters the chunk.
    private mutating func startChunk(_ header: [UInt8]) throws(SigV4Error) {
        var size: Int64 = 0
        var index = 0
        while index < header.count, let digit = Hex.value(of: header[index]) {
            guard size <= (Int64.max - Int64(digit)) / 16 else { throw Self.malformed("the chunk size is too large") }
            size = size * 16 + Int64(digit)
            index += 1
        }
        guard index > 0 else { throw Self.malformed("a chunk does not start with a hexadecimal size") }

        var signature: String?
        if index < header.count {
            guard header[index] == UInt8(ascii: ";") else { throw Self.malformed("the chunk size is not hexadecimal") }
            for extensionField in header[(index + 1)...].split(separator: UInt8(ascii: ";")) {
                let parts = extensionField.split(
                    separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2, parts[0].elementsEqual("chunk-signature".utf8) {
                    signature = String(decoding: parts[1], as: UTF8.self)
                }
            }
        }
        if signer != nil {
            guard let signature, Hex.isLowercaseHex(signature, count: 64) else {
                throw SigV4Error(
                    .signatureDoesNotMatch, "A chunk of the aws-chunked body has no valid chunk-signature.")
            }
            chunkSignature = signature
        }

        if let declared = decodedContentLength, size > declared - decodedByteCount {
            throw SigV4Error(
                .incompleteBody, "The aws-chunked body is longer than x-amz-decoded-content-length.",
                details: [.init("ExpectedLength", String(declared))])
        }

        guard size > 0 else {
            try endFinalChunk()
            return
        }
        if let minimum = configuration.minimumChunkSize, let previous = lastDataChunkSize, previous < Int64(minimum) {
            throw SigV4Error(
                .invalidChunkSizeError, "Only the last chunk is allowed to have a size less than \(minimum) bytes",
                details: [.init("BadChunkSize", String(previous))])
        }
        lastDataChunkSize = size
        if signer != nil { chunkHasher = SHA256() }
        state = .chunkData(remaining: size)
    }

    /// Checks the signature of the data chunk that just ended.
    private mutating func endChunk() throws(SigV4Error) {
        guard let signer, let hasher = chunkHasher else { return }
        chunkHasher = nil
        try check(
            chunkSignature,
            expected: signer.chunkSignature(previousSignature: previousSignature, chunkSHA256: hasher.finalize()))
        previousSignature = chunkSignature
    }

    /// Checks the final, empty chunk and the decoded length, then moves on to the trailers.
    private mutating func endFinalChunk() throws(SigV4Error) {
        if let signer {
            try check(
                chunkSignature,
                expected: signer.chunkSignature(previousSignature: previousSignature, chunkSHA256: SHA256().finalize()))
            previousSignature = chunkSignature
        }
        if let declared = decodedContentLength, declared != decodedByteCount {
            throw SigV4Error(
                .incompleteBody,
                "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.",
                details: [.init("ExpectedLength", String(declared)), .init("ReceivedLength", String(decodedByteCount))])
        }
        state = .trailerSection
    }

    private mutating func handleTrailerLine(_ text: [UInt8]) throws(SigV4Error) {
        if text.isEmpty {
            // Tolerate one blank line between the final chunk and the trailers, which some clients send.
            if expectsTrailers, trailers.isEmpty, !trailerSignatureSeen, !skippedBlankLine {
                skippedBlankLine = true
                return
            }
            try complete()
            return
        }
        guard expectsTrailers else { throw Self.malformed("data follows the final chunk of the aws-chunked body") }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { throw Self.malformedTrailer() }
        let name = HeaderList.lowercase(
            String(decoding: text[..<colon], as: UTF8.self).trimmingOWS())
        let value = String(decoding: text[(colon + 1)...], as: UTF8.self).trimmingOWS()
        guard !name.isEmpty else { throw Self.malformedTrailer() }

        if name == "x-amz-trailer-signature" {
            guard let signer, trailerSigned, !trailerSignatureSeen else { throw Self.malformedTrailer() }
            try check(
                value, expected: signer.trailerSignature(previousSignature: previousSignature, trailers: trailers))
            trailerSignatureSeen = true
            return
        }
        guard !trailerSignatureSeen, trailers.count < configuration.maxTrailerCount,
            !trailers.contains(where: { $0.name == name }),
            declaredTrailers.isEmpty || declaredTrailers.contains(name)
        else { throw Self.malformedTrailer() }
        trailers.append((name, value))
    }

    /// Ends the body: every declared trailer must have arrived, and a signed trailer must be signed.
    private mutating func complete() throws(SigV4Error) {
        for name in declaredTrailers where !trailers.contains(where: { $0.name == name }) {
            throw SigV4Error(
                .malformedTrailerError, "The trailer \(name) declared in x-amz-trailer was not sent.")
        }
        if trailerSigned, !trailers.isEmpty, !trailerSignatureSeen {
            throw SigV4Error(.signatureDoesNotMatch, "The trailers of the aws-chunked body are not signed.")
        }
        state = .done
    }

    private func check(_ provided: String, expected: String) throws(SigV4Error) {
        guard Digests.constantTimeEquals(provided, expected) else {
            throw SigV4Error(
                .signatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. "
                    + "Check your key and signing method.",
                details: [.init("SignatureProvided", provided)])
        }
    }

    private static func malformed(_ reason: String) -> SigV4Error {
        SigV4Error(.invalidRequest, "Malformed aws-chunked body: \(reason).")
    }

    private static func malformedTrailer() -> SigV4Error {
        SigV4Error(
            .malformedTrailerError,
            "The request contained trailing data that was not well-formed or did not conform to our published schema.")
    }
}
