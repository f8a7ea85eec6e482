import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Metadata
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// A response detached from the test client's callback.
struct S3Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String
    var bytes: [UInt8]

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    var errorCode: String? { xmlValue("Code") }

    /// The text of the first `<name>` element.
    func xmlValue(_ name: String) -> String? { xmlValues(name).first }

    func xmlValues(_ name: String) -> [String] {
        var result: [String] = []
        var rest = Substring(body)
        while let start = rest.range(of: "<\(name)>"), let end = rest[start.upperBound...].range(of: "</\(name)>") {
            result.append(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return result
    }
}

extension TestGateway {
    /// Signs and sends one request; `target` is the path with its (canonical) query.
    func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ target: String,
              body: [UInt8] = [], headers: [(String, String)] = []) async throws -> S3Reply {
        var fields = signed(method.rawValue, target, body: body, headers: headers)
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await client.execute(uri: target, method: method, headers: fields,
                                        body: body.isEmpty ? nil : ByteBuffer(bytes: body)) { r in
            S3Reply(status: r.status, headers: r.headers, body: String(buffer: r.body), bytes: Array(r.body.readableBytesView))
        }
    }
}

func md5Hex(_ bytes: [UInt8]) -> String {
    Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

func completeBody(_ parts: [(Int, String)]) -> [UInt8] {
    var xml = "<CompleteMultipartUpload>"
    for (n, etag) in parts { xml += "<Part><PartNumber>\(n)</PartNumber><ETag>\(etag)</ETag></Part>" }
    xml += "</CompleteMultipartUpload>"
    return Array(xml.utf8)
}

@Suite("Multipart uploads, router level")
struct MultipartTests {
    static let big: [UInt8] = { var b = [UInt8](repeating: 0, count: 5 * 1024 * 1024); for i in stride(from: 0, to: b.count, by: 4096) { b[i] = UInt8(truncatingIfNeeded: i >> 12) }; return b }()
    static let small: [UInt8] = Array("the small tail part".utf8)

    func create(_ gw: TestGateway, _ client: any TestClientProtocol, _ path: String, headers: [(String, String)] = []) async throws -> String {
        let r = try await gw.send(client, .post, path + "?uploads=", headers: headers)
        #expect(r.status == .ok, "\(r.body)")
        return try #require(r.xmlValue("UploadId"))
    }

    func upload(_ gw: TestGateway, _ client: any TestClientProtocol, _ path: String, _ id: String, _ n: Int, _ body: [UInt8]) async throws -> String {
        let r = try await gw.send(client, .put, path + "?partNumber=\(n)&uploadId=\(id)", body: body)
        #expect(r.status == .ok, "\(r.body)")
        return try #require(r.header("etag"))
    }

    @Test func roundTripWithTwoParts() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/media").status == .ok)
            let path = "/media/videos/clip.bin"
            let id = try await create(gw, client, path, headers: [("content-type", "video/mp4"), ("x-amz-meta-owner", "me")])
            let e1 = try await upload(gw, client, path, id, 1, Self.big)
            #expect(e1 == "\"\(md5Hex(Self.big))\"")
            // Re-uploading a part number replaces it in the backend uploads.
            _ = try await upload(gw, client, path, id, 2, Array("replaced".utf8))
            let e2 = try await upload(gw, client, path, id, 2, Self.small)

            let list = try await gw.send(client, .get, path + "?uploadId=\(id)")
            #expect(list.status == .ok)
            #expect(list.xmlValues("PartNumber") == ["1", "2"])
            #expect(list.xmlValues("Size") == [String(Self.big.count), String(Self.small.count)])

            let uploads = try await gw.send(client, .get, "/media?uploads=")
            #expect(uploads.status == .ok)
            #expect(uploads.xmlValues("UploadId") == [id])
            #expect(uploads.xmlValues("Key") == ["videos/clip.bin"])

            let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
            #expect(done.status == .ok, "\(done.body)")
            let etag = try #require(done.xmlValue("ETag"))
            let expected = md5Hex(Array(Insecure.MD5.hash(data: Self.big)) + Array(Insecure.MD5.hash(data: Self.small))) + "-2"
            #expect(etag == "&quot;\(expected)&quot;" || etag == "\"\(expected)\"")

            let get = try await gw.send(client, .get, path)
            #expect(get.status == .ok)
            #expect(get.bytes == Self.big + Self.small)
            #expect(get.header("etag") == "\"\(expected)\"")
            #expect(get.header("content-type") == "video/mp4")
            #expect(get.header("x-amz-meta-owner") == "me")

            // The upload is gone, and so are the backend uploads: one object file per zone.
            #expect(try await gw.send(client, .get, "/media?uploads=").xmlValues("UploadId").isEmpty)
            #expect(try await gw.send(client, .get, path + "?uploadId=\(id)").errorCode == "NoSuchUpload")
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "media", key: "videos/clip.bin"))
        #expect(version.partsCount == 2)
        let replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.count == 2 && replicas.allSatisfy { $0.status == .complete })
        for zone in TestGateway.zones {
            #expect(gw.uploadFiles(in: zone).isEmpty)
            #expect(gw.files(in: zone) == (replicas.contains { $0.zone == zone } ? [WriteIntent.backendKey(bucket: "media", key: "videos/clip.bin", storageId: version.storageId)] : []))
        }
        #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts())
    }

    @Test func abortRemovesTheBackendUploads() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let path = "/media/a.bin"
            let id = try await create(gw, client, path)
            _ = try await upload(gw, client, path, id, 1, Array("one".utf8))
            _ = try await upload(gw, client, path, id, 2, Array("two".utf8))
            // Two parts in the backend upload of each of the two planned zones.
            #expect(TestGateway.zones.flatMap { gw.uploadFiles(in: $0) }.count == 4)
            let abort = try await gw.send(client, .delete, path + "?uploadId=\(id)")
            #expect(abort.status == .noContent)
            #expect(TestGateway.zones.flatMap { gw.files(in: $0) + gw.uploadFiles(in: $0) }.isEmpty)
            #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts(done: 2))
            #expect(try await gw.send(client, .delete, path + "?uploadId=\(id)").errorCode == "NoSuchUpload")
            #expect(try await gw.send(client, .get, path).errorCode == "NoSuchKey")
        }
    }

    @Test func completionErrors() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let path = "/media/e.bin"
            let id = try await create(gw, client, path)
            let e1 = try await upload(gw, client, path, id, 1, Self.small)
            let e2 = try await upload(gw, client, path, id, 2, Self.small)

            let order = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(2, e2), (1, e1)]))
            #expect(order.status == .badRequest)
            #expect(order.errorCode == "InvalidPartOrder")

            let wrong = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, "\"0123456789abcdef0123456789abcdef\"")]))
            #expect(wrong.errorCode == "InvalidPart")
            let missing = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (3, e2)]))
            #expect(missing.errorCode == "InvalidPart")

            let small = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
            #expect(small.status == .badRequest)
            #expect(small.errorCode == "EntityTooSmall")

            // A single small part is fine: the last part has no minimum.
            let one = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1)]))
            #expect(one.status == .ok, "\(one.body)")
            #expect(try await gw.send(client, .get, path).bytes == Self.small)

            let gone = try await gw.send(client, .put, path + "?partNumber=1&uploadId=\(id)", body: Self.small)
            #expect(gone.status == .notFound)
            #expect(gone.errorCode == "NoSuchUpload")
            #expect(try await gw.send(client, .post, path + "?uploadId=nope", body: completeBody([(1, e1)])).errorCode == "NoSuchUpload")
            #expect(try await gw.send(client, .get, path + "?uploadId=nope").errorCode == "NoSuchUpload")
            #expect(try await gw.send(client, .put, path + "?partNumber=0&uploadId=\(id)", body: Self.small).errorCode == "InvalidArgument")
        }
    }

    @Test func aRefusedPartLeavesThePartItWouldReplace() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let path = "/media/d.bin"
            let id = try await create(gw, client, path)
            let e1 = try await upload(gw, client, path, id, 1, Self.small)
            // The body does not match its Content-MD5: refused before any zone keeps it.
            let wrongMD5 = Data(Insecure.MD5.hash(data: Self.small)).base64EncodedString()
            let bad = try await gw.send(client, .put, path + "?partNumber=1&uploadId=\(id)", body: Array("other".utf8),
                                        headers: [("content-md5", wrongMD5)])
            #expect(bad.status == .badRequest && bad.errorCode == "BadDigest", "\(bad.body)")
            let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1)]))
            #expect(done.status == .ok, "\(done.body)")
            #expect(try await gw.send(client, .get, path).bytes == Self.small)
        }
    }

    @Test func uploadPartCopyWithRange() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            #expect(try await gw.send(client, .put, "/media/src.bin", body: Self.big).status == .ok)
            let path = "/media/copy.bin"
            let id = try await create(gw, client, path)
            let c1 = try await gw.send(client, .put, path + "?partNumber=1&uploadId=\(id)", headers: [("x-amz-copy-source", "/media/src.bin")])
            #expect(c1.status == .ok, "\(c1.body)")
            let e1 = try #require(c1.xmlValue("ETag")).replacingOccurrences(of: "&quot;", with: "\"")
            let c2 = try await gw.send(client, .put, path + "?partNumber=2&uploadId=\(id)",
                                       headers: [("x-amz-copy-source", "/media/src.bin"), ("x-amz-copy-source-range", "bytes=10-19")])
            #expect(c2.status == .ok, "\(c2.body)")
            let e2 = try #require(c2.xmlValue("ETag")).replacingOccurrences(of: "&quot;", with: "\"")
            #expect(e2 == "\"\(md5Hex(Array(Self.big[10...19])))\"")
            let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
            #expect(done.status == .ok, "\(done.body)")
            #expect(try await gw.send(client, .get, path).bytes == Self.big + Array(Self.big[10...19]))
        }
    }

    @Test func createIsRefusedWhenThePolicyRefusesTheObject() async throws {
        // Only hr-* buckets have a residency policy, so any other object has no allowed zone.
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata: { name: hr-only-finland }
        spec:
          match: { buckets: ["hr-*"] }
          allow: { countries: [FI] }
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata: { name: two-copies }
        spec:
          match: {}
          copies: 2
        """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/other")
            let refused = try await gw.send(client, .post, "/other/x?uploads=", headers: [("x-amz-tagging", "a=b")])
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "AccessDenied")
            #expect(refused.body.contains("two-copies"))
            #expect(try await gw.send(client, .get, "/other?uploads=").xmlValues("UploadId").isEmpty)
            _ = try await gw.send(client, .put, "/hr-data")
            #expect(try await gw.send(client, .post, "/hr-data/x?uploads=").status == .ok)
        }
    }
}
