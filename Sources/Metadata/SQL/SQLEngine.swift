/// A connection (inside a transaction or not) that runs statements.
protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    /// Runs one statement and returns all of its rows.
    func query(_ sql: SQL) async throws -> [SQLRow]
}

extension SQLExecutor {
    func execute(_ sql: SQL) async throws {
        _ = try await query(sql)
    }

    func first(_ sql: SQL) async throws -> SQLRow? {
        try await query(sql).first
    }
}

extension SQLEngine {
    func autocommit(_ sql: SQL) async throws -> [SQLRow] {
        try await transaction { db in try await db.query(sql) }
    }

    func pointRead<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await read(body)
    }
}

/// The database behind the shared store core: PostgreSQL or SQLite.
protocol SQLEngine: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` on a connection without a transaction (each statement autocommits).
    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result

    /// Runs `body`, a few lookups by key, like ``read(_:)``; an engine whose statements run
    /// synchronously may run it on the caller's thread, which costs less than a hand-off.
    func pointRead<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result

    /// Runs `body` in a read-only transaction with one snapshot for all statements.
    func snapshot<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result

    /// Runs one statement that changes data, committed on its own (it is atomic by itself).
    /// On PostgreSQL that is one round trip instead of three (BEGIN, the statement, COMMIT).
    func autocommit(_ sql: SQL) async throws -> [SQLRow]

    /// Runs `body` in a write transaction; commits when it returns, rolls back when it throws.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result
}
