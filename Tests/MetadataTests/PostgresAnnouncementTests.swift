import Foundation
import Synchronization
import Testing

@testable import Metadata

/// Policy-set announcements between gateway instances through `LISTEN`/`NOTIFY`.
@Suite(
    "PostgreSQL policy-set announcements",
    .enabled(if: PostgresTestEnvironment.shouldRun, "set POSTGRES_TEST_URL (scripts/postgres.sh start DIR)")
)
struct PostgresAnnouncementTests {
    /// Hashes received by a listener, and a way to wait for them.
    final class Inbox: Sendable {
        private let received = Mutex<[String]>([])
        private let listening = Mutex(false)

        func markListening() { listening.withLock { $0 = true } }
        func append(_ hash: String) { received.withLock { $0.append(hash) } }
        var hashes: [String] { received.withLock { $0 } }
        var isListening: Bool { listening.withLock { $0 } }

        /// Polls until `condition` holds or 10 s have passed.
        func wait(until condition: (Inbox) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while !condition(self), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Runs `body` while each store listens into an inbox of its own.
    static func withListeners(_ stores: [PostgresMetadataStore], _ body: @Sendable ([Inbox]) async throws -> Void) async throws {
        let inboxes = stores.map { _ in Inbox() }
        let listeners = zip(stores, inboxes).map { store, inbox in
            Task {
                try await store.listenForPolicySets(listening: { inbox.markListening() }, received: { inbox.append($0) })
            }
        }
        defer { for listener in listeners { listener.cancel() } }
        try await inboxes[0].wait { _ in inboxes.allSatisfy { $0.isListening } }
        #expect(inboxes.allSatisfy { $0.isListening })
        try await body(inboxes)
    }

    /// Two stores on one schema (two instances) and one on another schema (another deployment
    /// in the same database): an announcement reaches the listener of its own schema, the
    /// announcer's too, and no other.
    @Test func announcementsReachEveryInstanceOfTheirSchemaOnly() async throws {
        let schema = "mt_" + Identifiers.make().suffix(16)
        let configurations = [
            try PostgresTestEnvironment.configuration(schema: schema),
            try PostgresTestEnvironment.configuration(schema: schema),
            try PostgresTestEnvironment.configuration(),
        ]
        // The URL gives each store a connection of its own to listen on.
        #expect(configurations.allSatisfy { $0.listenerConnection != nil })
        try await withPostgresStores(configurations) { stores in
            try await Self.withListeners(stores) { inboxes in
                try await stores[0].announcePolicySet(hash: "sha256:first")
                try await stores[2].announcePolicySet(hash: "sha256:elsewhere")
                try await stores[1].announcePolicySet(hash: "sha256:second")
                try await inboxes[0].wait { _ in
                    inboxes[0].hashes.count == 2 && inboxes[1].hashes.count == 2 && inboxes[2].hashes.count == 1
                }
                // A little longer, so that a stray announcement would have arrived.
                try await Task.sleep(for: .milliseconds(200))
                #expect(inboxes[0].hashes == ["sha256:first", "sha256:second"])
                #expect(inboxes[1].hashes == ["sha256:first", "sha256:second"])
                #expect(inboxes[2].hashes == ["sha256:elsewhere"])
            }
        }
    }

    /// Without connection settings of its own, a store listens on a pooled connection, and
    /// announcements still arrive.
    @Test func aStoreWithoutListenerSettingsListensOnThePool() async throws {
        var configuration = try PostgresTestEnvironment.configuration(maximumConnections: 2)
        configuration.listenerConnection = nil
        try await withPostgresStores([configuration]) { stores in
            try await Self.withListeners(stores) { inboxes in
                // The other pooled connection still serves the store.
                try await stores[0].announcePolicySet(hash: "sha256:pooled")
                try await inboxes[0].wait { !$0.hashes.isEmpty }
                #expect(inboxes[0].hashes == ["sha256:pooled"])
            }
        }
    }
}

@Suite("Policy-set announcement payloads")
struct AnnouncementPayloadTests {
    @Test func theScopeSelectsTheAnnouncements() {
        #expect(PostgresMetadataStore.announcedHash("tenant_a sha256:abc", scope: "tenant_a") == "sha256:abc")
        #expect(PostgresMetadataStore.announcedHash("tenant_b sha256:abc", scope: "tenant_a") == nil)
        #expect(PostgresMetadataStore.announcedHash("- sha256:abc", scope: "-") == "sha256:abc")
        #expect(PostgresMetadataStore.announcedHash("tenant_a", scope: "tenant_a") == nil)
        #expect(PostgresMetadataStore.announcedHash("", scope: "-") == nil)
    }
}
