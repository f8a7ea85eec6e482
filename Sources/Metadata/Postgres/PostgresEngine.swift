import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// PostgreSQL behind ``SQLEngine``, on a pooled `PostgresClient`. Statements are sent with
/// bound parameters (extended protocol), never with values in the text.
struct PostgresEngine: SQLEngine {
    let client: PostgresClient
    let logger: Logger
    /// How long a statement may wait for a pooled connection while the pool shows no sign of
    /// life: no other call got a connection or succeeded during the wait. While the server is
    /// down the pool keeps retrying with back-off and a waiting request would wait with it;
    /// past this bound it fails as `.unavailable` (a 503 to the client) instead. A pool that is
    /// merely busy (calls finish and others get connections, as in a burst of writes to one
    /// key) is not down: there the wait goes on, bounded by ``operationTimeout``.
    var connectionWaitTimeout: Duration = .seconds(3)
    /// After a wait has timed out, later statements wait only this long until a connection is
    /// had again, so that a request making several calls (and its clean-up) answers quickly.
    var outageWaitTimeout: Duration = .milliseconds(500)
    /// Bound on one call (a transaction or a read) from asking for a connection to its end.
    var operationTimeout: Duration = .seconds(8)
    /// How often a call that is still running checks whether its connection has closed under it.
    /// postgres-nio sometimes leaves a statement waiting on a connection that the server closed
    /// (seen when the server shuts down just as the statement is sent); such a call ends at the
    /// next check instead of at ``operationTimeout``.
    var closedConnectionCheck: Duration = .seconds(1)
    let outage = OutageMark()
    /// Server-side prepared statements of the pool's connections; nil runs every statement
    /// unnamed (parsed and planned at each call).
    var statements: PreparedStatements? = PreparedStatements()
    var dialect: SQLDialect { .postgres }

    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await run { connection in
            try await body(PostgresExecutor(connection: connection, logger: logger, statements: statements))
        }
    }

    /// Outside a transaction a statement commits by itself: one round trip.
    func autocommit(_ sql: SQL) async throws -> [SQLRow] {
        try await read { db in try await db.query(sql) }
    }

    func snapshot<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await transaction { db in
            try await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return try await body(db)
        }
    }

    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        let logger = self.logger
        return try await run { connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await body(PostgresExecutor(connection: connection, logger: logger, statements: statements))
            }
        }
    }

    /// Runs `work` on a pooled connection within both deadlines: ``connectionWaitTimeout`` to get
    /// a connection and ``operationTimeout`` for the whole call. The second is a guard against a
    /// call that never returns (seen when the server shuts down while a statement is being
    /// sent, or a statement the server does not answer): the caller gets `.unavailable`, the
    /// stuck task is cancelled and left behind, never waited for, and its connection is closed.
    /// A call whose connection has closed under it ends the same way at the next
    /// ``closedConnectionCheck``: no answer can come on a closed connection.
    /// Closing fails the statement, so the stuck call ends and gives its lease back to the pool,
    /// which replaces the connection; otherwise every such call would keep one of the pool's
    /// connections until the server answered, if ever, and the pool would run dry.
    private func run<Result: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let client = self.client
        let lease = LeasedConnection()
        let outage = self.outage
        let logger = self.logger
        do {
            return try await Deadline.detached(
                operationTimeout, error: MetadataError(.unavailable, "the metadata database did not answer in time"),
                onTimeout: { lease.abandon(logger: logger) },
                stalled: (every: closedConnectionCheck, check: { lease.isClosedUnderCall })
            ) { control in
                try await withConnectionDeadline(control) { acquired in
                    try await client.withConnection { connection in
                        lease.hold(connection, logger: logger)
                        outage.progressed(clearing: true)
                        acquired()
                        let outcome: Swift.Result<Result, any Error>
                        do { outcome = .success(try await work(connection)) } catch { outcome = .failure(error) }
                        if case .success = outcome { outage.progressed() }
                        // An abandoned connection goes back to the pool only once it is closed,
                        // so that the pool replaces it instead of handing it out again.
                        if lease.isAbandoned { try? await connection.closeFuture.get() }
                        return try outcome.get()
                    }
                }
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// Runs `operation`, which calls `acquired` once it holds a connection; if that has not
    /// happened within the connection wait, and the pool showed no sign of life meanwhile (see
    /// ``OutageMark/isBusy(since:)``), the outage is marked and the call ends as `.unavailable`
    /// through `control` (which cancels the wait). The wait is checked by a timer of
    /// ``CoarseSleeper/shared``, not by a task beside the operation.
    func withConnectionDeadline<Result: Sendable>(
        _ control: Deadline.Control,
        _ operation: (_ acquired: @escaping @Sendable () -> Void) async throws -> Result
    ) async throws -> Result {
        let outage = self.outage
        let wait = ConnectionWait(timeout: outage.isMarked ? outageWaitTimeout : connectionWaitTimeout)
        wait.schedule(since: OutageMark.now()) { since in
            // Busy, not down: another call got a connection or succeeded meanwhile.
            if outage.isBusy(since: since) { return true }
            outage.mark()
            control.fail(MetadataError(.unavailable, "no metadata database connection became available in time"))
            return false
        }
        defer { wait.end() }
        return try await operation { wait.end() }
    }

    static func map(_ error: any Error) -> MetadataError {
        switch error {
        case let error as MetadataError:
            return error
        case let error as PostgresTransactionError:
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return map(inner) }
            return MetadataError(.internal, "metadata database error", details: String(reflecting: error))
        case let error as PSQLError:
            return map(error)
        case let error as PostgresError:
            return map(error)
        case is CancellationError:
            return MetadataError(.unavailable, "the metadata request was cancelled")
        default:
            let type = String(reflecting: Swift.type(of: error))
            if type.hasSuffix("ConnectionPoolError") || error is IOError || error is ChannelError {
                return MetadataError(.unavailable, "the metadata database is unavailable", details: String(reflecting: error))
            }
            return MetadataError(.internal, "metadata database error", details: String(reflecting: error))
        }
    }

    private static func map(_ error: PSQLError) -> MetadataError {
        let details = String(reflecting: error)
        switch error.code {
        case .server:
            return map(sqlState: error.serverInfo?[.sqlState] ?? "", details: details)
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed,
             .uncleanShutdown, .queryCancelled, .sslUnsupported, .failedToAddSSLHandler:
            return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
        default:
            return MetadataError(.internal, "metadata database error", details: details)
        }
    }
}

