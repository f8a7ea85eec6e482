import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// Copies that vanish from a zone behind the gateway's back are found by verification, made
/// again from a good copy, and a version with no copy left is reported.
@Suite("Replica verification")
struct ReplicaVerifierTests {
    /// Two copies in Finland, both written synchronously.
    static func writeTwoCopies(_ dir: String) throws {
        try PolicyReloadTests.writePolicies(dir, residency: "match: {}\nallow: { countries: [FI] }", name: "finland",
                                            replication: "copies: 2\nwriteQuorum: 2\nplacement: ordered\nprefer: [FI-HEL-ST-1, FI-HEL-UC-1]",
                                            replicationName: "two-copies")
    }

    /// A gateway with `/docs/a.txt` (and `/docs/b.txt`) stored twice; returns it and its
    /// policy folder.
    static func gatewayWithObjects() async throws -> (TestGateway, String) {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try writeTwoCopies(dir)
        let gw = try await TestGateway.make(policies: dir)
        try await gw.withClient { client in
            try await client.execute(uri: "/docs", method: .put, headers: gw.signed("PUT", "/docs")) { _ in }
            for (key, body) in [("a.txt", "first object"), ("b.txt", "second")] {
                try await client.execute(uri: "/docs/\(key)", method: .put,
                                         headers: gw.signed("PUT", "/docs/\(key)", body: Array(body.utf8)),
                                         body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .ok, "\(r.body.text)")
                }
            }
        }
        return (gw, dir)
    }

    /// The path of `key`'s copy in a local-disk zone.
    static func copy(of key: String, in zone: String, _ gw: TestGateway) throws -> String {
        let name = try #require(gw.files(in: zone).first { $0.hasPrefix("docs/\(key).") })
        return gw.directory + "/zones/" + zone + "/2025-datatransfer/" + name
    }

    func replicas(_ gw: TestGateway, _ key: String) async throws -> [Replica] {
        let version = try #require(try await gw.store.latestVersion(bucket: "docs", key: key))
        return try await gw.store.replicas(storageId: version.storageId)
    }

    @Test func aMissingCopyIsFoundAndMadeAgainFromTheOtherZone() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let verifier = ReplicaVerifier(state: gw.state, rate: 0)
        // No pass yet: no timestamp (an alert on its age must not fire on a new gateway).
        #expect(!gw.state.metricsRegistry.emitToString().contains("gateway_verify_last_pass_timestamp_seconds"))
        #expect(try await verifier.verifyOnce() == .init(checked: 4))
        let stamp = gw.state.metricsRegistry.emitToString().split(separator: "\n")
            .first { $0.hasPrefix("gateway_verify_last_pass_timestamp_seconds ") }
            .flatMap { Double($0.split(separator: " ")[1]) }
        #expect(abs((stamp ?? 0) - Date().timeIntervalSince1970) < 60)

        // Someone removes a's copy from the second zone.
        let path = try Self.copy(of: "a.txt", in: "FI-HEL-UC-1", gw)
        try FileManager.default.removeItem(atPath: path)
        #expect(try await verifier.verifyOnce() == .init(checked: 4, lost: 1))
        let lost = try #require(try await replicas(gw, "a.txt").first { $0.zone == "FI-HEL-UC-1" })
        #expect(lost.status == .pending)
        #expect(lost.lastError == "verification found no object in the zone")
        #expect(try await gw.store.jobCounts(now: Date()).queued == 1)
        #expect(try await replicas(gw, "b.txt").allSatisfy { $0.status == .complete })

        // The copy is queued at once (the reconciler has nothing left to queue); the worker
        // makes it from the first zone.
        #expect(try await Reconciler(state: gw.state).reconcileOnce().requeuedJobs == 0)
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first object")
        #expect(try await replicas(gw, "a.txt").allSatisfy { $0.status == .complete })
        #expect(try await verifier.verifyOnce() == .init(checked: 4))

        let text = gw.state.metricsRegistry.emitToString()
        #expect(text.contains(#"gateway_verify_replicas_lost_total{zone="FI-HEL-UC-1"} 1"#))
        #expect(text.contains("gateway_verify_replicas_checked_total 12"))
        #expect(text.contains("gateway_verify_versions_without_copy_total 0"))
    }

    @Test func aCopyOfAnotherSizeIsLostToo() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        try "first".write(toFile: try Self.copy(of: "a.txt", in: "FI-HEL-ST-1", gw), atomically: false, encoding: .utf8)
        #expect(try await ReplicaVerifier(state: gw.state, rate: 0).verifyOnce() == .init(checked: 4, lost: 1))
        let lost = try #require(try await replicas(gw, "a.txt").first { $0.zone == "FI-HEL-ST-1" })
        #expect(lost.status == .pending)
        #expect(lost.lastError == "verification found 5 bytes in the zone; 12 were written")
    }

    /// `/health`'s `verification`.
    func healthVerification(_ gw: TestGateway) async throws -> [String: Any] {
        let body = Mutex(Data())
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { r in body.withLock { $0 = Data(r.body.readableBytesView) } }
        }
        let health = try JSONSerialization.jsonObject(with: body.withLock { $0 }) as? [String: Any]
        return try #require(health?["verification"] as? [String: Any])
    }

    @Test func aVersionWithNoCopyLeftIsReported() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(try await healthVerification(gw)["lastPass"] is NSNull)
        for zone in ["FI-HEL-ST-1", "FI-HEL-UC-1"] {
            try FileManager.default.removeItem(atPath: try Self.copy(of: "b.txt", in: zone, gw))
        }
        let report = try await ReplicaVerifier(state: gw.state, rate: 0).verifyOnce()
        #expect(report == .init(checked: 4, lost: 2, withoutCopy: 1))
        let health = try await healthVerification(gw)
        #expect(health["intervalSeconds"] as? Int == 86400)
        let last = try #require(health["lastPass"] as? [String: Any])
        #expect(last["checked"] as? Int == 4 && last["lost"] as? Int == 2 && last["withoutCopy"] as? Int == 1)
        #expect(gw.state.metricsRegistry.emitToString().contains("gateway_verify_versions_without_copy_total 1"))
        // Nothing to copy from: the reconciler queues nothing, and the loss stays visible.
        #expect(try await Reconciler(state: gw.state).reconcileOnce().requeuedJobs == 0)
        #expect(try await replicas(gw, "b.txt").allSatisfy { $0.status == .pending && $0.lastError != nil })
    }

    /// A zone that is down is not judged: its copies stay complete.
    @Test func aZoneThatIsDownIsSkipped() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: try Self.copy(of: "a.txt", in: "FI-HEL-UC-1", gw))
        gw.state.setHealth("FI-HEL-UC-1", false)
        #expect(try await ReplicaVerifier(state: gw.state, rate: 0).verifyOnce() == .init(checked: 2, skipped: 2))
        #expect(try await replicas(gw, "a.txt").allSatisfy { $0.status == .complete })
    }

    /// Pages of the walk follow one another without skipping or repeating a replica, and the
    /// rate spaces the checks out.
    @Test func theWalkPagesThroughEveryReplicaAtTheRate() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        var verifier = ReplicaVerifier(state: gw.state, rate: 20)
        verifier.batchSize = 1
        let started = ContinuousClock.now
        #expect(try await verifier.verifyOnce() == .init(checked: 4))
        // Four checks at 20 a second: the last starts 0.15 s after the first.
        #expect(ContinuousClock.now - started >= .milliseconds(150))
        var seen: [ReplicaCursor] = []
        var cursor: ReplicaCursor?
        while let next = try await gw.store.completeReplicas(after: cursor, limit: 1).first {
            seen.append(ReplicaCursor(next))
            cursor = ReplicaCursor(next)
        }
        #expect(seen.count == 4 && Set(seen).count == 4)
    }

    /// Instances sharing a store share the work: a pass is due an interval after the last one
    /// ended anywhere, and one instance runs it.
    @Test func aPassIsDueForAllInstancesOnceAnInterval() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let first = ReplicaVerifier(state: gw.state, rate: 0)
        let second = ReplicaVerifier(state: gw.state, rate: 0)
        #expect(first.holder != second.holder)
        #expect(try await first.runIfDue() == .init(checked: 4))
        #expect(try await second.runIfDue() == nil)
        #expect(try await first.runIfDue() == nil)
        let tomorrow = Date().addingTimeInterval(86_401)
        #expect(try await second.runIfDue(now: { tomorrow }) == .init(checked: 4))
    }

    /// A pass whose lease cannot be renewed stops.
    @Test func aPassThatLosesItsLeaseStops() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let verifier = ReplicaVerifier(state: gw.state, rate: 0)
        await #expect(throws: SharedServiceRun.LeaseLost.self) {
            _ = try await verifier.verifyOnce(renew: { throw SharedServiceRun.LeaseLost(name: "verification") })
        }
    }

    /// A run whose lease ran out while it was busy, and that another instance took over, ends
    /// at its next renewal and does not mark the run finished.
    @Test func aSharedRunTakenOverEndsAtItsNextRenewal() async throws {
        let (gw, dir) = try await Self.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let clock = Mutex(Date())
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let slow = SharedServiceRun(store: gw.store, name: "work", holder: "a", lease: 0.3, interval: .seconds(3600))
        await #expect(throws: SharedServiceRun.LeaseLost.self) {
            _ = try await slow.runIfDue(now: now) { renew in
                try await renew()   // too soon to renew: nothing asked
                try await Task.sleep(for: .milliseconds(150))
                clock.withLock { $0 = $0.addingTimeInterval(1) }
                #expect(try await gw.store.claimServiceRun(name: "work", holder: "b", now: now(), lease: 60, interval: 3600))
                try await renew()
                Issue.record("the renewal of a lost lease went through")
            }
        }
        // Still b's: a's run neither renewed nor finished it.
        #expect(try await gw.store.renewServiceRun(name: "work", holder: "b", now: now(), lease: 60))
    }
}
