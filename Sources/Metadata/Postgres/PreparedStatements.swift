import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Server-side prepared statements, per connection and statement text. An unnamed statement is
/// parsed and planned by the server at every execution: ~0.3 ms for the commit's statement,
/// more than a round trip. A prepared one is parsed once per connection, and after a few
/// executions the server may keep a generic plan.
///
/// A text is prepared the second time a connection runs it, so that one-off texts (a batch of
/// jobs of some size) take no place; each connection keeps at most ``limit`` statements, and
/// runs further texts unnamed.
final class PreparedStatements: Sendable {
    static let limit = 128
    /// Texts run once, remembered per connection until this many (then forgotten at once).
    static let seenLimit = 1024

    private struct Connection {
        var prepared: [String: PreparedQuery] = [:]
        var seen: Set<String> = []
    }

    private enum Lookup {
        case prepared(PreparedQuery)
        case prepare
        case unnamed
    }

    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])

    /// The prepared statement for `text` on `connection`, preparing it on its second use; nil
    /// when the text is to run unnamed. A connection runs one call at a time.
    func statement(_ text: String, on connection: PostgresConnection) async throws -> PreparedQuery? {
        let id = ObjectIdentifier(connection)
        let (lookup, isNew) = connections.withLock { all -> (Lookup, Bool) in
            let isNew = all[id] == nil
            var state = all[id] ?? Connection()
            defer { all[id] = state }
            if let known = state.prepared[text] { return (.prepared(known), isNew) }
            if state.prepared.count >= Self.limit { return (.unnamed, isNew) }
            if state.seen.remove(text) != nil { return (.prepare, isNew) }
            if state.seen.count >= Self.seenLimit { state.seen.removeAll() }
            state.seen.insert(text)
            return (.unnamed, isNew)
        }
        if isNew {
            // The connection's statements end with it (and its identifier may be reused).
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.connections.withLock { _ = $0.removeValue(forKey: id) }
            }
        }
        switch lookup {
        case .prepared(let statement):
            return statement
        case .unnamed:
            return nil
        case .prepare:
            let prepared = try await connection.prepare(query: text).get()
            connections.withLock { $0[id]?.prepared[text] = prepared }
            return prepared
        }
    }
}
