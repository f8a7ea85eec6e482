import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigV4
import Testing

@testable import Gateway

/// Passes requests on with the authority (Host) a test names in `x-test-host`, since the
/// router test client always sends `localhost`.
private struct HostOverride: HTTPResponder {
    typealias Context = BasicRequestContext
    let inner: S3Responder

    func respond(to request: Request, context: Context) async throws -> Response {
        var head = request.head
        if let host = request.headers[HTTPField.Name("x-test-host")!] {
            head.authority = host
            head.headerFields[HTTPField.Name("x-test-host")!] = nil
        }
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }
}

@Suite("Virtual-hosted addressing and stored checksums")
struct AddressingAndChecksumTests {
    static let domain = "s3.sovereign.test"

    /// Headers for a virtual-hosted request: signed for `host`, which the override puts in place.
    func virtualHosted(_ gw: TestGateway, _ method: String, bucket: String, path: String, body: [UInt8] = []) -> HTTPFields {
        let host = "\(bucket).\(Self.domain)"
        var fields = gw.signed(method, path, body: body, host: host)
        fields[HTTPField.Name("x-test-host")!] = host
        return fields
    }

    @Test func virtualHostedRequestsAddressTheBucketByHost() async throws {
        let gw = try await TestGateway.make { $0.domain = Self.domain }
        defer { gw.cleanUp() }
        let app = Application(responder: HostOverride(inner: S3Responder(state: gw.state, prefix: "")))
        let body = Array("hosted by name".utf8)
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .put, headers: virtualHosted(gw, "PUT", bucket: "vh-bucket", path: "/")) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/docs/a%20b.txt", method: .put,
                                     headers: virtualHosted(gw, "PUT", bucket: "vh-bucket", path: "/docs/a%20b.txt", body: body),
                                     body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
            }
            // The same object, path-style on the same gateway.
            try await client.execute(uri: "/vh-bucket/docs/a%20b.txt", method: .get,
                                     headers: gw.signed("GET", "/vh-bucket/docs/a%20b.txt")) { r in
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == body)
            }
            try await client.execute(uri: "/?list-type=2", method: .get,
                                     headers: virtualHosted(gw, "GET", bucket: "vh-bucket", path: "/?list-type=2")) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("<Name>vh-bucket</Name>"))
                #expect(r.body.text.contains("<Key>docs/a b.txt</Key>"))
            }
            // A Host outside the domain is path-style: `/docs/...` names bucket `docs`.
            var other = gw.signed("GET", "/docs/a%20b.txt", host: "elsewhere.example")
            other[HTTPField.Name("x-test-host")!] = "elsewhere.example"
            try await client.execute(uri: "/docs/a%20b.txt", method: .get, headers: other) { r in
                #expect(r.status == .notFound)
                #expect(r.errorCode == "NoSuchBucket")
            }
            // A signature made for another Host does not verify.
            var forged = gw.signed("GET", "/docs/a%20b.txt", host: "other.\(Self.domain)")
            forged[HTTPField.Name("x-test-host")!] = "vh-bucket.\(Self.domain)"
            try await client.execute(uri: "/docs/a%20b.txt", method: .get, headers: forged) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "SignatureDoesNotMatch")
            }
        }
    }

    @Test func checksumModeReturnsTheStoredChecksum() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let body = Array("checksummed content".utf8)
        var crc = CRC32()
        crc.update(body)
        let expected = Data(crc.bytes).base64EncodedString()
        try await gw.withClient { client in
            try await client.execute(uri: "/sums", method: .put, headers: gw.signed("PUT", "/sums")) { _ in }
            var put = gw.signed("PUT", "/sums/a.txt", body: body, headers: [("x-amz-checksum-crc32", expected)])
            put[HTTPField.Name("x-amz-checksum-crc32")!] = expected
            try await client.execute(uri: "/sums/a.txt", method: .put, headers: put, body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
                #expect(r.header("x-amz-checksum-crc32") == expected)
            }
            var get = gw.signed("GET", "/sums/a.txt", headers: [("x-amz-checksum-mode", "ENABLED")])
            get[HTTPField.Name("x-amz-checksum-mode")!] = "ENABLED"
            try await client.execute(uri: "/sums/a.txt", method: .get, headers: get) { r in
                #expect(r.status == .ok)
                #expect(r.header("x-amz-checksum-crc32") == expected)
                #expect(r.header("x-amz-checksum-type") == "FULL_OBJECT")
            }
            var head = gw.signed("HEAD", "/sums/a.txt", headers: [("x-amz-checksum-mode", "ENABLED")])
            head[HTTPField.Name("x-amz-checksum-mode")!] = "ENABLED"
            try await client.execute(uri: "/sums/a.txt", method: .head, headers: head) { r in
                #expect(r.header("x-amz-checksum-crc32") == expected)
            }
            // Without the mode, or for a range, no object checksum is returned.
            try await client.execute(uri: "/sums/a.txt", method: .get, headers: gw.signed("GET", "/sums/a.txt")) { r in
                #expect(r.header("x-amz-checksum-crc32") == nil)
            }
            var ranged = gw.signed("GET", "/sums/a.txt", headers: [("x-amz-checksum-mode", "ENABLED"), ("range", "bytes=0-3")])
            ranged[HTTPField.Name("x-amz-checksum-mode")!] = "ENABLED"
            ranged[.range] = "bytes=0-3"
            try await client.execute(uri: "/sums/a.txt", method: .get, headers: ranged) { r in
                #expect(r.status == .partialContent)
                #expect(r.header("x-amz-checksum-crc32") == nil)
            }
        }
    }
}
