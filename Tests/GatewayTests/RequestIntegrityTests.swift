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

    // MARK: DeleteObjects digests

    @Test func deleteObjectsNeedsAContentMD5OrChecksumThatMatches() async throws {
        try await BadInputTests.withFixture(storesObjects: true) { f, client in
            let body = Array("<Delete><Object><Key>kept.txt</Key></Object></Delete>".utf8)
            // Neither Content-MD5 nor a checksum: S3's InvalidRequest, nothing deleted.
            try await BadInputTests.expectError(client, "/vault?delete", .post, headers: f.gw.signed("POST", "/vault?delete=", body: body),
                                                body: body, code: "InvalidRequest", status: 400,
                                                message: "Missing required header for this request: Content-MD5")
            // A Content-MD5 or checksum of other bytes: BadDigest; malformed ones: InvalidDigest,
            // InvalidRequest.
            let otherMD5 = Data(Insecure.MD5.hash(data: BadInputTests.evil)).base64EncodedString()
            var crc = S3ChecksumAlgorithm.crc32.makeHasher()
            crc.update(BadInputTests.evil)
            let cases: [(String, String, String)] = [
                ("content-md5", otherMD5, "BadDigest"), ("content-md5", "not base64!", "InvalidDigest"),
                ("x-amz-checksum-crc32", crc.finalizeBase64(), "BadDigest"), ("x-amz-checksum-crc32", "AAA", "InvalidRequest"),
            ]
            for (name, value, code) in cases {
                let headers = f.gw.signed("POST", "/vault?delete=", body: body, headers: [(name, value)])
                    .adding(HTTPField.Name(name)!, value)
                try await BadInputTests.expectError(client, "/vault?delete", .post, headers: headers, body: body, code: code, status: 400)
            }
            try await client.execute(uri: "/vault/kept.txt", method: .head, headers: f.gw.signed("HEAD", "/vault/kept.txt")) { r in
                #expect(r.status == .ok)
            }
            // What the clients send: Content-MD5 (s3cmd, older botocore) or x-amz-checksum-crc32
            // (botocore 1.36 and later: boto3, the aws CLI). Each deletes.
            var matching = S3ChecksumAlgorithm.crc32.makeHasher()
            matching.update(body)
            let accepted: [(String, String)] = [
                ("content-md5", Data(Insecure.MD5.hash(data: body)).base64EncodedString()),
                ("x-amz-checksum-crc32", matching.finalizeBase64()),
            ]
            for (name, value) in accepted {
                let stored = Array("stored again".utf8)
                try await client.execute(uri: "/vault/kept.txt", method: .put, headers: f.gw.signed("PUT", "/vault/kept.txt", body: stored),
                                         body: ByteBuffer(bytes: stored)) { r in #expect(r.status == .ok) }
                let headers = f.gw.signed("POST", "/vault?delete=", body: body, headers: [(name, value)]).adding(HTTPField.Name(name)!, value)
                try await client.execute(uri: "/vault?delete", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .ok, "\(name): \(r.body.text)")
                    #expect(r.body.text.contains("<Deleted><Key>kept.txt</Key>"), "\(name): \(r.body.text)")
                }
                try await client.execute(uri: "/vault/kept.txt", method: .get, headers: f.gw.signed("GET", "/vault/kept.txt")) { r in
                    #expect(r.status == .notFound, "\(name)")
                }
            }
            // The fixture's check expects kept.txt as it was first stored.
            try await client.execute(uri: "/vault/kept.txt", method: .put,
                                     headers: f.gw.signed("PUT", "/vault/kept.txt", body: BadInputTests.original),
                                     body: ByteBuffer(bytes: BadInputTests.original)) { r in #expect(r.status == .ok) }
        }
    }

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
