import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import S3Protocol
import SigV4
import Testing

@testable import Gateway

/// Hostile and broken requests: each gets the S3 error AWS answers with, the object stored
/// before it is untouched (same bytes, same ETag, no file added or removed in any zone), and the
/// gateway goes on serving.
@Suite("Bad input, router level")
struct BadInputTests {
    static let original = Array("the original, stored contents".utf8)
    static let evil = Array("something else entirely".utf8)

    /// A gateway whose bucket `vault` holds `kept.txt`; `body` sends bad requests, then
    /// ``Fixture/expectIntact(_:filesUnchanged:)`` checks the stored object, the zone folders
    /// (unless `body` also `storesObjects`) and that a normal request still works.
    static func withFixture(storesObjects: Bool = false,
                            _ body: @Sendable (Fixture, any TestClientProtocol) async throws -> Void) async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/vault", method: .put, headers: gw.signed("PUT", "/vault")) { r in
                #expect(r.status == .ok)
            }
            var etag: String?
            try await client.execute(uri: "/vault/kept.txt", method: .put,
                                     headers: gw.signed("PUT", "/vault/kept.txt", body: original),
                                     body: ByteBuffer(bytes: original)) { r in
                #expect(r.status == .ok)
                etag = r.header("etag")
            }
            let fixture = Fixture(gw: gw, etag: try #require(etag), files: gw.allZoneFiles())
            try await body(fixture, client)
            try await fixture.expectIntact(client, filesUnchanged: !storesObjects)
        }
    }

    struct Fixture: Sendable {
        let gw: TestGateway
        let etag: String
        /// Every file of every zone folder once `kept.txt` was stored.
        let files: [String]

        /// `kept.txt` reads back as stored, no zone file appeared or vanished, and a fresh
        /// PUT/GET round trip succeeds.
        func expectIntact(_ client: any TestClientProtocol, filesUnchanged: Bool = true) async throws {
            try await client.execute(uri: "/vault/kept.txt", method: .get, headers: gw.signed("GET", "/vault/kept.txt")) { r in
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == BadInputTests.original)
                #expect(r.header("etag") == etag)
            }
            if filesUnchanged { #expect(gw.allZoneFiles() == files) }
            let fresh = Array("still serving".utf8)
            try await client.execute(uri: "/vault/after.txt", method: .put,
                                     headers: gw.signed("PUT", "/vault/after.txt", body: fresh), body: ByteBuffer(bytes: fresh)) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/vault/after.txt", method: .get, headers: gw.signed("GET", "/vault/after.txt")) { r in
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == fresh)
            }
        }
    }

    /// Sends `request` and checks the S3 error code and HTTP status.
    static func expectError(
        _ client: any TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method, headers: HTTPFields,
        body: [UInt8] = [], code: String, status: Int, message: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body)) { r in
            #expect(r.status.code == status, "\(r.body.text)", sourceLocation: sourceLocation)
            #expect(r.errorCode == code, "\(r.body.text)", sourceLocation: sourceLocation)
            #expect(r.header("x-amz-request-id") != nil, sourceLocation: sourceLocation)
            if let message {
                #expect(r.body.text.contains("<Message>\(message)"), "\(r.body.text)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: Signatures and time

    @Test func missingSignatureIsAccessDenied() async throws {
        try await Self.withFixture { f, client in
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: [:], body: Self.evil,
                                       code: "AccessDenied", status: 403)
            try await Self.expectError(client, "/vault/kept.txt", .delete, headers: [:], code: "AccessDenied", status: 403)
        }
    }

    @Test func wrongSignatureIsSignatureDoesNotMatch() async throws {
        try await Self.withFixture { f, client in
            let wrong = SigV4Credentials(accessKeyID: "test-key", secretAccessKey: "guessed")
            try await Self.expectError(client, "/vault/kept.txt", .put,
                                       headers: f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, credentials: wrong),
                                       body: Self.evil, code: "SignatureDoesNotMatch", status: 403)
            // A signed header changed after signing.
            var tampered = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("x-amz-meta-owner", "alice")])
            tampered[HTTPField.Name("x-amz-meta-owner")!] = "mallory"
            try await client.execute(uri: "/vault/kept.txt", method: .put, headers: tampered, body: ByteBuffer(bytes: Self.evil)) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "SignatureDoesNotMatch")
                // As AWS: what the server signed, so that a client can debug its signer.
                #expect(r.body.text.contains("<StringToSign>AWS4-HMAC-SHA256"))
            }
            // A signature for another path.
            let other = f.gw.signed("DELETE", "/vault/other.txt")
            try await Self.expectError(client, "/vault/kept.txt", .delete, headers: other,
                                       code: "SignatureDoesNotMatch", status: 403)
            // An x-amz-* header that was not signed.
            var unsigned = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil)
            unsigned[HTTPField.Name("x-amz-meta-extra")!] = "1"
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: unsigned, body: Self.evil,
                                       code: "AccessDenied", status: 403,
                                       message: "There were headers present in the request which were not signed")
            // A malformed Authorization header.
            var malformed = f.gw.signed("GET", "/vault/kept.txt")
            malformed[.authorization] = "AWS4-HMAC-SHA256 Credential=test-key, Signature=zz"
            try await Self.expectError(client, "/vault/kept.txt", .get, headers: malformed,
                                       code: "AuthorizationHeaderMalformed", status: 400)
        }
    }

    @Test func clockSkewIsRequestTimeTooSkewed() async throws {
        try await Self.withFixture { f, client in
            for offset: TimeInterval in [-16 * 60, 16 * 60, -86_400 * 365] {
                let headers = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, date: Date().addingTimeInterval(offset))
                try await Self.expectError(client, "/vault/kept.txt", .put, headers: headers, body: Self.evil,
                                           code: "RequestTimeTooSkewed", status: 403)
            }
        }
    }

    @Test func expiredPresignedURLIsAccessDenied() async throws {
        try await Self.withFixture { f, client in
            let past = Date().addingTimeInterval(-2 * 3600)
            let get = try f.gw.presigned("GET", "/vault/kept.txt", expires: 60, date: past)
            try await Self.expectError(client, get, .get, headers: [:], code: "AccessDenied", status: 403,
                                       message: "Request has expired")
            let put = try f.gw.presigned("PUT", "/vault/kept.txt", expires: 3600, date: past.addingTimeInterval(-1))
            try await Self.expectError(client, put, .put, headers: [:], body: Self.evil, code: "AccessDenied", status: 403,
                                       message: "Request has expired")
            // Signed for a time beyond the allowed skew: not valid yet.
            let future = try f.gw.presigned("PUT", "/vault/kept.txt", expires: 3600, date: Date().addingTimeInterval(3600))
            try await Self.expectError(client, future, .put, headers: [:], body: Self.evil, code: "AccessDenied", status: 403,
                                       message: "Request is not valid yet")
            // A fresh one works (the URLs above failed for their age only).
            try await client.execute(uri: try f.gw.presigned("GET", "/vault/kept.txt", expires: 60), method: .get) { r in
                #expect(r.status == .ok)
            }
        }
    }

    @Test func tamperedPresignedURLIsSignatureDoesNotMatch() async throws {
        try await Self.withFixture { f, client in
            let url = try f.gw.presigned("PUT", "/vault/other.txt", expires: 60)
            // Pointed at another key.
            try await Self.expectError(client, url.replacingOccurrences(of: "/vault/other.txt", with: "/vault/kept.txt"), .put,
                                       headers: [:], body: Self.evil, code: "SignatureDoesNotMatch", status: 403)
            // A longer life than signed.
            try await Self.expectError(client, url.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=604800"), .put,
                                       headers: [:], body: Self.evil, code: "SignatureDoesNotMatch", status: 403)
            // A flipped signature digit.
            let flipped = String(url.dropLast()) + (url.hasSuffix("0") ? "1" : "0")
            try await Self.expectError(client, flipped, .put, headers: [:], body: Self.evil,
                                       code: "SignatureDoesNotMatch", status: 403)
            // An expiry beyond a week.
            try await Self.expectError(client, url.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=604801"), .put,
                                       headers: [:], body: Self.evil, code: "AuthorizationQueryParametersError", status: 400)
        }
    }

    // MARK: Body length and digests

    @Test func wrongOrMalformedContentMD5() async throws {
        try await Self.withFixture { f, client in
            let md5OfOriginal = Data(Insecure.MD5.hash(data: Self.original)).base64EncodedString()
            let wrong = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("content-md5", md5OfOriginal)])
                .adding(HTTPField.Name("content-md5")!, md5OfOriginal)
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: wrong, body: Self.evil,
                                       code: "BadDigest", status: 400)
            for malformed in ["not base64!", "AAAA"] {
                let headers = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("content-md5", malformed)])
                    .adding(HTTPField.Name("content-md5")!, malformed)
                try await Self.expectError(client, "/vault/kept.txt", .put, headers: headers, body: Self.evil,
                                           code: "InvalidDigest", status: 400)
            }
        }
    }

    @Test func wrongOrMalformedChecksums() async throws {
        try await Self.withFixture { f, client in
            let cases: [(String, String, String)] = [
                ("x-amz-checksum-crc32", "AAAAAA==", "BadDigest"),
                ("x-amz-checksum-crc32c", "AAAAAA==", "BadDigest"),
                ("x-amz-checksum-sha256", Data(repeating: 0, count: 32).base64EncodedString(), "BadDigest"),
                ("x-amz-checksum-crc32", "not-a-checksum", "InvalidRequest"),
                ("x-amz-checksum-sha1", "AAAAAA==", "InvalidRequest"),
            ]
            for (name, value, code) in cases {
                var headers = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [(name, value)])
                headers[HTTPField.Name(name)!] = value
                try await Self.expectError(client, "/vault/kept.txt", .put, headers: headers, body: Self.evil,
                                           code: code, status: 400)
            }
        }
    }

    @Test func payloadNotMatchingItsSignedHashIsXAmzContentSHA256Mismatch() async throws {
        try await Self.withFixture { f, client in
            // Signed for the original bytes, sent with others.
            let headers = f.gw.signed("PUT", "/vault/kept.txt", body: Self.original)
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: headers, body: Self.evil,
                                       code: "XAmzContentSHA256Mismatch", status: 400)
            var garbage = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("x-amz-content-sha256", "xyz")])
            garbage[HTTPField.Name("x-amz-content-sha256")!] = "xyz"
            // Neither a hash nor a payload mode.
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: garbage, body: Self.evil,
                                       code: "InvalidArgument", status: 400)
        }
    }

    // MARK: aws-chunked framing

    @Test func malformedAWSChunkedBodies() async throws {
        try await Self.withFixture { f, client in
            let data = ByteBuffer(bytes: Self.evil)
            func send(_ payload: SigV4PayloadMode, decodedLength: Int = Self.evil.count, trailer: String? = nil,
                      code: String, status: Int, _ frame: (SigV4SignedRequest, inout AWSChunkedEncoder) -> [UInt8]) async throws {
                var extra = [("content-encoding", "aws-chunked"), ("x-amz-decoded-content-length", String(decodedLength))]
                if let trailer { extra.append(("x-amz-trailer", trailer)) }
                let (headers, signed) = f.gw.signedStreaming("PUT", "/vault/kept.txt", payload: payload, headers: extra)
                var encoder = try AWSChunkedEncoder(signed: signed, payload: payload)
                let body = frame(signed, &encoder)
                try await Self.expectError(client, "/vault/kept.txt", .put, headers: headers, body: body, code: code, status: status)
            }
            // A valid body frames the same way, for reference.
            func valid(_ encoder: inout AWSChunkedEncoder) -> [UInt8] {
                Array(encoder.encode(data).readableBytesView) + Array(encoder.finish().readableBytesView)
            }
            // A chunk signature that is not the chained one.
            try await send(.streamingSigned, code: "SignatureDoesNotMatch", status: 403) { _, encoder in
                var bytes = valid(&encoder)
                let marker = Array("chunk-signature=".utf8)
                let at = bytes.firstRange(of: marker)!.upperBound
                bytes[at] = bytes[at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
                return bytes
            }
            // A chunk size that is not hexadecimal.
            try await send(.streamingSigned, code: "InvalidRequest", status: 400) { _, encoder in
                var bytes = valid(&encoder)
                bytes[0] = UInt8(ascii: "z")
                return bytes
            }
            // The final chunk never comes.
            try await send(.streamingSigned, code: "IncompleteBody", status: 400) { _, encoder in
                Array(encoder.encode(data).readableBytesView)
            }
            // More data than x-amz-decoded-content-length.
            try await send(.streamingSigned, decodedLength: 3, code: "IncompleteBody", status: 400) { _, encoder in valid(&encoder) }
            // Less data than x-amz-decoded-content-length.
            try await send(.streamingSigned, decodedLength: 1000, code: "IncompleteBody", status: 400) { _, encoder in valid(&encoder) }
            // Chunk data not followed by CRLF.
            try await send(.streamingUnsignedWithTrailer, code: "InvalidRequest", status: 400) { _, _ in
                Array("\(String(Self.evil.count, radix: 16))\r\n".utf8) + Self.evil + Array("XX0\r\n\r\n".utf8)
            }
            // A trailer that is not `name:value`.
            try await send(.streamingUnsignedWithTrailer, trailer: "x-amz-checksum-crc32", code: "MalformedTrailerError", status: 400) { _, _ in
                Array("\(String(Self.evil.count, radix: 16))\r\n".utf8) + Self.evil + Array("\r\n0\r\nno colon here\r\n\r\n".utf8)
            }
            // The declared trailer never arrives.
            try await send(.streamingUnsignedWithTrailer, trailer: "x-amz-checksum-crc32", code: "MalformedTrailerError", status: 400) { _, _ in
                Array("\(String(Self.evil.count, radix: 16))\r\n".utf8) + Self.evil + Array("\r\n0\r\n\r\n".utf8)
            }
            // A trailer checksum that does not match the data.
            try await send(.streamingUnsignedWithTrailer, trailer: "x-amz-checksum-crc32", code: "BadDigest", status: 400) { _, _ in
                Array("\(String(Self.evil.count, radix: 16))\r\n".utf8) + Self.evil
                    + Array("\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n".utf8)
            }
            // Garbage after the end of the body.
            try await send(.streamingSigned, code: "InvalidRequest", status: 400) { _, encoder in
                valid(&encoder) + Array("extra".utf8)
            }
        }
    }

    // MARK: XML bodies

    @Test func malformedCompleteMultipartUploadIsMalformedXML() async throws {
        try await Self.withFixture { f, client in
            let uploadId = try await f.gw.createUpload(client, "/vault/kept.txt")
            let target = "/vault/kept.txt?uploadId=\(uploadId)"
            let bodies = [
                "not xml at all",
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
                "<CompleteMultipartUpload></CompleteMultipartUpload>",
                "<Wrong><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Wrong>",
                "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
                "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
                "<!DOCTYPE x [<!ENTITY e \"e\">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>",
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload><trailing/>",
                "",
            ]
            for text in bodies {
                let body = Array(text.utf8)
                try await Self.expectError(client, target, .post, headers: f.gw.signed("POST", target, body: body), body: body,
                                           code: "MalformedXML", status: 400)
            }
            try await f.gw.abortUpload(client, "/vault/kept.txt", uploadId)
        }
    }

    @Test func malformedDeleteObjectsIsMalformedXML() async throws {
        try await Self.withFixture { f, client in
            let many = "<Delete>" + String(repeating: "<Object><Key>kept.txt</Key></Object>", count: 1001) + "</Delete>"
            let bodies = [
                "<Delete><Object><Key>kept.txt</Key></Object>",
                "<Delete><Object><Key>kept.txt</Key></Object></Delete>garbage",
                "<Delete><Quiet>maybe</Quiet><Object><Key>kept.txt</Key></Object></Delete>",
                "<Delete><Object><VersionId>x</VersionId></Object></Delete>",
                "<Delete></Delete>",
                "<Delete><Object><Key>kept.txt</Key><Key>other</Key></Object></Delete>",
                "<Delete><Object><Key>kept.txt</Key></Object></Delete" + String(repeating: " ", count: 10),
                "<Delete>\u{0}<Object><Key>kept.txt</Key></Object></Delete>",
                many,
            ]
            for text in bodies {
                let body = Array(text.utf8)
                try await Self.expectError(client, "/vault?delete", .post, headers: f.gw.signedWithContentMD5("POST", "/vault?delete=", body: body),
                                           body: body, code: "MalformedXML", status: 400)
            }
        }
    }

    @Test func malformedTaggingAndVersioningBodies() async throws {
        try await Self.withFixture { f, client in
            for text in ["<Tagging><TagSet><Tag><Key>a</Key></Tag>", "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"] {
                let body = Array(text.utf8)
                try await Self.expectError(client, "/vault/kept.txt?tagging", .put,
                                           headers: f.gw.signed("PUT", "/vault/kept.txt?tagging=", body: body), body: body,
                                           code: "MalformedXML", status: 400)
            }
            let body = Array("<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>".utf8)
            try await Self.expectError(client, "/vault?versioning", .put, headers: f.gw.signed("PUT", "/vault?versioning=", body: body),
                                       body: body, code: "MalformedXML", status: 400)
        }
    }

    // MARK: Ranges

    @Test func invalidRangesAreIgnoredAndUnsatisfiableOnesAre416() async throws {
        try await Self.withFixture { f, client in
            for range in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=-"] {
                let headers = f.gw.signed("GET", "/vault/kept.txt", headers: [("range", range)]).adding(.range, range)
                try await client.execute(uri: "/vault/kept.txt", method: .get, headers: headers) { r in
                    #expect(r.status == .ok, "\(range)")
                    #expect(Array(r.body.readableBytesView) == Self.original, "\(range)")
                }
            }
            for range in ["bytes=1000-2000", "bytes=\(Self.original.count)-", "bytes=-0", "bytes=99999999999999999999-"] {
                let headers = f.gw.signed("GET", "/vault/kept.txt", headers: [("range", range)]).adding(.range, range)
                try await client.execute(uri: "/vault/kept.txt", method: .get, headers: headers) { r in
                    #expect(r.status.code == 416, "\(range)")
                    #expect(r.errorCode == "InvalidRange", "\(range)")
                }
            }
        }
    }

    // MARK: Keys

    @Test func keysOverTheLimitAreKeyTooLongError() async throws {
        try await Self.withFixture(storesObjects: true) { f, client in
            let key = String(repeating: "k", count: 1025)
            try await Self.expectError(client, "/vault/" + key, .put, headers: f.gw.signed("PUT", "/vault/" + key, body: Self.evil),
                                       body: Self.evil, code: "KeyTooLongError", status: 400)
            try await Self.expectError(client, "/vault/" + key, .get, headers: f.gw.signed("GET", "/vault/" + key),
                                       code: "KeyTooLongError", status: 400)
            // 1024 bytes of two-byte characters (512 of them) is the limit, 1026 is over it.
            let wide = String(repeating: "%C3%A4", count: 513)
            try await Self.expectError(client, "/vault/" + wide, .put, headers: f.gw.signed("PUT", "/vault/" + wide, body: Self.evil),
                                       body: Self.evil, code: "KeyTooLongError", status: 400)
            // Keys of exactly 1024 bytes are valid, also as one path segment longer than a file
            // name (they used to fail the local-disk write and mark every zone down: 503s for all).
            for exact in [String(repeating: "k", count: 1024), String(repeating: "%C3%A4", count: 512),
                          "dir/" + String(repeating: "%E2%82%AC", count: 340)] {
                let uri = "/vault/" + exact
                try await client.execute(uri: uri, method: .put, headers: f.gw.signed("PUT", uri, body: Self.evil),
                                         body: ByteBuffer(bytes: Self.evil)) { r in #expect(r.status == .ok, "\(r.body.text)") }
                try await client.execute(uri: uri, method: .get, headers: f.gw.signed("GET", uri)) { r in
                    #expect(r.status == .ok)
                    #expect(Array(r.body.readableBytesView) == Self.evil)
                }
            }
        }
    }

    /// S3 answers a key that is not UTF-8 (or not percent-decodable) with InvalidURI; NUL is
    /// this gateway's own rule (XML 1.0 cannot carry it in a listing): InvalidArgument.
    @Test func keysWithNULAreInvalidArgumentAndInvalidUTF8IsInvalidURI() async throws {
        try await Self.withFixture { f, client in
            for key in ["a%00b", "%00", "a%FFb", "%C3", "%ED%A0%80", "bad%zzescape"] {
                let uri = "/vault/" + key
                try await client.execute(uri: uri, method: .put, headers: f.gw.signed("PUT", uri, body: Self.evil),
                                         body: ByteBuffer(bytes: Self.evil)) { r in
                    #expect(r.status == .badRequest, "\(key): \(r.body.text)")
                    #expect(r.errorCode == (key.contains("%00") ? "InvalidArgument" : "InvalidURI"), "\(key)")
                }
            }
            let body = Array("<Delete><Object><Key>a\u{1}b</Key></Object></Delete>".utf8)
            try await Self.expectError(client, "/vault?delete", .post, headers: f.gw.signedWithContentMD5("POST", "/vault?delete=", body: body),
                                       body: body, code: "MalformedXML", status: 400)
        }
    }

    /// `..` is an ordinary character sequence in an S3 key: such keys are stored under their own
    /// name, never resolve to another key, and never leave the zone's folder.
    @Test func keysWithDotDotStayOrdinaryKeys() async throws {
        try await Self.withFixture(storesObjects: true) { f, client in
            let keys = ["a/../kept.txt", "../kept.txt", "..", "../../../../../escaped", "%2E%2E/%2E%2E/escaped2", "./kept.txt"]
            for (i, key) in keys.enumerated() {
                let uri = "/vault/" + key
                let body = Array("dot-dot \(i)".utf8)
                try await client.execute(uri: uri, method: .put, headers: f.gw.signed("PUT", uri, body: body),
                                         body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .ok, "\(key): \(r.body.text)")
                }
                try await client.execute(uri: uri, method: .get, headers: f.gw.signed("GET", uri)) { r in
                    #expect(r.status == .ok, "\(key)")
                    #expect(Array(r.body.readableBytesView) == body, "\(key)")
                }
            }
            let listed = "/vault?list-type=2"
            try await client.execute(uri: listed, method: .get, headers: f.gw.signed("GET", listed)) { r in
                #expect(r.body.text.contains("<Key>../../../../../escaped</Key>"))
                #expect(r.body.text.contains("<Key>a/../kept.txt</Key>"))
            }
            // Nothing was written outside the zone folders.
            let outside = try FileManager.default.contentsOfDirectory(atPath: f.gw.directory).sorted()
            #expect(outside == ["backends.json", "data", "zones"])
            for zone in TestGateway.zones {
                let entries = try FileManager.default.contentsOfDirectory(atPath: f.gw.directory + "/zones/" + zone)
                #expect(entries.allSatisfy { $0 == "2025-datatransfer" }, "\(zone): \(entries)")
            }
        }
    }

    /// The local-disk file of any valid key has components a file system accepts, stays in the
    /// zone's bucket folder, and is not the file of another key.
    @Test func localDiskPathsOfHostileKeys() {
        let backend = LocalDiskBackend(zone: "Z", root: "/zones/Z", bucket: "b")
        let long = String(repeating: "\u{20AC}", count: 341)  // 1023 bytes, 3069 once encoded
        let keys = [long, "a/" + long, String(repeating: "k", count: 1024), "../../x", "a/./b", "a//b", "%2E%2E",
                    String(repeating: "k", count: 253) + "%+/" + "k", String(repeating: "k", count: 256)]
        var seen: [String: String] = [:]
        for key in keys {
            let path = backend.path(for: key)
            #expect(path.hasPrefix("/zones/Z/b/"))
            let components = path.dropFirst("/zones/Z/b/".count).split(separator: "/", omittingEmptySubsequences: false)
            #expect(components.allSatisfy { !$0.isEmpty && $0.utf8.count <= 255 && $0 != "." && $0 != ".." }, "\(key)")
            #expect(seen[path] == nil, "\(key) and \(seen[path] ?? "") share \(path)")
            seen[path] = key
        }
    }

    // MARK: Headers

    @Test func oversizedMetadataAndTaggingHeaders() async throws {
        try await Self.withFixture { f, client in
            let big = String(repeating: "m", count: 3000)
            let meta = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("x-amz-meta-big", big)])
                .adding(HTTPField.Name("x-amz-meta-big")!, big)
            try await Self.expectError(client, "/vault/kept.txt", .put, headers: meta, body: Self.evil,
                                       code: "MetadataTooLarge", status: 400)
            let tags = (0..<11).map { "k\($0)=v" }.joined(separator: "&")
            let tagging = f.gw.signed("PUT", "/vault/kept.txt", body: Self.evil, headers: [("x-amz-tagging", tags)])
                .adding(HTTPField.Name("x-amz-tagging")!, tags)
            try await client.execute(uri: "/vault/kept.txt", method: .put, headers: tagging, body: ByteBuffer(bytes: Self.evil)) { r in
                #expect(r.status == .badRequest)
                // S3's code for more than 10 object tags.
                #expect(r.errorCode == "BadRequest", "\(r.body.text)")
                #expect(r.body.text.contains("<Message>Object tags cannot be greater than 10</Message>"), "\(r.body.text)")
            }
            // A header the gateway does not know is ignored; the request is served. (The HTTP
            // server refuses a header section over 8 KiB before it gets here, with S3's
            // RequestHeaderSectionTooLarge: the raw-socket tests in Tests/live/test_bad_input.py.)
            let huge = String(repeating: "h", count: 60_000)
            try await client.execute(uri: "/vault/kept.txt", method: .get,
                                     headers: f.gw.signed("GET", "/vault/kept.txt").adding(HTTPField.Name("x-padding-unsigned")!, huge)) { r in
                #expect(r.status == .ok)
            }
        }
    }

    // MARK: Multipart

    @Test func partNumbersAndPartListsOutOfBounds() async throws {
        try await Self.withFixture { f, client in
            let uploadId = try await f.gw.createUpload(client, "/vault/kept.txt")
            for number in ["0", "10001", "-1", "x", "99999999999999999999"] {
                let target = "/vault/kept.txt?partNumber=\(number)&uploadId=\(uploadId)"
                try await Self.expectError(client, target, .put, headers: f.gw.signed("PUT", target, body: Self.evil), body: Self.evil,
                                           code: "InvalidArgument", status: 400)
            }
            let part = "/vault/kept.txt?partNumber=1&uploadId=\(uploadId)"
            var etag = ""
            try await client.execute(uri: part, method: .put, headers: f.gw.signed("PUT", part, body: Self.evil),
                                     body: ByteBuffer(bytes: Self.evil)) { r in
                #expect(r.status == .ok)
                etag = r.header("etag") ?? ""
            }
            let complete = "/vault/kept.txt?uploadId=\(uploadId)"
            func parts(_ list: [(Int, String)]) -> [UInt8] {
                Array(("<CompleteMultipartUpload>" + list.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\($0.1)</ETag></Part>" }.joined()
                    + "</CompleteMultipartUpload>").utf8)
            }
            let cases: [([UInt8], String)] = [
                // Ten thousand parts that were never uploaded.
                (parts((1...10_000).map { ($0, "\"00000000000000000000000000000000\"") }), "InvalidPart"),
                // One more than S3 allows.
                (parts((1...10_001).map { ($0, etag) }), "InvalidArgument"),
                (parts([(2, etag), (1, etag)]), "InvalidPartOrder"),
                (parts([(1, etag), (1, etag)]), "InvalidPartOrder"),
                (parts([(1, "\"ffffffffffffffffffffffffffffffff\"")]), "InvalidPart"),
            ]
            for (body, code) in cases {
                try await Self.expectError(client, complete, .post, headers: f.gw.signed("POST", complete, body: body), body: body,
                                           code: code, status: 400)
            }
            // The upload survives the refused completions.
            try await f.gw.abortUpload(client, "/vault/kept.txt", uploadId)
        }
    }

    /// Eleven hundred parts (more than one page of ListParts), all but the last under 5 MiB:
    /// listing pages through them, completing them is EntityTooSmall and stores nothing.
    @Test func thousandsOfSmallPartsAreEntityTooSmall() async throws {
        try await Self.withFixture { f, client in
            let uploadId = try await f.gw.createUpload(client, "/vault/kept.txt")
            var etags: [String] = []
            for number in 1...1100 {
                let target = "/vault/kept.txt?partNumber=\(number)&uploadId=\(uploadId)"
                let body = Array("part \(number)".utf8)
                try await client.execute(uri: target, method: .put, headers: f.gw.signed("PUT", target, body: body),
                                         body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .ok)
                    etags.append(r.header("etag") ?? "")
                }
            }
            let list = "/vault/kept.txt?uploadId=\(uploadId)"
            try await client.execute(uri: list, method: .get, headers: f.gw.signed("GET", list)) { r in
                #expect(r.body.text.components(separatedBy: "<Part>").count - 1 == 1000)
                #expect(r.body.text.contains("<IsTruncated>true</IsTruncated>"))
                #expect(r.body.text.contains("<NextPartNumberMarker>1000</NextPartNumberMarker>"))
            }
            let body = Array(("<CompleteMultipartUpload>" + etags.enumerated().map {
                "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>"
            }.joined() + "</CompleteMultipartUpload>").utf8)
            try await Self.expectError(client, list, .post, headers: f.gw.signed("POST", list, body: body), body: body,
                                       code: "EntityTooSmall", status: 400)
            try await f.gw.abortUpload(client, "/vault/kept.txt", uploadId)
        }
    }

    /// Every authentication failure code is an S3 error code with the same status, so none is
    /// answered as another (a MalformedTrailerError used to come back as 403 AccessDenied).
    @Test func everySigV4ErrorCodeMapsToItsS3Code() {
        for code in SigV4Error.Code.allCases {
            let s3 = S3Error(SigV4Error(code, "m", details: [.init("Name", "value")]))
            #expect(s3.code.rawValue == code.rawValue)
            #expect(s3.httpStatus == code.httpStatus, "\(code)")
            #expect(s3[detail: "Name"] == "value")
        }
    }
}

