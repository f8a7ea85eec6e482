import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import S3Protocol
import Testing

@testable import Gateway
@testable import Metadata

/// `GATEWAY_AUDIT_READS`: every read of the S3 API becomes a row of the operations log before
/// it is answered, refused reads included; a read that cannot be recorded is refused.
@Suite("Audit of reads")
struct ReadAuditTests {
    static func makeGateway(audit: Bool) async throws -> TestGateway {
        try await TestGateway.make { $0.auditReads = audit }
    }

    static func reads(_ gw: TestGateway) async throws -> [OperationLogEntry] {
        let writes: Set<String> = ["CreateBucket", "PutObject"]
        return try await gw.store.queryLog(OperationLogQuery(limit: 1000)).filter { !writes.contains($0.operation) }.reversed()
    }

    @Test func everyReadIsRecordedWithItsOutcomeAndZone() async throws {
        let gw = try await Self.makeGateway(audit: true)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/hr-data").status == .ok)
            let put = try await gw.send(client, .put, "/hr-data/personal/a.txt", body: Array("twelve bytes".utf8))
            #expect(put.status == .ok)
            _ = try #require(put.headers[.init("x-amz-version-id")!])

            #expect(try await gw.send(client, .get, "/hr-data/personal/a.txt").status == .ok)
            #expect(try await gw.send(client, .head, "/hr-data/personal/a.txt").status == .ok)
            #expect(try await gw.send(client, .get, "/hr-data?list-type=2&prefix=personal/").status == .ok)
            #expect(try await gw.send(client, .get, "/hr-data/personal/missing.txt").status == .notFound)
            #expect(try await gw.send(client, .get, "/hr-data/personal/a.txt?tagging").status == .ok)
            // A signature made with another secret: refused, and recorded with no principal.
            var forged = gw.signed("GET", "/hr-data/personal/a.txt")
            let authorization = try #require(forged[.authorization])
            forged[.authorization] = String(authorization.dropLast(4)) + "0000"
            try await client.execute(uri: "/hr-data/personal/a.txt", method: .get, headers: forged) { r in
                #expect(r.status == .forbidden)
            }
        }
        let reads = try await Self.reads(gw)
        #expect(reads.map(\.operation) == ["GetObject", "HeadObject", "ListObjectsV2", "GetObject", "GetObjectTagging", "GetObject"])
        let planned = gw.planned("hr-data", "personal/a.txt")
        let get = reads[0]
        #expect(get.httpStatus == 200)
        #expect(get.bucket == "hr-data" && get.key == "personal/a.txt")
        #expect(get.principal == "test-key")
        #expect(get.bytes == 12)
        #expect(get.zones.count == 1 && planned.contains(get.zones[0]))
        #expect(get.versionId != nil)
        #expect(reads[1].httpStatus == 200 && reads[1].bytes == 0 && reads[1].zones.isEmpty)
        #expect(reads[2].key == nil && reads[2].httpStatus == 200)
        #expect(reads[3].httpStatus == 404 && reads[3].detail == "NoSuchKey")
        #expect(reads[5].httpStatus == 403 && reads[5].detail == "SignatureDoesNotMatch" && reads[5].principal == nil)
    }

    @Test func withoutTheAuditReadsAreNotRecorded() async throws {
        let gw = try await Self.makeGateway(audit: false)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            let statuses = [
                try await gw.send(client, .put, "/hr-data").status,
                try await gw.send(client, .put, "/hr-data/a.txt", body: Array("x".utf8)).status,
                try await gw.send(client, .get, "/hr-data/a.txt").status,
            ]
            #expect(statuses == [.ok, .ok, .ok])
        }
        #expect(try await Self.reads(gw).isEmpty)
    }

    /// The log refuses rows (a trigger): reads are refused with 503, and so nothing is read
    /// unrecorded; once rows are accepted again, reads are served.
    @Test func aReadThatCannotBeRecordedIsRefused() async throws {
        let gw = try await Self.makeGateway(audit: true)
        defer { gw.cleanUp() }
        let sqlite = gw.store
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/hr-data").status == .ok)
            #expect(try await gw.send(client, .put, "/hr-data/a.txt", body: Array("secret".utf8)).status == .ok)
            try await sqlite.core.engine.transaction { db in
                try await db.execute("CREATE TRIGGER refuse_log BEFORE INSERT ON operations_log BEGIN SELECT RAISE(FAIL, 'log full'); END")
            }
            let refused = try await gw.send(client, .get, "/hr-data/a.txt")
            #expect(refused.status == .serviceUnavailable)
            #expect(!refused.body.contains("secret"))
            #expect(refused.body.contains("<Code>ServiceUnavailable</Code>"))
            try await sqlite.core.engine.transaction { db in try await db.execute("DROP TRIGGER refuse_log") }
            let served = try await gw.send(client, .get, "/hr-data/a.txt")
            #expect(served.status == .ok)
            #expect(served.body == "secret")
        }
    }

    @Test func readOperationsAreNamedAsS3NamesThem() throws {
        func name(_ method: HTTPRequest.Method, _ target: String) throws -> String? {
            let request = Request(head: .init(method: method, scheme: "http", authority: "localhost", path: target),
                                  body: .init(buffer: ByteBuffer()))
            return try S3Call.parse(request, prefix: "", domain: nil).readOperation
        }
        #expect(try name(.get, "/") == "ListBuckets")
        #expect(try name(.get, "/b") == "ListObjects")
        #expect(try name(.get, "/b?list-type=2") == "ListObjectsV2")
        #expect(try name(.get, "/b?versions") == "ListObjectVersions")
        #expect(try name(.get, "/b?uploads") == "ListMultipartUploads")
        #expect(try name(.get, "/b?location") == "GetBucketLocation")
        #expect(try name(.get, "/b?object-lock") == "GetObjectLockConfiguration")
        #expect(try name(.head, "/b") == "HeadBucket")
        #expect(try name(.get, "/b/k") == "GetObject")
        #expect(try name(.get, "/b/k?versionId=x") == "GetObject")
        #expect(try name(.get, "/b/k?retention") == "GetObjectRetention")
        #expect(try name(.get, "/b/k?uploadId=u") == "ListParts")
        #expect(try name(.head, "/b/k") == "HeadObject")
        #expect(try name(.put, "/b/k") == nil)
        #expect(try name(.delete, "/b/k") == nil)
    }
}
