import Foundation
import HTTPTypes
import Metadata
import PolicyEngine
import Synchronization
import Testing

@testable import Gateway

/// A reload on one gateway instance reaches the others on the same metadata store. The
/// transport here is an in-process hub with the semantics of PostgreSQL's `NOTIFY` (every
/// listener, the announcer's own included, gets every announcement in order); the PostgreSQL
/// transport itself is tested in `PostgresAnnouncementTests`, and both together by the
/// fault suite's two-gateway test.
@Suite("Policy reload announcements, router level")
struct PolicyAnnouncementTests {
    final class Hub: PolicySetAnnouncer {
        private struct State {
            var announced: [String] = []
            var listeners: [UInt64: @Sendable (String) async -> Void] = [:]
            var next: UInt64 = 0
        }
        private let state = Mutex(State())

        var announced: [String] { state.withLock { $0.announced } }
        var listenerCount: Int { state.withLock { $0.listeners.count } }

        func announcePolicySet(hash: String) async throws {
            let listeners = state.withLock { state in
                state.announced.append(hash)
                return state.listeners.sorted { $0.key < $1.key }.map(\.value)
            }
            for listener in listeners { await listener(hash) }
        }

        func listenForPolicySets(listening: @escaping @Sendable () async -> Void,
                                 received: @escaping @Sendable (String) async -> Void) async throws {
            let id = state.withLock { state in
                defer { state.next += 1 }
                state.listeners[state.next] = received
                return state.next
            }
            await listening()
            try? await Task.sleep(for: .seconds(3600))
            _ = state.withLock { $0.listeners.removeValue(forKey: id) }
        }
    }

    /// `gw` with `hub` as its announcer (its own state, store and folders otherwise).
    static func announcing(_ gw: TestGateway, to hub: Hub) -> TestGateway {
        let s = gw.state
        let state = GatewayState(configuration: s.configuration, store: s.store, policies: s.policies,
                                 policyDiagnostics: s.policyDiagnostics, backends: s.backends,
                                 backendDefinitions: s.backendDefinitions, credentials: s.credentials, logger: s.logger,
                                 announcer: hub)
        state.startup.open()
        return TestGateway(directory: gw.directory, state: state, store: gw.store)
    }

    /// Two instances, each with its own copy of the policy files. The operator deploys new
    /// files to both and reloads one: the other follows, and nothing is announced twice.
    @Test func aReloadOnOneInstanceReachesTheOther() async throws {
        let hub = Hub()
        // Each instance's files in a folder `policies` of its own, as on two machines.
        let (firstBase, secondBase) = (NSTemporaryDirectory() + "instance-" + UUID().uuidString,
                                       NSTemporaryDirectory() + "instance-" + UUID().uuidString)
        let (firstDir, secondDir) = (firstBase + "/policies", secondBase + "/policies")
        try PolicyReloadTests.writePolicies(firstDir, zone: "FI-HEL-ST-1")
        try PolicyReloadTests.writePolicies(secondDir, zone: "FI-HEL-ST-1")
        let first = try await TestGateway.make(policies: firstDir)
        let second = try await TestGateway.make(policies: secondDir)
        defer {
            first.cleanUp(); second.cleanUp()
            try? FileManager.default.removeItem(atPath: firstBase)
            try? FileManager.default.removeItem(atPath: secondBase)
        }
        let one = Self.announcing(first, to: hub), two = Self.announcing(second, to: hub)
        let oldHash = one.state.policies.policySetHash
        #expect(two.state.policies.policySetHash == oldHash)
        let listeners = [one, two].map { gw in
            Task { try await PolicyAnnouncementListener(state: gw.state, announcer: hub).run() }
        }
        defer { for listener in listeners { listener.cancel() } }
        try await Self.waitUntil { hub.listenerCount == 2 }

        try PolicyReloadTests.writePolicies(firstDir, zone: "FI-HEL-HZ-1")
        try PolicyReloadTests.writePolicies(secondDir, zone: "FI-HEL-HZ-1")
        let result = await one.state.reloadPolicies(trigger: "test")
        #expect(result.reloaded)
        let newHash = result.policySetHash
        #expect(newHash != oldHash)
        try await Self.waitUntil { two.state.policies.policySetHash == newHash }
        #expect(two.state.policies.policySetHash == newHash)
        #expect(two.planned("data", "a.txt") == ["FI-HEL-HZ-1"])
        // The second instance's reload, made because of the announcement, is not announced.
        #expect(hub.announced == [newHash])
        // /api/policies says what the instance heard, and that it is in force there.
        try await two.withManagementClient { admin in
            let policies = try await PolicyReloadTests.call(admin, .get, "/api/policies")
            let announcements = try #require(policies.object["announcements"] as? [String: Any])
            #expect(announcements["listening"] as? Bool == true)
            #expect(announcements["lastAnnounced"] as? String == newHash)
            #expect(announcements["inForceHere"] as? Bool == true)
        }
    }

    /// An instance whose files give another set than the one announced keeps its own (it
    /// cannot enforce a set it does not have), and an announcement of the set already in
    /// force changes nothing.
    @Test func anInstanceWithOtherFilesKeepsItsOwnSet() async throws {
        let hub = Hub()
        let (gw, dir) = try await PolicyReloadTests.makeGateway(zone: "FI-HEL-ST-1")
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let one = Self.announcing(gw, to: hub)
        let inForce = one.state.policies.policySetHash

        // Files changed, but the announced set is the one in force: no reload.
        try PolicyReloadTests.writePolicies(dir, zone: "FI-HEL-HZ-1")
        await one.state.policySetAnnounced(inForce)
        #expect(one.state.policies.policySetHash == inForce)

        // Another set announced: the instance reloads its files, which give a third set.
        await one.state.policySetAnnounced("sha256:not-the-files-here")
        let reloaded = one.state.policies.policySetHash
        #expect(reloaded != inForce)
        #expect(reloaded != "sha256:not-the-files-here")
        #expect(one.planned("data", "a.txt") == ["FI-HEL-HZ-1"])
        #expect(hub.announced.isEmpty)
        try await one.withManagementClient { admin in
            let announcements = try await PolicyReloadTests.call(admin, .get, "/api/policies").object["announcements"] as? [String: Any]
            #expect(announcements?["lastAnnounced"] as? String == "sha256:not-the-files-here")
            #expect(announcements?["inForceHere"] as? Bool == false)
        }
        // A store of one instance announces nothing, and says so.
        try await gw.withManagementClient { admin in
            let policies = try await PolicyReloadTests.call(admin, .get, "/api/policies")
            #expect(policies.object["announcements"] is NSNull)
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