extension TestGateway {
    /// Headers of a request signed for an aws-chunked body, and the signing result for its encoder.
    func signedStreaming(_ method: String, _ target: String, payload: SigV4PayloadMode,
                         headers: [(String, String)]) -> (HTTPFields, SigV4SignedRequest) {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4SigningRequest(method: method, host: "localhost", encodedPath: target, encodedQuery: "",
                                          headers: headers.map { (name: $0.0, value: $0.1) })
        let result = signer.sign(request, payload: payload)
        var fields = HTTPFields()
        for (name, value) in result.headers where name.lowercased() != "host" {
            fields.append(HTTPField(name: HTTPField.Name(name)!, value: value))
        }
        return (fields, result)
    }

    /// A presigned request target (path and query) for `localhost`.
    func presigned(_ method: String, _ path: String, expires: Int, date: Date = Date()) throws -> String {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4SigningRequest(method: method, host: "localhost", encodedPath: path, encodedQuery: "", headers: [])
        return try signer.presign(request, expires: expires, date: date).target
    }

    /// Every file below the zone folders, relative to `zones/`.
    func allZoneFiles() -> [String] {
        TestGateway.zones.flatMap { zone in files(in: zone).map { zone + "/" + $0 } }
    }

    /// ``signed(_:_:body:headers:credentials:date:host:)`` with the body's Content-MD5, which
    /// DeleteObjects requires.
    func signedWithContentMD5(_ method: String, _ target: String, body: [UInt8]) -> HTTPFields {
        let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
        return signed(method, target, body: body, headers: [("content-md5", md5)]).adding(HTTPField.Name("content-md5")!, md5)
    }

    func createUpload(_ client: any TestClientProtocol, _ path: String) async throws -> String {
        var uploadId: String?
        try await client.execute(uri: path + "?uploads", method: .post, headers: signed("POST", path + "?uploads=")) { r in
            #expect(r.status == .ok)
            let text = r.body.text
            if let start = text.range(of: "<UploadId>"), let end = text.range(of: "</UploadId>") {
                uploadId = String(text[start.upperBound..<end.lowerBound])
            }
        }
        return try #require(uploadId)
    }

    func abortUpload(_ client: any TestClientProtocol, _ path: String, _ uploadId: String) async throws {
        let target = path + "?uploadId=" + uploadId
        try await client.execute(uri: target, method: .delete, headers: signed("DELETE", target)) { r in
            #expect(r.status == .noContent)
        }
    }
}
