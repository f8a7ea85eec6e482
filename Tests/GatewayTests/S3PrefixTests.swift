import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigV4
import Testing

@testable import Gateway

/// The S3 API under `/s3/` on the management port (the original service's "S3-compatible API,
/// all with /s3/ prefix"). A client pointed at `http://HOST:8000/s3` (aws CLI
/// `--endpoint-url http://HOST:8000/s3`, path-style) sends and signs the whole path, `/s3`
/// included: `/s3/BUCKET/KEY`.
@Suite("S3 API under /s3/ on the management port, router level")
struct S3PrefixTests {
    @Test func signedRequestsRoundTripUnderTheS3Prefix() async throws {
        let gw = try await TestGateway.make { $0.adminToken = "admin-only" }
        defer { gw.cleanUp() }
        let body = Array("hello through the management port".utf8)
        try await gw.withManagementClient { client in
            // The admin token guards the JSON endpoints, not the S3 API, which is signed.
            #expect(try await gw.send(client, .put, "/s3/docs").status == .ok)
            let put = try await gw.send(client, .put, "/s3/docs/notes/a%20b.txt", body: body,
                                        headers: [("content-type", "text/plain")])
            #expect(put.status == .ok, "\(put.body)")
            let etag = try #require(put.header("etag"))
            #expect(etag == "\"\(md5Hex(body))\"")

            let get = try await gw.send(client, .get, "/s3/docs/notes/a%20b.txt")
            #expect(get.status == .ok)
            #expect(get.bytes == body)
            #expect(get.header("content-type") == "text/plain")
            #expect(get.header("etag") == etag)

            let head = try await gw.send(client, .head, "/s3/docs/notes/a%20b.txt")
            #expect(head.status == .ok)
            #expect(head.header("content-length") == String(body.count))
            #expect(head.bytes.isEmpty)

            let listV2 = try await gw.send(client, .get, "/s3/docs?list-type=2&prefix=notes%2F")
            #expect(listV2.status == .ok)
            #expect(listV2.xmlValue("Name") == "docs")
            #expect(listV2.xmlValues("Key") == ["notes/a b.txt"])
            let listV1 = try await gw.send(client, .get, "/s3/docs")
            #expect(listV1.status == .ok)
            #expect(listV1.xmlValues("Key") == ["notes/a b.txt"])
            // ListBuckets: botocore sends `/s3/` for an endpoint URL ending in /s3; `/s3` works too.
            for target in ["/s3/", "/s3"] {
                let buckets = try await gw.send(client, .get, target)
                #expect(buckets.status == .ok, "\(target)")
                #expect(buckets.xmlValues("Name") == ["docs"], "\(target)")
            }

            let delete = try await gw.send(client, .delete, "/s3/docs/notes/a%20b.txt")
            #expect(delete.status == .noContent)
            let gone = try await gw.send(client, .get, "/s3/docs/notes/a%20b.txt")
            #expect(gone.status == .notFound)
            #expect(gone.errorCode == "NoSuchKey")
            #expect(try await gw.send(client, .get, "/s3/docs?list-type=2").xmlValues("Key").isEmpty)
        }
        // The same object store as the S3 port: one bucket, seen from both.
        try await gw.withClient { client in
            let buckets = try await gw.send(client, .get, "/")
            #expect(buckets.xmlValues("Name") == ["docs"])
        }
    }

    /// The original service's `curl -X PUT http://HOST:8000/s3/test/hello.txt -d "Hello World"`
    /// is refused: every S3 request is signed, under /s3/ as on the S3 port.
    @Test func unsignedRequestsAreRefusedWithAnS3Error() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            #expect(try await gw.send(client, .put, "/s3/test").status == .ok)
            let (status, body, requestId) = try await client.execute(
                uri: "/s3/test/hello.txt", method: .put, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "Hello World")
            ) { r in (r.status, r.body.text, r.header("x-amz-request-id")) }
            #expect(status == .forbidden)
            #expect(body.contains("<Code>AccessDenied</Code>"), "\(body)")
            #expect(body.contains("<Resource>/s3/test/hello.txt</Resource>"), "\(body)")
            #expect(requestId != nil)
            let get = try await client.execute(uri: "/s3/test/hello.txt", method: .get) { r in (r.status, r.errorCode) }
            #expect(get.0 == .forbidden)
            #expect(get.1 == "AccessDenied")
            let list = try await client.execute(uri: "/s3", method: .get) { r in (r.status, r.errorCode) }
            #expect(list.0 == .forbidden)
            #expect(list.1 == "AccessDenied")
            // Nothing was stored.
            let missing = try await gw.send(client, .head, "/s3/test/hello.txt")
            #expect(missing.status == .notFound)
        }
        #expect(TestGateway.zones.allSatisfy { gw.files(in: $0).isEmpty })
    }

    /// The signature covers the path as sent: one computed without the /s3 prefix (a client
    /// whose endpoint URL lost it, or a proxy that strips it) does not verify.
    @Test func aSignatureOverThePathWithoutThePrefixIsRefused() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            #expect(try await gw.send(client, .put, "/s3/docs").status == .ok)
            let body = Array("x".utf8)
            let (status, code) = try await client.execute(
                uri: "/s3/docs/a.txt", method: .put, headers: gw.signed("PUT", "/docs/a.txt", body: body),
                body: ByteBuffer(bytes: body)
            ) { r in (r.status, r.errorCode) }
            #expect(status == .forbidden)
            #expect(code == "SignatureDoesNotMatch")
            let wrong = SigV4Credentials(accessKeyID: "test-key", secretAccessKey: "not-the-secret")
            let badKey = try await client.execute(uri: "/s3/docs", method: .get,
                                                  headers: gw.signed("GET", "/s3/docs", credentials: wrong)) { r in r.errorCode }
            #expect(badKey == "SignatureDoesNotMatch")
        }
    }
}
