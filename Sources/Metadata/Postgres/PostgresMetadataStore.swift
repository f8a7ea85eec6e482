import Foundation
import Logging
import PostgresNIO

/// The shared metadata store on PostgreSQL: several gateway instances can use one database
/// (sync jobs are claimed with `FOR UPDATE SKIP LOCKED`, writers of one key are serialised by a
/// transaction-scoped advisory lock).
///
/// ```swift
/// let store = try PostgresMetadataStore(
///     configuration: .init(url: "postgres://gateway@db:5432/gateway"), logger: logger)
/// // in a task / ServiceGroup:   try await store.run()
/// try await store.migrate()
/// ```
public final class PostgresMetadataStore: SQLMetadataStore, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Connection and pool settings (`options.maximumConnections`, default 20).
        public var client: PostgresClient.Configuration
        /// Schema for the tables (created by ``migrate()``); nil uses the server's
        /// `search_path` (normally `public`).
        public var schema: String?
        /// Upper bound for ``ping()``, so `/health` answers quickly while the database is down.
        /// Default 2 s.
        public var pingTimeout: Duration = .seconds(2)
        /// How long a request waits for a pooled connection before it fails as unavailable
        /// (while the database is down). Default 3 s; once a wait has timed out, 0.5 s until a
        /// connection is had again.
        public var connectionWaitTimeout: Duration = .seconds(3)
        /// Bound on the migration transaction at start-up (``PostgresMetadataStore/migrate()``).
        public var migrationTimeout: Duration = .seconds(600)
        /// Server-side prepared statements, per connection (parsed once instead of at every
        /// call). Turn off behind a pooler that does not keep them (PgBouncer in transaction
        /// mode before 1.21). Default on.
        public var preparedStatements = true
        /// Settings for a connection of its own on which the store listens for policy-set
        /// announcements (``PolicySetAnnouncer``), so that listening takes none of the pool's
        /// connections. Set by ``init(url:)``; nil listens on a pooled connection.
        public var listenerConnection: PostgresConnection.Configuration?

        public init(client: PostgresClient.Configuration, schema: String? = nil) {
            self.client = client
            self.schema = schema
        }

        /// The pool's maximum number of connections.
        public var maximumConnections: Int {
            get { client.options.maximumConnections }
            set { client.options.maximumConnections = newValue }
        }
    }

    public let configuration: Configuration
    let client: PostgresClient

    /// Creates the store; nothing connects until ``run()`` runs.
    /// Throws `.invalidArgument` for a schema name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    public init(configuration: Configuration, logger: Logger) throws {
        var clientConfiguration = configuration.client
        if let schema = configuration.schema {
            guard Self.isIdentifier(schema) else {
                throw MetadataError.invalid("schema name must match [A-Za-z_][A-Za-z0-9_]*")
            }
            clientConfiguration.options.additionalStartupParameters.append(("search_path", schema))
        }
        self.configuration = configuration
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        self.client = client
        super.init(core: SQLMetadataCore(
            engine: PostgresEngine(
                client: client, logger: logger, connectionWaitTimeout: configuration.connectionWaitTimeout,
                statements: configuration.preparedStatements ? PreparedStatements() : nil),
            logger: logger))
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        let letters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        let rest = letters.union(CharacterSet(charactersIn: "0123456789"))
        return letters.contains(first) && name.unicodeScalars.allSatisfy(rest.contains)
    }

    /// Runs the connection pool until the task is cancelled (or, under swift-service-lifecycle,
    /// until graceful shutdown). Queries wait for it to run.
    public func run() async {
        await client.run()
    }

    /// Creates the schema (when configured) and applies the missing migrations in one
    /// transaction, under an advisory lock so that instances starting together do not race.
    /// The transaction may take up to ``Configuration/migrationTimeout``, not the bound of a
    /// request's call: a migration of a large database (or one waiting for another instance's)
    /// takes longer, and nothing is served meanwhile.
    public func migrate() async throws {
        var prelude: [SQL] = []
        if let schema = configuration.schema {
            prelude.append(SQL(unsafeRaw: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""))
        }
        guard var engine = core.engine as? PostgresEngine else { return try await core.migrate(prelude: prelude) }
        engine.operationTimeout = configuration.migrationTimeout
        try await SQLMetadataCore(engine: engine, logger: core.logger).migrate(prelude: prelude)
    }

    /// Drops the configured schema with all its tables (tests use a schema per run).
    func dropSchema() async throws {
        guard let schema = configuration.schema else { return }
        _ = try await core.engine.transaction { db in
            try await db.execute(SQL(unsafeRaw: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
    }

    public func ping() async throws {
        let timeout = configuration.pingTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.core.ping() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw MetadataError(.unavailable, "the metadata database did not answer in time")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
