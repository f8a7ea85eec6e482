import Foundation
// The SQLite library that sqlite-nio compiles in (its symbols prefixed `sqlite_nio_`): one
// copy of SQLite in the binary, called directly so that a transaction runs its statements
// synchronously on the connection's own thread and reuses its prepared statements.
import VaporCSQLite

/// One libsqlite3 connection with its thread and its prepared statements.
///
/// Statements run synchronously; callers run them on ``thread`` (see ``SQLiteEngine``) and use
/// a connection from one task at a time (the engine's writer gate and reader pool).
final class SQLiteHandle: @unchecked Sendable {
    /// Prepared statements kept per connection, by SQL text. The store's statements are a
    /// fixed set of texts (values are always bound), so the cache stays small; texts that vary
    /// (multi-row inserts) beyond this bound are prepared, run and finalized each time.
    static let statementCacheLimit = 256

    let thread: SQLiteThread
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    private static let initialized: Bool = {
        sqlite_nio_sqlite3_initialize() == SQLITE_OK
    }()

    private init(db: OpaquePointer, thread: SQLiteThread) {
        self.db = db
        self.thread = thread
    }

    deinit {
        close()
    }

    /// Opens (creating if needed) the database file on a new thread named `name`.
    static func open(path: String, name: String) async throws -> SQLiteHandle {
        let thread = SQLiteThread(name: name)
        do {
            return try await withTaskExecutorPreference(thread) {
                guard initialized else { throw SQLiteResultError(code: SQLITE_ERROR, message: "SQLite failed to initialize") }
                var db: OpaquePointer?
                let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
                let code = sqlite_nio_sqlite3_open_v2(path, &db, flags, nil)
                guard code == SQLITE_OK, let db else {
                    let message = db.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
                    sqlite_nio_sqlite3_close_v2(db)
                    throw SQLiteResultError(code: code, message: "\(message) (\(path))")
                }
                return SQLiteHandle(db: db, thread: thread)
            }
        } catch {
            thread.stop()
            throw error
        }
    }

    /// Finalizes the statements and closes the connection; later queries fail with
    /// `SQLITE_MISUSE`. Does not stop the thread (see ``SQLiteThread/stop()``).
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let db { sqlite_nio_sqlite3_close_v2(db) }
        db = nil
    }

    /// Whether a transaction is open. SQLite rolls one back by itself on some errors (a full
    /// disk, an I/O error, out of memory), after which a ROLLBACK would fail.
    var inTransaction: Bool {
        guard let db else { return false }
        return sqlite_nio_sqlite3_get_autocommit(db) == 0
    }

    /// Runs one statement (the first of `text`) with `binds` for its `?1`, `?2`... parameters
    /// and returns all of its rows.
    func query(_ text: String, _ binds: [SQLValue] = []) throws -> [SQLRow] {
        guard let db else { throw SQLiteResultError(code: SQLITE_MISUSE, message: "the connection is closed") }
        let (statement, cached) = try prepared(text, db)
        defer {
            // A cached statement keeps its bindings until the next call binds every parameter
            // again. `sqlite3_clear_bindings` would make SQLite prepare it again at its next
            // step: the planner marks the parameters of `column = ?` terms as ones whose value
            // may change the plan, and clearing such a binding expires the statement. The
            // replicas of a version were looked up that way, re-parsed on every GET.
            if cached {
                sqlite_nio_sqlite3_reset(statement)
            } else {
                sqlite_nio_sqlite3_finalize(statement)
            }
        }
        for (index, value) in binds.enumerated() {
            let code = Self.bind(value, at: Int32(index + 1), statement)
            guard code == SQLITE_OK else { throw error(code, db) }
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let names = (0..<count).map { sqlite_nio_sqlite3_column_name(statement, $0).map { String(cString: $0) } ?? "" }
        var rows: [SQLRow] = []
        while true {
            let code = sqlite_nio_sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(code, db) }
            var values: [String: SQLValue] = Dictionary(minimumCapacity: names.count)
            for (column, name) in names.enumerated() {
                values[name] = Self.value(statement, Int32(column))
            }
            rows.append(SQLRow(values))
        }
    }

    /// How many times SQLite prepared each cached statement again since it was first prepared
    /// (`SQLITE_STMTSTATUS_REPREPARE`), by SQL text: after a schema change, or when a new value
    /// bound to a parameter may change the plan. For tests and diagnostics; callers hold the
    /// connection, as for a query.
    func reprepares() -> [String: Int] {
        statements.mapValues { Int(sqlite_nio_sqlite3_stmt_status($0, SQLITE_STMTSTATUS_REPREPARE, 0)) }
    }

    private func prepared(_ text: String, _ db: OpaquePointer) throws -> (OpaquePointer, cached: Bool) {
        if let statement = statements[text] { return (statement, true) }
        let cache = statements.count < Self.statementCacheLimit
        var statement: OpaquePointer?
        let flags = cache ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite_nio_sqlite3_prepare_v3(db, text, -1, flags, &statement, nil)
        guard code == SQLITE_OK else { throw error(code, db) }
        guard let statement else {
            // Only a comment or white space: SQLite prepares nothing.
            throw SQLiteResultError(code: SQLITE_MISUSE, message: "empty statement")
        }
        if cache { statements[text] = statement }
        return (statement, cache)
    }

    private func error(_ code: Int32, _ db: OpaquePointer) -> SQLiteResultError {
        SQLiteResultError(code: code, message: sqlite_nio_sqlite3_errmsg(db).map { String(cString: $0) } ?? "")
    }

    /// SQLite copies text during the call (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bind(_ value: SQLValue, at index: Int32, _ statement: OpaquePointer) -> Int32 {
        switch value {
        case .text(var v?):
            // The string's own UTF-8 bytes (SQLite copies them): passing the String itself would
            // make a NUL-terminated copy first, an allocation per bound text.
            return v.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { text in
                    guard let start = text.baseAddress else {
                        return sqlite_nio_sqlite3_bind_text64(statement, index, "", 0, transient, UInt8(SQLITE_UTF8))
                    }
                    return sqlite_nio_sqlite3_bind_text64(statement, index, start, UInt64(text.count), transient, UInt8(SQLITE_UTF8))
                }
            }
        case .int(let v?): return sqlite_nio_sqlite3_bind_int64(statement, index, v)
        case .bool(let v?): return sqlite_nio_sqlite3_bind_int64(statement, index, v ? 1 : 0)
        case .date(let v?): return sqlite_nio_sqlite3_bind_int64(statement, index, SQLTime.micros(v))
        case .text(nil), .int(nil), .bool(nil), .date(nil): return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .int(sqlite_nio_sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .int(Int64(sqlite_nio_sqlite3_column_double(statement, column)))
        case SQLITE_TEXT, SQLITE_BLOB:
            // Text first, then its length (the order SQLite documents for a conversion).
            guard let bytes = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        default: return .text(nil)
        }
    }
}

/// A libsqlite3 result code (extended) with the connection's message.
struct SQLiteResultError: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    /// The primary result code (`SQLITE_CONSTRAINT` for `SQLITE_CONSTRAINT_UNIQUE`).
    var primary: Int32 { code & 0xff }

    var description: String { "SQLite error \(code): \(message)" }

    // Extended result codes, which the C headers define as expressions Swift does not import.
    static let constraintForeignKey: Int32 = SQLITE_CONSTRAINT | (3 << 8)
    static let constraintPrimaryKey: Int32 = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique: Int32 = SQLITE_CONSTRAINT | (8 << 8)
}
