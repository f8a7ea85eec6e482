import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Testing

@testable import Gateway

/// Tags decide which policies apply, so changing them is checked like a write: a retag under
/// which no policy allows the object is refused, removing the tags included, and every retag
/// is in the operations log.
@Suite("Retagging and the policies")
struct RetagPolicyTests {
    /// Only classified objects may be stored (in Finland, one copy).
    static func writeClassifiedOnlyPolicies(_ dir: String) throws {
        try PolicyReloadTests.writePolicies(dir, residency: "match: { tags: { classification: \"*\" } }\nallow: { countries: [FI] }",
                                            name: "classified-only")
    }

    static func tagging(_ tags: [(String, String)]) -> [UInt8] {
        let set = tags.map { "<Tag><Key>\($0.0)</Key><Value>\($0.1)</Value></Tag>" }.joined()
        return Array("<Tagging><TagSet>\(set)</TagSet></Tagging>".utf8)
    }

    @Test func removingTheTagsThatAllowAnObjectIsRefused() async throws {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try Self.writeClassifiedOnlyPolicies(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            #expect(try await gw.send(client, .put, "/docs").status == .ok)
            // Untagged: no residency policy matches.
            #expect(try await gw.send(client, .put, "/docs/plain.txt", body: [1]).status == .forbidden)
            let put = try await gw.send(client, .put, "/docs/a.txt", body: Array("classified".utf8),
                                        headers: [("x-amz-tagging", "classification=internal")])
            #expect(put.status == .ok, "\(put.body)")

            let removed = try await gw.send(client, .delete, "/docs/a.txt?tagging")
            #expect(removed.status == .forbidden)
            #expect(removed.errorCode == "AccessDenied")
            let kept = try await gw.send(client, .get, "/docs/a.txt?tagging")
            #expect(kept.xmlValue("Value") == "internal")

            // Another classification is still allowed.
            let retagged = try await gw.send(client, .put, "/docs/a.txt?tagging", body: Self.tagging([("classification", "public")]))
            #expect(retagged.status == .ok, "\(retagged.body)")
            #expect(try await gw.send(client, .get, "/docs/a.txt?tagging").xmlValue("Value") == "public")
            // A tag set without the classification is refused like the removal.
            let dropped = try await gw.send(client, .put, "/docs/a.txt?tagging", body: Self.tagging([("owner", "me")]))
            #expect(dropped.status == .forbidden)
        }
        let log = try await gw.store.queryLog(OperationLogQuery(limit: 100))
            .filter { $0.operation.hasSuffix("ObjectTagging") }.reversed().map { ($0.operation, $0.httpStatus) }
        #expect(log.map(\.0) == ["DeleteObjectTagging", "PutObjectTagging", "PutObjectTagging"])
        #expect(log.map(\.1) == [403, 200, 403])
    }
}
