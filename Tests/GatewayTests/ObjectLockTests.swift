import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Prometheus
import S3Protocol
import Testing

@testable import Gateway

func retentionBody(_ mode: String, _ until: Date) -> [UInt8] {
    Array("<Retention><Mode>\(mode)</Mode><RetainUntilDate>\(ISO8601Timestamp.format(until))</RetainUntilDate></Retention>".utf8)
}

@Suite("S3 Object Lock, router level")
struct ObjectLockTests {
    @Test func bucketConfigurationAndDefaultRetention() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            // Without Object Lock.
            _ = try await gw.send(client, .put, "/plain")
            let none = try await gw.send(client, .get, "/plain?object-lock=")
            #expect(none.status == .notFound)
            #expect(none.errorCode == "ObjectLockConfigurationNotFoundError")
            let config = Array("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule></ObjectLockConfiguration>".utf8)
            let refused = try await gw.send(client, .put, "/plain?object-lock=", body: config)
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "InvalidBucketState")

            // With Object Lock: versioning on, configuration readable and settable.
            #expect(try await gw.send(client, .put, "/locked", headers: [("x-amz-bucket-object-lock-enabled", "true")]).status == .ok)
            #expect(try await gw.send(client, .get, "/locked?versioning=").xmlValue("Status") == "Enabled")
            let initial = try await gw.send(client, .get, "/locked?object-lock=")
            #expect(initial.status == .ok)
            #expect(initial.xmlValue("ObjectLockEnabled") == "Enabled")
            #expect(initial.xmlValue("Mode") == nil)
            #expect(try await gw.send(client, .put, "/locked?object-lock=", body: config).status == .ok)
            let set = try await gw.send(client, .get, "/locked?object-lock=")
            #expect(set.xmlValue("Mode") == "GOVERNANCE")
            #expect(set.xmlValue("Days") == "3")

            // New versions get the default retention.
            let before = Date()
            let put = try await gw.send(client, .put, "/locked/doc.txt", body: Array("v1".utf8))
            #expect(put.status == .ok)
            let versionId = try #require(put.header("x-amz-version-id"))
            let retention = try await gw.send(client, .get, "/locked/doc.txt?retention=")
            #expect(retention.status == .ok)
            #expect(retention.xmlValue("Mode") == "GOVERNANCE")
            let until = try #require(retention.xmlValue("RetainUntilDate").flatMap { ISO8601Timestamp.parse($0) })
            #expect(abs(until.timeIntervalSince(before.addingTimeInterval(3 * 86_400))) < 60)
            let head = try await gw.send(client, .head, "/locked/doc.txt")
            #expect(head.header("x-amz-object-lock-mode") == "GOVERNANCE")

            // Deleting the protected version is refused; a delete marker is fine.
            let delete = try await gw.send(client, .delete, "/locked/doc.txt?versionId=\(versionId)")
            #expect(delete.status == .forbidden)
            #expect(delete.errorCode == "AccessDenied")
            #expect(try await gw.send(client, .delete, "/locked/doc.txt").status == .noContent)
        }
    }

    @Test func retentionExtendShortenAndGovernanceBypass() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/locked", headers: [("x-amz-bucket-object-lock-enabled", "true")])
            // No retention yet.
            _ = try await gw.send(client, .put, "/locked/c.txt", body: Array("c".utf8))
            let missing = try await gw.send(client, .get, "/locked/c.txt?retention=")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "NoSuchObjectLockConfiguration")

            // COMPLIANCE: set, extend, never shorten.
            let day = Date().addingTimeInterval(86_400)
            #expect(try await gw.send(client, .put, "/locked/c.txt?retention=", body: retentionBody("COMPLIANCE", day)).status == .ok)
            let later = day.addingTimeInterval(86_400)
            #expect(try await gw.send(client, .put, "/locked/c.txt?retention=", body: retentionBody("COMPLIANCE", later)).status == .ok)
            let shorten = try await gw.send(client, .put, "/locked/c.txt?retention=", body: retentionBody("COMPLIANCE", day))
            #expect(shorten.status == .forbidden)
            #expect(shorten.errorCode == "AccessDenied")
            let bypassCompliance = try await gw.send(client, .put, "/locked/c.txt?retention=", body: retentionBody("GOVERNANCE", day),
                                                     headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(bypassCompliance.errorCode == "AccessDenied")

            // GOVERNANCE via headers on PUT: shortened only with the bypass header (the test principal is an admin).
            let put = try await gw.send(client, .put, "/locked/g.txt", body: Array("g".utf8), headers: [
                ("x-amz-object-lock-mode", "GOVERNANCE"), ("x-amz-object-lock-retain-until-date", ISO8601Timestamp.format(later)),
            ])
            #expect(put.status == .ok, "\(put.body)")
            let gv = try #require(put.header("x-amz-version-id"))
            #expect(try await gw.send(client, .get, "/locked/g.txt?retention=").xmlValue("Mode") == "GOVERNANCE")
            let noBypass = try await gw.send(client, .put, "/locked/g.txt?retention=", body: retentionBody("GOVERNANCE", day))
            #expect(noBypass.errorCode == "AccessDenied")
            let bypass = try await gw.send(client, .put, "/locked/g.txt?retention=", body: retentionBody("GOVERNANCE", day),
                                           headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(bypass.status == .ok, "\(bypass.body)")
            let removed = try await gw.send(client, .put, "/locked/g.txt?retention=", body: Array("<Retention/>".utf8),
                                            headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(removed.status == .ok, "\(removed.body)")
            #expect(try await gw.send(client, .get, "/locked/g.txt?retention=").errorCode == "NoSuchObjectLockConfiguration")
            #expect(try await gw.send(client, .delete, "/locked/g.txt?versionId=\(gv)").status == .noContent)

            // Lock headers on a bucket without Object Lock are refused.
            _ = try await gw.send(client, .put, "/plain")
            let plain = try await gw.send(client, .put, "/plain/x", body: Array("x".utf8), headers: [
                ("x-amz-object-lock-mode", "GOVERNANCE"), ("x-amz-object-lock-retain-until-date", ISO8601Timestamp.format(later)),
            ])
            #expect(plain.errorCode == "InvalidRequest")
        }
    }

    @Test func legalHoldBlocksVersionDelete() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/locked", headers: [("x-amz-bucket-object-lock-enabled", "true")])
            let put = try await gw.send(client, .put, "/locked/h.txt", body: Array("h".utf8))
            let v = try #require(put.header("x-amz-version-id"))
            #expect(try await gw.send(client, .get, "/locked/h.txt?legal-hold=").xmlValue("Status") == "OFF")
            let on = Array("<LegalHold><Status>ON</Status></LegalHold>".utf8)
            #expect(try await gw.send(client, .put, "/locked/h.txt?legal-hold=", body: on).status == .ok)
            #expect(try await gw.send(client, .get, "/locked/h.txt?legal-hold=").xmlValue("Status") == "ON")
            let refused = try await gw.send(client, .delete, "/locked/h.txt?versionId=\(v)",
                                            headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "AccessDenied")
            let off = Array("<LegalHold><Status>OFF</Status></LegalHold>".utf8)
            #expect(try await gw.send(client, .put, "/locked/h.txt?legal-hold=", body: off).status == .ok)
            #expect(try await gw.send(client, .delete, "/locked/h.txt?versionId=\(v)").status == .noContent)
        }
    }

    @Test func policyImmutabilityIsAFloor() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            // audit-* buckets: compliance 7y by policy (replication.yaml), even without Object Lock on the bucket.
            _ = try await gw.send(client, .put, "/audit-logs")
            let put = try await gw.send(client, .put, "/audit-logs/2025/01.log", body: Array("entry".utf8))
            #expect(put.status == .ok, "\(put.body)")
            let v = try #require(put.header("x-amz-version-id"))
            let r = try await gw.send(client, .get, "/audit-logs/2025/01.log?retention=")
            #expect(r.xmlValue("Mode") == "COMPLIANCE")
            let until = try #require(r.xmlValue("RetainUntilDate").flatMap { ISO8601Timestamp.parse($0) })
            #expect(until > Date().addingTimeInterval(6.9 * 365 * 86_400))

            // Lowering it is refused, naming the policy; an admin's bypass does not help.
            let lower = try await gw.send(client, .put, "/audit-logs/2025/01.log?retention=",
                                          body: retentionBody("GOVERNANCE", Date().addingTimeInterval(86_400)),
                                          headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(lower.status == .forbidden)
            #expect(lower.errorCode == "AccessDenied")
            #expect(lower.body.contains("audit-buckets-immutable"))
            let remove = try await gw.send(client, .put, "/audit-logs/2025/01.log?retention=", body: Array("<Retention/>".utf8),
                                           headers: [("x-amz-bypass-governance-retention", "true")])
            #expect(remove.errorCode == "AccessDenied")
            // Both refusals are counted for the operator.
            #expect(gw.state.metrics.registry.emitToString().contains(#"gateway_policy_refusals_total{operation="PutObjectRetention"} 2"#))
            // Extending is fine.
            let longer = try await gw.send(client, .put, "/audit-logs/2025/01.log?retention=",
                                           body: retentionBody("COMPLIANCE", until.addingTimeInterval(86_400)))
            #expect(longer.status == .ok, "\(longer.body)")
            #expect(try await gw.send(client, .delete, "/audit-logs/2025/01.log?versionId=\(v)").errorCode == "AccessDenied")

            // On a locked bucket, a shorter client/default retention never wins over the floor.
            _ = try await gw.send(client, .put, "/audit-locked", headers: [("x-amz-bucket-object-lock-enabled", "true")])
            let short = try await gw.send(client, .put, "/audit-locked/x", body: Array("x".utf8), headers: [
                ("x-amz-object-lock-mode", "GOVERNANCE"),
                ("x-amz-object-lock-retain-until-date", ISO8601Timestamp.format(Date().addingTimeInterval(86_400))),
            ])
            #expect(short.status == .ok, "\(short.body)")
            let floor = try await gw.send(client, .get, "/audit-locked/x?retention=")
            #expect(floor.xmlValue("Mode") == "COMPLIANCE")
            #expect((floor.xmlValue("RetainUntilDate").flatMap { ISO8601Timestamp.parse($0) } ?? .distantPast) > Date().addingTimeInterval(6.9 * 365 * 86_400))
        }
    }

    @Test func multipartCompletionAppliesLockHeadersAndFloor() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/locked", headers: [("x-amz-bucket-object-lock-enabled", "true")])
            let until = Date().addingTimeInterval(10 * 86_400)
            let created = try await gw.send(client, .post, "/locked/m.bin?uploads=", headers: [
                ("x-amz-object-lock-mode", "COMPLIANCE"), ("x-amz-object-lock-retain-until-date", ISO8601Timestamp.format(until)),
                ("x-amz-object-lock-legal-hold", "ON"),
            ])
            let id = try #require(created.xmlValue("UploadId"))
            let part = try await gw.send(client, .put, "/locked/m.bin?partNumber=1&uploadId=\(id)", body: Array("abc".utf8))
            let etag = try #require(part.header("etag"))
            let done = try await gw.send(client, .post, "/locked/m.bin?uploadId=\(id)", body: completeBody([(1, etag)]))
            #expect(done.status == .ok, "\(done.body)")
            let head = try await gw.send(client, .head, "/locked/m.bin")
            #expect(head.header("x-amz-object-lock-mode") == "COMPLIANCE")
            #expect(head.header("x-amz-object-lock-legal-hold") == "ON")
            #expect(head.header("etag")?.hasSuffix("-1\"") == true)
        }
    }
}
