import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Server-side prepared statements, per connection and statement text. An unnamed statement is
/// parsed and planned by the server at every execution: ~0.3 ms for the commit's statement,
/// more than a round trip. A prepared one is parsed once per connection, and after a few
/// executions the server may keep a generic plan. The store's statements are a small fixed
/// set of texts (values are always bound), so each connection keeps at most ``limit``.
final class PreparedStatements: Sendable {
    static let limit = 128

    private let statements = Mutex<[ObjectIdentifier: [String: PreparedQuery]]>([:])

    /// The prepared statement for `text` on `connection`, preparing it on first use; nil when
    /// the connection already holds ``limit`` of them (run it unnamed then).
    func statement(_ text: String, on connection: PostgresConnection) async throws -> PreparedQuery? {
        let id = ObjectIdentifier(connection)
        let (known, count) = statements.withLock { ($0[id]?[text], $0[id]?.count ?? 0) }
        if let known { return known }
        guard count < Self.limit else { return nil }
        let prepared = try await connection.prepare(query: text).get()
        let first = statements.withLock { all -> Bool in
            let first = all[id] == nil
            all[id, default: [:]][text] = prepared
            return first
        }
        if first {
            // The connection's statements end with it (and its identifier may be reused).
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.statements.withLock { _ = $0.removeValue(forKey: id) }
            }
        }
        return prepared
    }

    /// How many connections have prepared statements (for tests).
    var connections: Int { statements.withLock { $0.count } }
}
