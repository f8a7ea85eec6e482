import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Testing

@testable import Gateway

/// Conditional writes: `If-None-Match: *` and `If-Match: ETAG` on PutObject, CopyObject and
/// CompleteMultipartUpload, as S3 has them. A refused write leaves the key and the zones as
/// they were.
@Suite("Conditional writes, router level")
struct ConditionalWriteTests {
    /// Copies of `bucket/key` in the gateway's zones.
    static func copies(_ gw: TestGateway, _ bucket: String, _ key: String) -> Int {
        let prefix = WriteIntent.backendKey(bucket: bucket, key: key, storageId: "")
        return gw.state.backends.keys.reduce(0) { $0 + gw.files(in: $1).filter { $0.hasPrefix(prefix) }.count }
    }

    @Test func ifNoneMatchWritesOnlyAKeyWithNoCurrentObject() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            let absent = [("if-none-match", "*")]
            let first = try await gw.send(client, .put, "/docs/report.pdf", body: Array("first".utf8), headers: absent)
            #expect(first.status == .ok)
            let copiesBefore = Self.copies(gw, "docs", "report.pdf")

            let second = try await gw.send(client, .put, "/docs/report.pdf", body: Array("second".utf8), headers: absent)
            #expect(second.status == .preconditionFailed)
            #expect(second.errorCode == "PreconditionFailed")
            #expect(second.xmlValue("Condition") == "If-None-Match")
            #expect(try await gw.send(client, .get, "/docs/report.pdf").body == "first")
            // Refused before anything was stored.
            #expect(Self.copies(gw, "docs", "report.pdf") == copiesBefore)
            #expect(try await gw.store.listVersions(.init(bucket: "docs")).versions.count == 1)

            // A delete marker is no current object.
            #expect(try await gw.send(client, .delete, "/docs/report.pdf").status == .noContent)
            let again = try await gw.send(client, .put, "/docs/report.pdf", body: Array("again".utf8), headers: absent)
            #expect(again.status == .ok)
            #expect(try await gw.send(client, .get, "/docs/report.pdf").body == "again")

