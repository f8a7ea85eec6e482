import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigV4
import Testing

@testable import Gateway

/// Bodies whose length or integrity cannot be established get S3's errors before anything is
/// stored or deleted (the object stored before is untouched: ``BadInputTests/withFixture``).
@Suite("Body length and digests, router level")
struct RequestIntegrityTests {
    // MARK: Unknown length

    @Test func uploadsOfUnknownLengthAreMissingContentLength() async throws {
        try await BadInputTests.withFixture(storesObjects: true) { f, client in
            // `Transfer-Encoding: chunked` and no Content-Length (the test client sends none
            // without a body): PutObject and UploadPart.
            let uploadId = try await f.gw.createUpload(client, "/vault/kept.txt")
            for target in ["/vault/kept.txt", "/vault/kept.txt?partNumber=1&uploadId=\(uploadId)"] {
                var headers = f.gw.signed("PUT", target)
                headers[.transferEncoding] = "chunked"
                try await client.execute(uri: target, method: .put, headers: headers) { r in
                    #expect(r.status.code == 411, "\(target): \(r.body.text)")
                    #expect(r.errorCode == "MissingContentLength", "\(target)")
                    #expect(r.body.text.contains("<Message>You must provide the Content-Length HTTP header.</Message>"))
                }
            }
            // An aws-chunked body without x-amz-decoded-content-length (its Content-Length
            // counts the framing as well).
            let (headers, signed) = f.gw.signedStreaming("PUT", "/vault/kept.txt", payload: .streamingSigned,
                                                         headers: [("content-encoding", "aws-chunked")])
            var encoder = try AWSChunkedEncoder(signed: signed, payload: .streamingSigned)
            let body = Array(encoder.encode(ByteBuffer(bytes: BadInputTests.evil)).readableBytesView)
                + Array(encoder.finish().readableBytesView)
            try await BadInputTests.expectError(client, "/vault/kept.txt", .put, headers: headers, body: body,
                                                code: "MissingContentLength", status: 411)
            // A copy has no body: no length needed.
            var copy = f.gw.signed("PUT", "/vault/copy.txt", headers: [("x-amz-copy-source", "/vault/kept.txt")])
            copy[HTTPField.Name("x-amz-copy-source")!] = "/vault/kept.txt"
            try await client.execute(uri: "/vault/copy.txt", method: .put, headers: copy) { r in
                #expect(r.status == .ok, "\(r.body.text)")
            }
            try await client.execute(uri: "/vault/copy.txt", method: .delete, headers: f.gw.signed("DELETE", "/vault/copy.txt")) { r in
                #expect(r.status == .noContent)
            }
            try await f.gw.abortUpload(client, "/vault/kept.txt", uploadId)
        }
    }

    // MARK: XML bodies

    @Test func xmlBodiesAreCheckedAgainstTheirSignedHashAndDigests() async throws {
        try await BadInputTests.withFixture { f, client in
            let tagging = Array("<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>".utf8)
            let other = Array("<Tagging><TagSet><Tag><Key>k</Key><Value>w</Value></Tag></TagSet></Tagging>".utf8)
            // Signed for one document, sent with another.
            try await BadInputTests.expectError(client, "/vault/kept.txt?tagging", .put,
                                                headers: f.gw.signed("PUT", "/vault/kept.txt?tagging=", body: tagging), body: other,
                                                code: "XAmzContentSHA256Mismatch", status: 400)
            // A Content-MD5 of another document.
            let md5 = Data(Insecure.MD5.hash(data: tagging)).base64EncodedString()
            let headers = f.gw.signed("PUT", "/vault/kept.txt?tagging=", body: other, headers: [("content-md5", md5)])
                .adding(HTTPField.Name("content-md5")!, md5)
            try await BadInputTests.expectError(client, "/vault/kept.txt?tagging", .put, headers: headers, body: other,
                                                code: "BadDigest", status: 400)
            try await client.execute(uri: "/vault/kept.txt?tagging", method: .get, headers: f.gw.signed("GET", "/vault/kept.txt?tagging=")) { r in
                #expect(r.status == .ok)
                #expect(!r.body.text.contains("<Key>k</Key>"), "\(r.body.text)")
            }
        }
    }
}