extension PostgresEngine {
    /// Prepared statements (postgres-nio's older API) fail with ``PostgresError``.
    static func map(_ error: PostgresError) -> MetadataError {
        let details = String(reflecting: error)
        switch error {
        case .server(let message):
            return map(sqlState: message.fields[.sqlState] ?? "", details: details)
        case .connectionClosed, .protocol:
            return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
        }
    }

    /// What a server error (by SQLSTATE) means to the caller.
    static func map(sqlState state: String, details: String) -> MetadataError {
        switch state {
        case "23505":
            return MetadataError(.conflict, "a record with this identity already exists", details: details, violation: .unique)
        case "23503":
            return MetadataError(.conflict, "a referenced record does not exist or is still referenced", details: details, violation: .foreignKey)
        case "23514", "23502":
            return MetadataError(.conflict, "the change violates a constraint", details: details, violation: .check)
        case "40001", "40P01", "55P03":
            return MetadataError(.conflict, "a concurrent change interfered; retry", details: details)
        case "57P01", "57P02", "57P03", "53300", "53200", "53100":
            return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
        default:
            if state.hasPrefix("22") {
                // Data exception, e.g. a NUL character in a key.
                return MetadataError(.invalidArgument, "a value cannot be stored", details: details)
            }
            if state.hasPrefix("08") {
                return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
            }
            return MetadataError(.internal, "metadata database error", details: details)
        }
    }
}

