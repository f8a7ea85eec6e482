import Foundation
import Logging

/// The store logic shared by ``PostgresMetadataStore`` and ``SQLiteMetadataStore``: every
/// operation is written once against ``SQLEngine``; the dialects differ only in a few
/// statements (row locks, `SKIP LOCKED`, per-key advisory locks).
struct SQLMetadataCore: Sendable {
    let engine: any SQLEngine
    let logger: Logger
    /// Buckets read lately (see ``BucketCache``).
    let buckets: BucketCache

    var dialect: SQLDialect { engine.dialect }

    /// `bucketCacheLifetime`: how long a bucket read is used again before it is read anew.
    init(engine: any SQLEngine, logger: Logger, bucketCacheLifetime: Duration = .seconds(1)) {
        self.engine = engine
        self.logger = logger
        self.buckets = BucketCache(lifetime: bucketCacheLifetime)
    }

    // MARK: Migrations

    /// Applies the missing migrations in one transaction. `prelude` runs first (after the
    /// PostgreSQL migration lock), e.g. to create the schema.
    func migrate(prelude: [SQL] = []) async throws {
        let dialect = self.dialect
        let logger = self.logger
        try await engine.transaction { db in
            if dialect == .postgres {
                // Serialises concurrent migrations of one schema from several gateway
                // instances; stores of other schemas (`search_path`) migrate independently.
                try await db.execute("SELECT pg_advisory_xact_lock(hashtextextended(current_setting('search_path'), 7283915540021))")
            }
            for statement in prelude { try await db.execute(statement) }
            try await db.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    applied_at TEXT NOT NULL
                )
                """)
            let applied = Set(try await db.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
            for migration in Schema.migrations(dialect) where !applied.contains(Int64(migration.version)) {
                for statement in migration.statements {
                    try await db.execute(SQL(unsafeRaw: statement))
                }
                let now = ISO8601DateFormatter().string(from: Date())
                try await db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))")
                logger.info("metadata schema migrated", metadata: ["metadata.schema_version": "\(migration.version)"])
            }
        }
    }

    func ping() async throws {
        _ = try await engine.read { db in try await db.query("SELECT 1 AS one") }
    }

    // MARK: Helpers

    /// Serialises writers of one (bucket, key) for the rest of the transaction. SQLite has a
    /// single writer already.
    static func lockKey(_ db: any SQLExecutor, bucket: String, key: String) async throws {
        guard db.dialect == .postgres else { return }
        let name = bucket + "/" + key
        try await db.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))")
    }

    /// `FOR UPDATE` on PostgreSQL; nothing on SQLite (the write transaction is exclusive).
    static func forUpdate(_ db: any SQLExecutor) -> SQL {
        db.dialect == .postgres ? " FOR UPDATE" : ""
    }

    /// Turns a constraint violation into the operation's meaning.
    func mapping<Result>(
        unique: MetadataError? = nil,
        foreignKey: MetadataError? = nil,
        _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch var error as MetadataError {
            switch error.violation {
            case .unique?:
                if let unique { error = MetadataError(unique.code, unique.message, details: error.details) }
            case .foreignKey?:
                if let foreignKey { error = MetadataError(foreignKey.code, foreignKey.message, details: error.details) }
            default:
                break
            }
            throw error
        }
    }

    static func checkLimit(_ value: Int, _ name: String, max: Int = 10_000) throws -> Int {
        guard value >= 0 else { throw MetadataError.invalid("\(name) must not be negative") }
        return min(value, max)
    }
}
