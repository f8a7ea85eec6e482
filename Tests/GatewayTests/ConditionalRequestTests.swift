import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import S3Protocol
import Testing

@testable import Gateway

/// Conditional reads (`If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`)
/// and copy-source conditions (`x-amz-copy-source-if-*` on CopyObject and UploadPartCopy),
/// through the gateway, with S3's answers: 200, 304 (no body) or 412 PreconditionFailed.
@Suite("Conditional requests, router level")
struct ConditionalRequestTests {
    static let body = Array("conditional body".utf8)

    /// A gateway with `/docs/a.txt` written; its quoted ETag and Last-Modified.
    struct Fixture {
        var gw: TestGateway
        var etag: String
        var lastModified: Date
        var lastModifiedText: String

        func date(_ offset: TimeInterval) -> String { HTTPDate.format(lastModified.addingTimeInterval(offset)) }
    }

    static func withFixture(_ body: @Sendable (Fixture, any TestClientProtocol) async throws -> Void) async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            #expect(try await gw.send(client, .put, "/docs/a.txt", body: Self.body).status == .ok)
            let head = try await gw.send(client, .head, "/docs/a.txt")
            let etag = try #require(head.header("etag"))
            let text = try #require(head.header("last-modified"))
            let fixture = Fixture(gw: gw, etag: etag, lastModified: try #require(HTTPDate.parse(text)), lastModifiedText: text)
            try await body(fixture, client)
        }
    }

    enum Expected: Equatable {
        case ok, notModified, preconditionFailed
    }

    /// Sends GET and HEAD with `headers` and checks both answers.
    static func expectRead(_ f: Fixture, _ client: any TestClientProtocol, _ headers: [(String, String)], _ expected: Expected,
                           path: String = "/docs/a.txt", sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let described = headers.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
        let get = try await f.gw.send(client, .get, path, headers: headers)
        let head = try await f.gw.send(client, .head, path, headers: headers)
        switch expected {
        case .ok:
            #expect(get.status == .ok, "GET \(described): \(get.body)", sourceLocation: sourceLocation)
            #expect(get.bytes == Self.body, "GET \(described)", sourceLocation: sourceLocation)
            #expect(head.status == .ok, "HEAD \(described)", sourceLocation: sourceLocation)
        case .notModified:
            for (method, reply) in [("GET", get), ("HEAD", head)] {
                #expect(reply.status == .notModified, "\(method) \(described): \(reply.body)", sourceLocation: sourceLocation)
                #expect(reply.bytes.isEmpty, "\(method) \(described)", sourceLocation: sourceLocation)
                #expect(reply.header("etag") == f.etag, "\(method) \(described)", sourceLocation: sourceLocation)
                #expect(reply.header("last-modified") == f.lastModifiedText, "\(method) \(described)", sourceLocation: sourceLocation)
                #expect(reply.header("content-length") == nil || reply.header("content-length") == "0",
                        "\(method) \(described): \(reply.headers)", sourceLocation: sourceLocation)
            }
        case .preconditionFailed:
            #expect(get.status == .preconditionFailed, "GET \(described): \(get.body)", sourceLocation: sourceLocation)
            #expect(get.errorCode == "PreconditionFailed", "GET \(described): \(get.body)", sourceLocation: sourceLocation)
            #expect(head.status == .preconditionFailed, "HEAD \(described)", sourceLocation: sourceLocation)
            #expect(head.bytes.isEmpty, "HEAD \(described)", sourceLocation: sourceLocation)
        }
    }

    @Test func ifMatch() async throws {
        try await Self.withFixture { f, client in
            try await Self.expectRead(f, client, [("if-match", f.etag)], .ok)
            try await Self.expectRead(f, client, [("if-match", String(f.etag.dropFirst().dropLast()))], .ok)
            try await Self.expectRead(f, client, [("if-match", "\"0123\", \(f.etag)")], .ok)
            try await Self.expectRead(f, client, [("if-match", "*")], .ok)
            try await Self.expectRead(f, client, [("if-match", "\"0123456789abcdef0123456789abcdef\"")], .preconditionFailed)
            let failed = try await f.gw.send(client, .get, "/docs/a.txt", headers: [("if-match", "\"nope\"")])
            #expect(failed.xmlValue("Condition") == "If-Match", "\(failed.body)")
        }
    }

    @Test func ifNoneMatch() async throws {
        try await Self.withFixture { f, client in
            try await Self.expectRead(f, client, [("if-none-match", f.etag)], .notModified)
            try await Self.expectRead(f, client, [("if-none-match", "*")], .notModified)
            try await Self.expectRead(f, client, [("if-none-match", "\"0123\", \(f.etag)")], .notModified)
            try await Self.expectRead(f, client, [("if-none-match", "\"0123456789abcdef0123456789abcdef\"")], .ok)
        }
    }

    @Test func dates() async throws {
        try await Self.withFixture { f, client in
            try await Self.expectRead(f, client, [("if-modified-since", f.lastModifiedText)], .notModified)
            try await Self.expectRead(f, client, [("if-modified-since", f.date(-3600))], .ok)
            try await Self.expectRead(f, client, [("if-unmodified-since", f.lastModifiedText)], .ok)
            try await Self.expectRead(f, client, [("if-unmodified-since", f.date(3600))], .ok)
            try await Self.expectRead(f, client, [("if-unmodified-since", f.date(-3600))], .preconditionFailed)
            // A date that does not parse is ignored, as S3 does.
            try await Self.expectRead(f, client, [("if-unmodified-since", "yesterday")], .ok)
            try await Self.expectRead(f, client, [("if-modified-since", "yesterday")], .ok)
        }
    }

    /// The combinations S3 documents for GetObject and HeadObject.
    @Test func combinations() async throws {
        try await Self.withFixture { f, client in
            // If-Match holds, If-Unmodified-Since does not: 200.
            try await Self.expectRead(f, client, [("if-match", f.etag), ("if-unmodified-since", f.date(-3600))], .ok)
            // If-None-Match does not hold (the ETag matches), If-Modified-Since does: 304.
            try await Self.expectRead(f, client, [("if-none-match", f.etag), ("if-modified-since", f.date(-3600))], .notModified)
            // If-None-Match holds: If-Modified-Since is not looked at.
            try await Self.expectRead(f, client, [("if-none-match", "\"other\""), ("if-modified-since", f.date(3600))], .ok)
            // If-Match fails: 412 whatever If-None-Match says.
            try await Self.expectRead(f, client, [("if-match", "\"other\""), ("if-none-match", "\"other\"")], .preconditionFailed)
            // If-Unmodified-Since fails without If-Match: 412, before If-None-Match's 304.
            try await Self.expectRead(f, client, [("if-none-match", f.etag), ("if-unmodified-since", f.date(-3600))], .preconditionFailed)
        }
    }

    @Test func conditionsApplyToRangesAndVersions() async throws {
        try await Self.withFixture { f, client in
            let range = try await f.gw.send(client, .get, "/docs/a.txt", headers: [("range", "bytes=0-10"), ("if-match", f.etag)])
            #expect(range.status == .partialContent)
            #expect(range.bytes == Array(Self.body[0...10]))
            let notModified = try await f.gw.send(client, .get, "/docs/a.txt", headers: [("range", "bytes=0-10"), ("if-none-match", f.etag)])
            #expect(notModified.status == .notModified)
            #expect(notModified.bytes.isEmpty)
            // A newer version: conditions are evaluated against the version read.
            #expect(try await f.gw.send(client, .put, "/docs/a.txt", body: Array("newer".utf8)).status == .ok)
            try await Self.expectRead(f, client, [("if-match", f.etag)], .preconditionFailed)
            let newer = try await f.gw.send(client, .get, "/docs/a.txt", headers: [("if-none-match", f.etag)])
            #expect(newer.status == .ok)
            #expect(newer.body == "newer")
            // The first version, by its id, still matches its own ETag.
            let versions = try await f.gw.send(client, .get, "/docs?versions=")
            let first = try #require(versions.xmlValues("VersionId").last)
            try await Self.expectRead(f, client, [("if-match", f.etag)], .ok, path: "/docs/a.txt?versionId=\(first)")
            try await Self.expectRead(f, client, [("if-none-match", f.etag)], .notModified, path: "/docs/a.txt?versionId=\(first)")
        }
    }

    // MARK: Copy source

    /// CopyObject of `/docs/a.txt` to `/docs/copy.txt` with `conditions`.
    static func copy(_ f: Fixture, _ client: any TestClientProtocol, _ conditions: [(String, String)]) async throws -> S3Reply {
        try await f.gw.send(client, .put, "/docs/copy.txt", headers: [("x-amz-copy-source", "/docs/a.txt")] + conditions)
    }

    @Test func copyObjectSourceConditions() async throws {
        try await Self.withFixture { f, client in
            let refused: [[(String, String)]] = [
                [("x-amz-copy-source-if-match", "\"other\"")],
                [("x-amz-copy-source-if-none-match", f.etag)],
                [("x-amz-copy-source-if-none-match", "*")],
                [("x-amz-copy-source-if-modified-since", f.lastModifiedText)],
                [("x-amz-copy-source-if-modified-since", f.date(3600))],
                [("x-amz-copy-source-if-unmodified-since", f.date(-3600))],
                // If-None-Match fails and If-Modified-Since holds: 412.
                [("x-amz-copy-source-if-none-match", f.etag), ("x-amz-copy-source-if-modified-since", f.date(-3600))],
            ]
            for conditions in refused {
                let reply = try await Self.copy(f, client, conditions)
                #expect(reply.status == .preconditionFailed, "\(conditions): \(reply.body)")
                #expect(reply.errorCode == "PreconditionFailed", "\(conditions): \(reply.body)")
            }
            #expect(try await f.gw.send(client, .head, "/docs/copy.txt").status == .notFound)
            let allowed: [[(String, String)]] = [
                [("x-amz-copy-source-if-match", f.etag)],
                [("x-amz-copy-source-if-none-match", "\"other\"")],
                [("x-amz-copy-source-if-modified-since", f.date(-3600))],
                [("x-amz-copy-source-if-unmodified-since", f.lastModifiedText)],
                // If-Match holds and If-Unmodified-Since does not: the copy is made (200).
                [("x-amz-copy-source-if-match", f.etag), ("x-amz-copy-source-if-unmodified-since", f.date(-3600))],
            ]
            for conditions in allowed {
                let reply = try await Self.copy(f, client, conditions)
                #expect(reply.status == .ok, "\(conditions): \(reply.body)")
            }
            #expect(try await f.gw.send(client, .get, "/docs/copy.txt").bytes == Self.body)
        }
    }

    @Test func uploadPartCopySourceConditions() async throws {
        try await Self.withFixture { f, client in
            let create = try await f.gw.send(client, .post, "/docs/assembled.txt?uploads=")
            let id = try #require(create.xmlValue("UploadId"))
            let part = "/docs/assembled.txt?partNumber=1&uploadId=\(id)"
            let source = ("x-amz-copy-source", "/docs/a.txt")
            let refused: [[(String, String)]] = [
                [("x-amz-copy-source-if-match", "\"other\"")],
                [("x-amz-copy-source-if-none-match", f.etag)],
                [("x-amz-copy-source-if-modified-since", f.lastModifiedText)],
                [("x-amz-copy-source-if-unmodified-since", f.date(-3600))],
            ]
            for conditions in refused {
                let reply = try await f.gw.send(client, .put, part, headers: [source] + conditions)
                #expect(reply.status == .preconditionFailed, "\(conditions): \(reply.body)")
                #expect(reply.errorCode == "PreconditionFailed", "\(conditions): \(reply.body)")
            }
            #expect(try await f.gw.send(client, .get, "/docs/assembled.txt?uploadId=\(id)").xmlValues("PartNumber").isEmpty)
            let copied = try await f.gw.send(client, .put, part, headers: [
                source, ("x-amz-copy-source-if-match", f.etag), ("x-amz-copy-source-if-unmodified-since", f.date(-3600)),
            ])
            #expect(copied.status == .ok, "\(copied.body)")
            let etag = try #require(copied.xmlValue("ETag")).replacingOccurrences(of: "&quot;", with: "\"")
            let done = try await f.gw.send(client, .post, "/docs/assembled.txt?uploadId=\(id)", body: completeBody([(1, etag)]))
            #expect(done.status == .ok, "\(done.body)")
            #expect(try await f.gw.send(client, .get, "/docs/assembled.txt").bytes == Self.body)
        }
    }
}
