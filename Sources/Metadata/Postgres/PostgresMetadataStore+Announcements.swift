import Logging
import PostgresNIO

/// Policy-set announcements through PostgreSQL's `LISTEN`/`NOTIFY`. The channel is shared by
/// the whole database; the payload names the schema, so gateways of another schema in the same
/// database ignore each other.
extension PostgresMetadataStore: PolicySetAnnouncer {
    static let policyChannel = "gateway_policy_sets"

    /// The payload's first word: the store's schema, `-` for the server's search path.
    var announcementScope: String { configuration.schema ?? "-" }

    public func announcePolicySet(hash: String) async throws {
        let payload = announcementScope + " " + hash
        _ = try await core.engine.autocommit("SELECT 1 AS sent FROM (SELECT pg_notify(\(Self.policyChannel), \(payload))) AS n")
    }

    public func listenForPolicySets(
        listening: @escaping @Sendable () async -> Void,
        received: @escaping @Sendable (String) async -> Void
    ) async throws {
        let scope = announcementScope
        let consume: @Sendable (PostgresConnection) async throws -> Void = { connection in
            try await connection.listen(on: Self.policyChannel) { notifications in
                await listening()
                for try await notification in notifications {
                    guard let hash = Self.announcedHash(notification.payload, scope: scope) else { continue }
                    await received(hash)
                }
            }
        }
        guard let own = configuration.listenerConnection else {
            // No connection settings of its own (a store made from a client configuration):
            // listen on one of the pool's connections, held as long as this runs.
            try await client.withConnection { try await consume($0) }
            return
        }
        let connection = try await PostgresConnection.connect(configuration: own, id: 0, logger: core.logger)
        do {
            try await consume(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    /// The hash of an announcement for `scope`; nil for another scope or a payload that is not
    /// an announcement.
    static func announcedHash(_ payload: String, scope: String) -> String? {
        let parts = payload.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0] == scope, !parts[1].isEmpty else { return nil }
        return String(parts[1])
    }
}