/// The connection a call holds, closed if the call is abandoned (see ``PostgresEngine/run(_:)``).
private final class LeasedConnection: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var abandoned = false
    }

    private let state = Mutex(State())

    /// Records the leased connection; closes it at once if the call was already abandoned.
    func hold(_ connection: PostgresConnection, logger: Logger) {
        let abandoned = state.withLock { state -> Bool in
            state.connection = connection
            return state.abandoned
        }
        if abandoned { Self.close(connection, logger: logger) }
    }

    var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// The call holds a connection, and that connection has closed: the call cannot get an
    /// answer any more, though the statement may not have been failed.
    var isClosedUnderCall: Bool {
        state.withLock { $0.connection }?.isClosed ?? false
    }

    /// The call timed out, or its connection closed under it: closes its connection, if it has
    /// one.
    func abandon(logger: Logger) {
        let connection = state.withLock { state -> PostgresConnection? in
            state.abandoned = true
            return state.connection
        }
        if let connection { Self.close(connection, logger: logger) }
    }

    private static func close(_ connection: PostgresConnection, logger: Logger) {
        if connection.isClosed {
            logger.warning("metadata call abandoned: its database connection closed without ending its statement",
                           metadata: ["postgres.connection": "\(connection.id)"])
            return
        }
        logger.warning("metadata call abandoned after the operation deadline: closing its database connection",
                       metadata: ["postgres.connection": "\(connection.id)"])
        connection.close().whenComplete { _ in }
    }
}

/// The check of one call's wait for a connection (see ``PostgresEngine/withConnectionDeadline(_:_:)``):
/// a timer that asks, each time the wait has run out, whether to wait on.
private final class ConnectionWait: Sendable {
    private struct State {
        var timer: CoarseSleeper.Timer?
        var ended = false
    }

    let timeout: Duration
    private let state = Mutex(State())

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// After each `timeout` until ``end()``, calls `waitOn` with the time the current wait began
    /// (``OutageMark/now()``); it returns whether to wait another `timeout`.
    func schedule(since: UInt64, _ waitOn: @escaping @Sendable (_ since: UInt64) -> Bool) {
        let timer = CoarseSleeper.shared.schedule(after: timeout) { [self] in
            let checked = OutageMark.now()
            guard state.withLock({ !$0.ended }), waitOn(since) else { return }
            schedule(since: checked, waitOn)
        }
        let ended = state.withLock { state -> Bool in
            if !state.ended { state.timer = timer }
            return state.ended
        }
        if ended { CoarseSleeper.shared.cancel(timer) }
    }

    /// The call has its connection, or has ended: no more checks.
    func end() {
        let timer = state.withLock { state -> CoarseSleeper.Timer? in
            state.ended = true
            defer { state.timer = nil }
            return state.timer
        }
        if let timer { CoarseSleeper.shared.cancel(timer) }
    }
}

/// Whether the last wait for a connection timed out (cleared as soon as one is had again), and
/// the sign that the pool is alive: when a call last got a connection or succeeded.
final class OutageMark: Sendable {
    private let marked = Atomic<Bool>(false)
    private let lastProgress = Atomic<UInt64>(0)

    var isMarked: Bool { marked.load(ordering: .relaxed) }
    func mark() { marked.store(true, ordering: .relaxed) }

    /// A call got a connection (`clearing`: the pool is up again) or succeeded.
    func progressed(clearing: Bool = false) {
        lastProgress.store(Self.now(), ordering: .relaxed)
        if clearing, marked.load(ordering: .relaxed) { marked.store(false, ordering: .relaxed) }
    }

    /// Whether the pool is busy rather than down, for a call that has waited for a connection
    /// since `since` (``now()``): another call got one, or succeeded, after `since`.
    ///
    /// A rule that asked whether a call got a connection within the last wait, measured back
    /// from the check, took a starved machine for an outage: the end of one call and the start
    /// of the next are two tasks, each of which can run long after the other, and a late check
    /// looks back over a window in which the hand-over has not been recorded yet. Counting from
    /// the start of the wait, and counting a call that finishes, is not fooled by lateness.
    /// Connections that are held but show no progress (statements longer than the wait, or
    /// stuck on a server that went away) are not a sign of life: the waiting call fails after
    /// the wait, so that clients get their 503 quickly while the database is down.
    func isBusy(since: UInt64) -> Bool {
        lastProgress.load(ordering: .relaxed) >= since
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// Runs statements on one leased connection.
struct PostgresExecutor: SQLExecutor {
    let connection: PostgresConnection
    let logger: Logger
    /// Prepared statements to use; nil runs every statement unnamed.
    var statements: PreparedStatements? = nil
    var dialect: SQLDialect { .postgres }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        let (text, values) = sql.render(.postgres)
        do {
            if let statements, let prepared = try await statements.statement(text, on: connection) {
                // The rows come in binary, though their description (from the prepare) says text.
                return try await prepared.execute(values.map(Self.data)).get().map { try Self.row($0, binary: true) }
            }
            var bindings = PostgresBindings(capacity: values.count)
            for value in values {
                switch value {
                case .text(let v): bindings.append(v)
                case .int(let v): bindings.append(v)
                case .bool(let v): bindings.append(v)
                case .date(let v): bindings.append(v.map(PostgresMicros.init))
                }
            }
            var rows: [SQLRow] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: logger) {
                rows.append(try Self.row(row))
            }
            return rows
        } catch {
            throw PostgresEngine.map(error)
        }
    }

