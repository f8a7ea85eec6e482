import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import PolicyEngine
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// After a reload narrows where objects may live, copies in zones no longer allowed are made
/// anew where they are allowed and only then removed; nothing new goes to a zone the policies
/// in force refuse.
@Suite("Drift remediation")
struct DriftRemediationTests {
    static let (st, uc, hz) = ("FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1")

    /// Two copies, Helsinki's ST and HZ zones only (UC is no longer allowed).
    static func narrow(_ dir: String) throws {
        try PolicyReloadTests.writePolicies(
            dir, residency: "match: {}\nallow: { countries: [FI], zones: [\(st), \(hz)] }", name: "finland-st-hz",
            replication: "copies: 2\nwriteQuorum: 2\nplacement: ordered\nprefer: [\(st), \(hz)]", replicationName: "two-copies")
    }

    func remediate(_ gw: TestGateway, _ query: String = "bucket=docs") async throws -> [String: Any] {
        let result = Mutex<(HTTPResponse.Status, Data)>((.ok, Data()))
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/api/residency/remediate?" + query, method: .post) { r in
                result.withLock { $0 = (r.status, Data(r.body.readableBytesView)) }
            }
        }
        let (status, body) = result.withLock { $0 }
        #expect(status == .ok, "\(String(decoding: body, as: UTF8.self))")
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    func zones(_ gw: TestGateway, _ key: String) async throws -> [String: ReplicaStatus] {
        let version = try #require(try await gw.store.latestVersion(bucket: "docs", key: key))
        return Dictionary(uniqueKeysWithValues: try await gw.store.replicas(storageId: version.storageId).map { ($0.zone, $0.status) })
    }

    func contents(_ gw: TestGateway, _ key: String, in zone: String) throws -> String? {
        guard let name = gw.files(in: zone).first(where: { $0.hasPrefix("docs/\(key).") }) else { return nil }
        return try String(contentsOfFile: gw.directory + "/zones/" + zone + "/2025-datatransfer/" + name, encoding: .utf8)
    }

    @Test func copiesMoveToAllowedZonesAndOnlyThenLeave() async throws {
        let (gw, dir) = try await ReplicaVerifierTests.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let worker = ReplicationWorker(state: gw.state)
        try Self.narrow(dir)
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)

        // A dry run says what would happen and changes nothing.
        let dry = try await remediate(gw, "bucket=docs&dry_run=true")
        #expect(dry["dry_run"] as? Bool == true)
        #expect(dry["versions_checked"] as? Int == 2 && dry["versions_with_drift"] as? Int == 2)
        #expect(dry["copies_outside_current_policies"] as? Int == 2)
        #expect(dry["copies_queued"] as? Int == 2 && dry["copies_retired"] as? Int == 0)
        let steps = try #require(dry["steps"] as? [[String: Any]])
        #expect(steps.map { $0["action"] as? String } == ["copy", "copy"])
        #expect(steps.allSatisfy { $0["zone"] as? String == Self.uc && $0["new_zones"] as? [String] == [Self.hz] })
        #expect(try await gw.store.jobCounts(now: Date()).queued == 0)
        #expect(try await zones(gw, "a.txt") == [Self.st: .complete, Self.uc: .complete])

        // First run: the new copies are queued, the old ones stay.
        let first = try await remediate(gw)
        #expect(first["copies_queued"] as? Int == 2 && first["copies_waiting"] as? Int == 2)
        #expect(first["copies_retired"] as? Int == 0)
        #expect(try await zones(gw, "a.txt") == [Self.st: .complete, Self.uc: .complete, Self.hz: .pending])
        // Again before they are made: nothing more is queued, nothing is retired.
        let again = try await remediate(gw)
        #expect(again["copies_queued"] as? Int == 0 && again["copies_retired"] as? Int == 0 && again["copies_waiting"] as? Int == 2)
        #expect(try await worker.runOnce() == 2)
        #expect(try contents(gw, "a.txt", in: Self.hz) == "first object")

        // Second run: the copies outside are retired, then deleted by the worker.
        let second = try await remediate(gw)
        #expect(second["copies_retired"] as? Int == 2 && second["copies_waiting"] as? Int == 0)
        #expect(try await zones(gw, "a.txt") == [Self.st: .complete, Self.uc: .deleting, Self.hz: .complete])
        #expect(try await worker.runOnce() == 2)
        #expect(gw.files(in: Self.uc).isEmpty)
        #expect(try await zones(gw, "b.txt") == [Self.st: .complete, Self.hz: .complete])
        #expect(try contents(gw, "b.txt", in: Self.st) == "second" && contents(gw, "b.txt", in: Self.hz) == "second")

        // Nothing is left to do, the report shows no drift, and the log says what moved.
        let done = try await remediate(gw)
        #expect(done["versions_with_drift"] as? Int == 0 && done["copies_outside_current_policies"] as? Int == 0)
        let log = try await gw.store.queryLog(OperationLogQuery(limit: 20, operation: "RemediateResidency"))
        #expect(log.count == 4)
        #expect(log.filter { $0.zones == [Self.uc] }.count == 2)
        #expect(log.allSatisfy { $0.policySetHash == gw.state.policies.policySetHash && $0.principal == "admin" })
        #expect(log.contains { $0.detail?.contains("copy retired: outside the policies in force") == true })
        // The objects read as before.
        try await gw.withClient { client in
            try await client.execute(uri: "/docs/a.txt", method: .get, headers: gw.signed("GET", "/docs/a.txt")) { r in
                #expect(r.status == .ok && r.body.text == "first object")
            }
        }
    }

    /// After the reload, a copy queued earlier for a zone now refused is not made, and repairs
    /// go to allowed zones only.
    @Test func noNewCopyGoesToAZoneThePoliciesNowRefuse() async throws {
        let (gw, dir) = try await ReplicaVerifierTests.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let version = try #require(try await gw.store.latestVersion(bucket: "docs", key: "a.txt"))
        // UC's copy is lost before the reload, and its repair is queued.
        try FileManager.default.removeItem(atPath: try ReplicaVerifierTests.copy(of: "a.txt", in: Self.uc, gw))
        #expect(try await gw.store.markReplicaLost(storageId: version.storageId, zone: Self.uc, reason: "gone", now: Date()))
        #expect(try await gw.store.requeueReplicas(storageId: version.storageId, zones: [Self.uc], copies: 2, now: Date()).count == 1)
        try Self.narrow(dir)
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)

        // The worker refuses that job for good; nothing is written to UC.
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 0)
        #expect(gw.files(in: Self.uc).filter { $0.hasPrefix("docs/a.txt.") }.isEmpty)
        let refused = try #require(try await gw.store.replicas(storageId: version.storageId).first { $0.zone == Self.uc })
        #expect(refused.status == .failed)
        #expect(refused.lastError?.contains("do not allow zone \(Self.uc)") == true)

        // The reconciler's repair goes to the allowed zone instead.
        #expect(try await Reconciler(state: gw.state).reconcileOnce().requeuedJobs == 1)
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        #expect(try contents(gw, "a.txt", in: Self.hz) == "first object")

        // Verification too: b's copy in ST is lost, and is made again in ST (allowed), not UC.
        let b = try #require(try await gw.store.latestVersion(bucket: "docs", key: "b.txt"))
        try FileManager.default.removeItem(atPath: try ReplicaVerifierTests.copy(of: "b.txt", in: Self.st, gw))
        _ = try await ReplicaVerifier(state: gw.state, rate: 0).verifyOnce()
        let jobs = try await gw.store.claimJobs(worker: "t", limit: 10, now: Date().addingTimeInterval(120), leaseSeconds: 60)
        #expect(jobs.filter { $0.storageId == b.storageId }.map(\.zone).sorted() == [Self.hz, Self.st].sorted())
    }

    @Test func lockedVersionsAndUnplaceableObjectsKeepTheirCopies() async throws {
        let (gw, dir) = try await ReplicaVerifierTests.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let a = try #require(try await gw.store.latestVersion(bucket: "docs", key: "a.txt"))
        _ = try await gw.store.updateLegalHold(bucket: "docs", key: "a.txt", versionId: a.versionId, legalHold: true)
        try Self.narrow(dir)
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)
        _ = try await remediate(gw)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 2)
        let report = try await remediate(gw)
        #expect(report["copies_retired"] as? Int == 1 && report["copies_held"] as? Int == 1)
        let held = try #require((report["steps"] as? [[String: Any]])?.first { $0["action"] as? String == "held" })
        #expect(held["key"] as? String == "a.txt")
        #expect((held["detail"] as? String)?.contains("legal hold") == true)
        #expect(try await zones(gw, "a.txt")[Self.uc] == .complete)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 1)

        // Policies that no longer place the bucket's objects anywhere (no residency policy
        // matches them): every copy stays, nothing is queued.
        try PolicyReloadTests.writePolicies(dir, residency: "match: { buckets: [other] }\nallow: { countries: [FI], zones: [\(Self.st)] }",
                                            name: "other-only", replication: "copies: 1", replicationName: "one-copy")
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)
        let stuck = try await remediate(gw)
        #expect(stuck["versions_unplaceable"] as? Int == 2 && stuck["copies_queued"] as? Int == 0)
        #expect(stuck["copies_retired"] as? Int == 0 && stuck["copies_outside_current_policies"] as? Int == 5)
        let why = try #require((stuck["steps"] as? [[String: Any]])?.first?["detail"] as? String)
        #expect(why.contains("refuse the object") && why.contains("no residency policy"), "\(why)")
        #expect(try await gw.store.jobCounts(now: Date()).queued == 0)
        #expect(try await zones(gw, "a.txt").values.allSatisfy { $0 == .complete })
    }

    /// The background passes do the same on their own, one instance at a time, and say what
    /// they did in the metrics.
    @Test func remediationPassesMoveCopiesOnTheirOwn() async throws {
        let (gw, dir) = try await ReplicaVerifierTests.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        try Self.narrow(dir)
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)
        let clock = Mutex(Date())
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let remediator = DriftRemediator(state: gw.state, interval: .seconds(300))
        let other = DriftRemediator(state: gw.state, interval: .seconds(300))

        let first = try #require(try await remediator.runIfDue(now: now))
        #expect(first.copiesOutside == 2 && first.copiesQueued == 2 && first.copiesRetired == 0)
        // Not due again before the interval, here or on another instance.
        #expect(try await remediator.runIfDue(now: now) == nil)
        #expect(try await other.runIfDue(now: now) == nil)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 2)

        clock.withLock { $0 = $0.addingTimeInterval(301) }
        let second = try #require(try await other.runIfDue(now: now))
        #expect(second.copiesRetired == 2 && second.copiesWaiting == 0)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 2)
        #expect(gw.files(in: Self.uc).isEmpty)
        let log = try await gw.store.queryLog(OperationLogQuery(limit: 10, operation: "RemediateResidency"))
        #expect(log.count == 4 && log.allSatisfy { $0.principal == "remediator" })

        let text = gw.state.metricsRegistry.emitToString()
        #expect(text.contains(#"gateway_remediation_copies_total{action="queued"} 2"#))
        #expect(text.contains(#"gateway_remediation_copies_total{action="retired"} 2"#))
        #expect(text.contains(#"gateway_drift_copies{state="outside"} 2"#))
        clock.withLock { $0 = $0.addingTimeInterval(301) }
        #expect(try await remediator.runIfDue(now: now)?.copiesOutside == 0)
        #expect(gw.state.metricsRegistry.emitToString().contains(#"gateway_drift_copies{state="outside"} 0"#))
    }

    @Test func badRequestsAreRefused() async throws {
        let (gw, dir) = try await ReplicaVerifierTests.gatewayWithObjects()
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        for (query, status) in [("bucket=nope", HTTPResponse.Status.notFound), ("bucket=docs&dry_run=maybe", .badRequest)] {
            try await gw.withManagementClient { client in
                try await client.execute(uri: "/api/residency/remediate?" + query, method: .post) { r in #expect(r.status == status) }
                // Reading is not acting.
                try await client.execute(uri: "/api/residency/remediate?bucket=docs", method: .get) { r in #expect(r.status == .notFound) }
            }
        }
        // Without a bucket: every bucket; with nothing to do, nothing is done.
        let all = try await remediate(gw, "")
        #expect(all["versions_checked"] as? Int == 2 && all["versions_with_drift"] as? Int == 0)
    }
}
