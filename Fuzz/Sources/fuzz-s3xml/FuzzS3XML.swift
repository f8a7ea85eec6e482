import Foundation
import NIOCore
import S3Protocol

/// Input layout: byte 0 picks the decoder, the rest is its input (an XML body or a header value).
/// Decoders must never trap; the bodies the gateway also writes (tagging, versioning, object
/// lock, legal hold) must survive a round trip: what decodes, re-encodes to XML that decodes to
/// the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3XML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let selector = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    let text = String(decoding: input, as: UTF8.self)
    switch selector % 14 {
    case 0: _ = try? S3XMLParser().parse(input)
    case 1: _ = try? CompleteMultipartUploadRequest.decode(input)
    case 2: _ = try? DeleteObjectsRequest.decode(input)
    case 3: roundTrip(Tagging.self, input)
    case 4: roundTrip(VersioningConfiguration.self, input)
    case 5: roundTrip(ObjectLockConfiguration.self, input)
    case 6: roundTrip(ObjectLegalHold.self, input)
    case 7: _ = try? ObjectRetention.decode(input)
    case 8: _ = try? CreateBucketConfiguration.decodeOptional(input)
    case 9: _ = try? Tagging(headerValue: text)
    case 10: ranges(text)
    case 11: _ = try? CopySource(headerValue: text)
    case 12: _ = try? QueryParameters(parsing: text)
    default:
        _ = S3URLEncoding.decodeBytes(text)
        _ = ISO8601Timestamp.parse(text)
        _ = HTTPDate.parse(text)
        _ = try? ContentMD5.parse(text)
        _ = ObjectKeyValidator.validate(bytes: input)
    }
    return 0
}

func roundTrip<T: S3XMLDecodable & S3XMLEncodable & Equatable>(_ type: T.Type, _ input: [UInt8]) {
    guard let value = try? T.decode(input) else { return }
    let encoded = value.xmlBytes()
    let again: T
    do {
        again = try T.decode(encoded)
    } catch {
        fatalError("\(T.self) decoded, but its own XML does not: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
    }
    guard again == value else {
        fatalError("\(T.self) changed in a round trip: \(value) became \(again)")
    }
}

/// A Range header against a few object sizes: a resolved range must lie inside the object.
func ranges(_ text: String) {
    if let range = ByteRange(rangeHeader: text) {
        for size: Int64 in [0, 1, 10, 1 << 40] {
            guard let resolved = try? range.resolve(objectSize: size) else { continue }
            guard resolved.first >= 0, resolved.first <= resolved.last, resolved.last < size,
                  resolved.length == resolved.last - resolved.first + 1 else {
                fatalError("\(text) resolved to \(resolved) for an object of \(size) bytes")
            }
        }
    }
    if let range = try? CopySourceRange(headerValue: text), let resolved = try? range.resolve(sourceSize: 100) {
        guard resolved.first >= 0, resolved.last < 100, resolved.first <= resolved.last else {
            fatalError("\(text) resolved to \(resolved) for a source of 100 bytes")
        }
    }
}

/// SwiftPM links a debug executable with `main` aliased to `fuzz_s3xml_main`, the function that
/// would hold a script's top-level code; built with `-parse-as-library` this target has none, so
/// this is that function, and it runs libFuzzer's driver. (Where no alias is made, libFuzzer's own
/// `main` is linked instead and this is unused.)
@_cdecl("fuzz_s3xml_main")
public func fuzzerEntryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzzS3XML(data, size)
    }
}

/// libFuzzer's entry for programs that have their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