    /// A bound value for a prepared statement (typed, binary, as ``PostgresBindings`` would).
    private static func data(_ value: SQLValue) -> PostgresData {
        switch value {
        case .text(let v): return v.map { PostgresData(string: $0) } ?? PostgresData(type: .text)
        case .int(let v): return v.map { PostgresData(int64: $0) } ?? PostgresData(type: .int8)
        case .bool(let v): return v.map { PostgresData(bool: $0) } ?? PostgresData(type: .bool)
        case .date(let v):
            guard let v else { return PostgresData(type: .timestamptz) }
            var buffer = ByteBuffer()
            buffer.writeInteger(PostgresMicros(v).micros - PostgresMicros.epochOffset)
            return PostgresData(type: .timestamptz, formatCode: .binary, value: buffer)
        }
    }

    private static func row(_ row: PostgresRow, binary: Bool = false) throws -> SQLRow {
        var values: [String: SQLValue] = [:]
        for cell in row {
            values[cell.columnName] = try value(cell, binary: binary)
        }
        return SQLRow(values)
    }

    /// Reads the binary wire format directly (much cheaper than the generic decoders for the
    /// 30-column rows of a listing); anything unusual goes through postgres-nio's decoders.
    private static func value(_ cell: PostgresCell, binary: Bool) throws -> SQLValue {
        let type = cell.dataType
        guard let bytes = cell.bytes else {
            switch type {
            case .int2, .int4, .int8: return .int(nil)
            case .bool: return .bool(nil)
            case .timestamptz, .timestamp: return .date(nil)
            default: return .text(nil)
            }
        }
        if binary || cell.format == .binary {
            let index = bytes.readerIndex
            switch (type, bytes.readableBytes) {
            case (.int8, 8): return .int(bytes.getInteger(at: index, as: Int64.self))
            case (.int4, 4): return .int(bytes.getInteger(at: index, as: Int32.self).map(Int64.init))
            case (.int2, 2): return .int(bytes.getInteger(at: index, as: Int16.self).map(Int64.init))
            case (.bool, 1): return .bool(bytes.getInteger(at: index, as: UInt8.self).map { $0 != 0 })
            case (.timestamptz, _), (.timestamp, _): return .date(try PostgresMicros.decode(bytes))
            case (.text, _), (.varchar, _), (.name, _), (.bpchar, _): return .text(String(buffer: bytes))
            default: break
            }
        }
        switch type {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        case .timestamptz, .timestamp: return .date(try cell.decode(Date.self))
        default: return .text(String(buffer: bytes))
        }
    }
}

/// A timestamptz bound as exact integer microseconds (see ``SQLTime``), so a date reads back
/// exactly as SQLite returns it (postgres-nio's `Date` encoding truncates through a `Double`).
struct PostgresMicros: PostgresNonThrowingEncodable {
    /// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970.
    static let epochOffset: Int64 = 946_684_800_000_000

    let micros: Int64

    init(_ date: Date) {
        self.micros = SQLTime.micros(date)
    }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(micros - Self.epochOffset)
    }

    static func decode(_ buffer: ByteBuffer) throws -> Date {
        guard buffer.readableBytes == 8, let value = buffer.getInteger(at: buffer.readerIndex, as: Int64.self) else {
            throw MetadataError(.internal, "unexpected database result", details: "timestamptz of \(buffer.readableBytes) bytes")
        }
        return SQLTime.date(value + epochOffset)
    }
}
