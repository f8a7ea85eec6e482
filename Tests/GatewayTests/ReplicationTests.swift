import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import PolicyEngine
import Synchronization
import Testing

@testable import Gateway

@Suite("Replication status, late jobs and read failover")
struct ReplicationTests {
    @Test func replicationStatusFollowsTheCopies() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/status.txt"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            gw.state.setHealth(planned[1], false)
            gw.state.setHealth("FI-HEL-HZ-1", false)
            #expect(try await gw.put(client, "/data/\(key)", Array("copy me".utf8)).status == .ok)
            for method in [HTTPRequest.Method.get, .head] {
                let r = try await gw.get(client, "/data/\(key)", method: method)
                #expect(r.status == .ok)
                #expect(r.header("x-amz-replication-status") == "PENDING")
                #expect(r.header("x-gateway-replicas") == "\(planned[0])=COMPLETED,\(planned[1])=PENDING")
            }
        }
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        try await gw.withClient { client in
            let r = try await gw.get(client, "/data/\(key)", method: .head)
            #expect(r.header("x-amz-replication-status") == "COMPLETED")
            #expect(r.header("x-gateway-replicas") == "\(planned[0])=COMPLETED,\(planned[1])=COMPLETED")
            // A write quorum equal to the copies is complete at once.
            #expect(try await gw.put(client, "/data/personal/p.txt", Array("p".utf8)).status == .ok)
            let p = try await gw.get(client, "/data/personal/p.txt")
            #expect(p.header("x-amz-replication-status") == "COMPLETED")
            #expect(p.header("x-gateway-replicas")?.split(separator: ",").count == 2)
        }
    }

    /// `/api/replicas/status?bucket=&key=` reports one object's copies, complete or not, with
    /// where each zone is.
    @Test func theStatusOfOneObjectListsItsReplicas() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/one.txt"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        func status(_ query: String) async throws -> (HTTPResponse.Status, [String: Any]) {
            let reply = Mutex<(HTTPResponse.Status, Data)>((.ok, Data()))
            try await gw.withManagementClient { admin in
                let r = try await admin.execute(uri: "/api/replicas/status?" + query, method: .get) { r in
                    (r.status, Data(r.body.readableBytesView))
                }
                reply.withLock { $0 = r }
            }
            let (code, data) = reply.withLock { $0 }
            return (code, try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
        }
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            gw.state.setHealth(planned[1], false)
            gw.state.setHealth("FI-HEL-HZ-1", false)
            #expect(try await gw.put(client, "/data/\(key)", Array("copy me".utf8)).status == .ok)
        }
        let (code, pending) = try await status("bucket=data&key=\(key)")
        #expect(code == .ok)
        #expect(pending["sync_status"] as? String == "pending")
        #expect(pending["required_copies"] as? Int == 2 && pending["complete_copies"] as? Int == 1)
        let replicas = try #require(pending["replicas"] as? [[String: Any]])
        #expect(replicas.map { $0["zone"] as? String } == planned)
        #expect(replicas.map { $0["status"] as? String } == ["complete", "pending"])
        let zone = try #require(gw.state.policies.catalog.zone(planned[0]))
        #expect(replicas[0]["provider"] as? String == zone.providerName && replicas[0]["country"] as? String == zone.countryCode)

        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        let synced = try await status("bucket=data&key=\(key)&versionId=\(try #require(pending["version_id"] as? String))")
        #expect(synced.1["sync_status"] as? String == "synced")
        #expect(synced.1["complete_copies"] as? Int == 2)
        #expect(try await status("bucket=data&key=docs/none.txt").0 == .notFound)
    }

    /// Copies above the worker's threshold go through the target's multipart API (S3 takes at
    /// most 5 GiB in one PUT); the copy is byte-identical.
    @Test func largeCopiesAreWrittenInParts() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/large.bin"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let body = (0..<(11 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            #expect(try await gw.put(client, "/data/\(key)", body).status == .ok)
        }
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        var worker = ReplicationWorker(state: gw.state)
        worker.multipartThreshold = 1024 * 1024
        worker.multipartPartSize = 5 * 1024 * 1024
        #expect(try await worker.runOnce(now: Date().addingTimeInterval(120)) == 1)
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        let copy = try #require(try await gw.store.replicas(storageId: version.storageId).first { $0.zone == planned[1] })
        #expect(copy.status == .complete)
        #expect(copy.etag?.hasSuffix("-3") == true, "a copy in three parts: \(copy.etag ?? "no ETag")")
        let target = try #require(gw.state.backends[planned[1]])
        #expect(try await collect(target.read(key: copy.backendKey, range: nil)) == body)
    }

    @Test func lateJobIsReportedOnceAndCounted() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/late.txt"
        let planned = gw.planned("data", key)
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            #expect(try await gw.put(client, "/data/\(key)", Array("late".utf8)).status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        let deadline = try #require(version.placement.replicationDeadline)
        let monitor = ReplicationWorker(state: gw.state).lateJobs
        // Before the policy's replicationDeadline (1h) nothing is late.
        #expect(try await monitor.check(now: deadline.addingTimeInterval(-60)).isEmpty)
        let late = try await monitor.check(now: deadline.addingTimeInterval(60))
        #expect(late.map(\.zone) == [planned[1]])
        #expect(late.first?.storageId == version.storageId)
        // Reported once, still counted by the gauge.
        #expect(try await monitor.check(now: deadline.addingTimeInterval(120)).isEmpty)
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = r.body.text
                #expect(text.contains("gateway_replication_jobs_late 1"), "\(text)")
                #expect(text.contains("gateway_replication_jobs_late_total 1"), "\(text)")
            }
        }
        // Once the copy exists the job is no longer late.
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: deadline.addingTimeInterval(180)) == 1)
        #expect(try await monitor.check(now: deadline.addingTimeInterval(240)).isEmpty)
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.body.text.contains("gateway_replication_jobs_late 0"))
                #expect(r.body.text.contains("gateway_replication_jobs_late_total 1"))
            }
        }
    }

    @Test func readFailsOverToTheNextCompleteReplica() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "personal/failover.bin"
        let planned = gw.planned("hr-data", key)
        try #require(planned.count == 2)
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await gw.withClient { client in
            try await gw.createBucket(client, "hr-data")
            #expect(try await gw.put(client, "/hr-data/\(key)", body).status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "hr-data", key: key))
        let backendKey = WriteIntent.backendKey(bucket: "hr-data", key: key, storageId: version.storageId)

        // The first zone in plan order lost its copy: the read goes to the next, byte-identical.
        let first = gw.file(zone: planned[0], key: backendKey)
        let saved = try #require(FileManager.default.contents(atPath: first))
        try FileManager.default.removeItem(atPath: first)
        try await gw.withClient { client in
            let r = try await gw.get(client, "/hr-data/\(key)")
            #expect(r.status == .ok)
            #expect(Array(r.body.readableBytesView) == body)
            let ranged = try await gw.get(client, "/hr-data/\(key)", range: "bytes=1000-1999")
            #expect(ranged.status == .partialContent)
            #expect(Array(ranged.body.readableBytesView) == Array(body[1000...1999]))
        }
        try saved.write(to: URL(fileURLWithPath: first))

        // The first zone is down (its requests fail): same result, and its breaker counts it.
        let flaky = FlakyBackend(gw.state.backends[planned[0]]!)
        flaky.set(failReads: true)
        let degraded = gw.replacing([planned[0]: flaky])
        try await degraded.withClient { client in
            for _ in 0..<3 {
                let r = try await degraded.get(client, "/hr-data/\(key)")
                #expect(r.status == .ok && Array(r.body.readableBytesView) == body)
            }
        }
        #expect(flaky.readsStarted == 3)
        #expect(degraded.state.health.snapshot[planned[0]]?.state == .open)
        // With its breaker open the zone is not asked at all.
        try await degraded.withClient { client in
            let r = try await degraded.get(client, "/hr-data/\(key)")
            #expect(Array(r.body.readableBytesView) == body)
        }
        #expect(flaky.readsStarted == 3)

        // No replica readable: 503, before any byte is sent.
        let second = FlakyBackend(gw.state.backends[planned[1]]!)
        second.set(failReads: true)
        let down = gw.replacing([planned[0]: flaky, planned[1]: second])
        try await down.withClient { client in
            let r = try await down.get(client, "/hr-data/\(key)")
            #expect(r.status == .serviceUnavailable)
            #expect(r.errorCode == "ServiceUnavailable")
        }
    }
}