            // S3 takes only * in a write's If-None-Match, and one condition at a time.
            let etag = try #require(again.header("etag"))
            #expect(try await gw.send(client, .put, "/docs/x", body: [1], headers: [("if-none-match", etag)]).errorCode == "NotImplemented")
            #expect(try await gw.send(client, .put, "/docs/x", body: [1], headers: [("if-none-match", "*"), ("if-match", etag)])
                .errorCode == "InvalidRequest")
        }
    }

    @Test func ifMatchOverwritesOnlyTheObjectWithThatETag() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            let v1 = try await gw.send(client, .put, "/docs/counter", body: Array("1".utf8))
            let etag1 = try #require(v1.header("etag"))
            let v2 = try await gw.send(client, .put, "/docs/counter", body: Array("2".utf8), headers: [("if-match", etag1)])
            #expect(v2.status == .ok)
            // The ETag of version 1 is no longer the current one: a lost update is refused.
            let stale = try await gw.send(client, .put, "/docs/counter", body: Array("2'".utf8), headers: [("if-match", etag1)])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.xmlValue("Condition") == "If-Match")
            #expect(try await gw.send(client, .get, "/docs/counter").body == "2")
            // Unquoted ETags are accepted as S3 accepts them.
            let unquoted = try #require(v2.header("etag")).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            #expect(try await gw.send(client, .put, "/docs/counter", body: Array("3".utf8), headers: [("if-match", unquoted)]).status == .ok)
            // No current object: NoSuchKey.
            #expect(try await gw.send(client, .put, "/docs/none", body: [1], headers: [("if-match", etag1)]).errorCode == "NoSuchKey")
        }
    }

    /// Writers that race past the first check are decided in the commit: one wins, the others
    /// get 412 and their copies are removed.
    @Test func racingCreatesLeaveOneVersionAndNoStrayCopies() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await gw.send(client, .put, "/docs/lock", body: Array("writer \(i)".utf8), headers: [("if-none-match", "*")]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .preconditionFailed }.count == 7)
            let versions = try await gw.store.listVersions(.init(bucket: "docs")).versions
            #expect(versions.count == 1)
            let planned = gw.planned("docs", "lock").count
            #expect(Self.copies(gw, "docs", "lock") == planned)
            // Nothing left for the reconciler: every losing write abandoned its intent.
            #expect(try await gw.store.staleIntents(olderThan: Date().addingTimeInterval(60), limit: 10).isEmpty)
        }
    }

    /// Two uploads of one key completed together with `If-None-Match: *`: one completes, the
    /// other gets 412 (before or after its zones assembled the object); the loser's upload is
    /// gone and none of its copies stays.
    @Test func racingCompletesLeaveOneVersionAndNoStrayCopies() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            var uploads: [(id: String, etag: String)] = []
            for i in 0..<2 {
                let created = try await gw.send(client, .post, "/docs/race?uploads=")
                let id = try #require(created.xmlValue("UploadId"))
                let part = try await gw.send(client, .put, "/docs/race?partNumber=1&uploadId=\(id)", body: Array("upload \(i)".utf8))
                uploads.append((id, try #require(part.header("etag"))))
            }
            let results = try await withThrowingTaskGroup(of: (String, HTTPResponse.Status).self) { group in
                for upload in uploads {
                    group.addTask {
                        let r = try await gw.send(client, .post, "/docs/race?uploadId=\(upload.id)", body: completeBody([(1, upload.etag)]),
                                                  headers: [("if-none-match", "*")])
                        return (upload.id, r.status)
                    }
                }
                return try await group.reduce(into: [String: HTTPResponse.Status]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.values.filter { $0 == .ok }.count == 1)
            #expect(results.values.filter { $0 == .preconditionFailed }.count == 1)
            let loser = try #require(results.first { $0.value == .preconditionFailed }?.key)
            #expect(try await gw.send(client, .get, "/docs/race?uploadId=\(loser)").errorCode == "NoSuchUpload")
            #expect(try await gw.store.listVersions(.init(bucket: "docs")).versions.count == 1)
            #expect(Self.copies(gw, "docs", "race") == gw.planned("docs", "race").count)
        }
    }

    @Test func copyAndCompleteAreConditionalToo() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            #expect(try await gw.send(client, .put, "/docs/source", body: Array("source".utf8)).status == .ok)
            #expect(try await gw.send(client, .put, "/docs/taken", body: Array("taken".utf8)).status == .ok)

            let copy = try await gw.send(client, .put, "/docs/taken", headers: [("x-amz-copy-source", "/docs/source"), ("if-none-match", "*")])
            #expect(copy.status == .preconditionFailed)
            #expect(try await gw.send(client, .get, "/docs/taken").body == "taken")
            #expect(try await gw.send(client, .put, "/docs/fresh", headers: [("x-amz-copy-source", "/docs/source"), ("if-none-match", "*")])
                .status == .ok)

            let created = try await gw.send(client, .post, "/docs/taken?uploads=")
            let id = try #require(created.xmlValue("UploadId"))
            let part = try await gw.send(client, .put, "/docs/taken?partNumber=1&uploadId=\(id)", body: Array("multipart".utf8))
            let etag = try #require(part.header("etag"))
            let complete = try await gw.send(client, .post, "/docs/taken?uploadId=\(id)", body: completeBody([(1, etag)]),
                                             headers: [("if-none-match", "*")])
            #expect(complete.status == .preconditionFailed)
            #expect(try await gw.send(client, .get, "/docs/taken").body == "taken")
            // Refused before the zones assembled anything: the upload can still complete.
            let plain = try await gw.send(client, .post, "/docs/taken?uploadId=\(id)", body: completeBody([(1, etag)]))
            #expect(plain.status == .ok, "\(plain.body)")
            #expect(try await gw.send(client, .get, "/docs/taken").body == "multipart")
        }
    }
}
