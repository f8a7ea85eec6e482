import Foundation
import Logging

/// The embedded metadata store: one SQLite file (WAL mode) under the gateway's data directory.
/// Serves one gateway instance; use ``PostgresMetadataStore`` to run several.
///
/// ```swift
/// let store = try await SQLiteMetadataStore.open(
///     configuration: .init(directory: "/var/lib/gateway"), logger: logger)
/// ```
public final class SQLiteMetadataStore: SQLMetadataStore, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// `PRAGMA synchronous`: `normal` is durable across application crashes and, in WAL
        /// mode, loses at most the last transactions on power loss; `full` syncs every commit.
        public enum Synchronous: String, Sendable {
            case normal = "NORMAL"
            case full = "FULL"
        }

        /// Path of the database file; its directory is created when missing.
        public var path: String
        /// Read-only connections beside the single writer. 0 runs reads on the writer. Default 4.
        public var readConnections: Int = 4
        /// How long a statement waits for a lock held by another process. Default 5000 ms.
        public var busyTimeoutMilliseconds: Int = 5000
        /// Default `.normal`.
        public var synchronous: Synchronous = .normal
        /// How often the WAL is copied into the database file (with `synchronous = NORMAL`).
        var checkpointInterval: Duration = .milliseconds(250)
        /// WAL size, in frames of one page (32 MiB of 4 KiB pages), from which a checkpoint
        /// finishes while no write runs, so that the WAL restarts (see ``SQLiteEngine``).
        var walRestartFrames: Int64 = 8192
        /// How long a bucket read is used again before it is read anew (see ``BucketCache``).
        var bucketCacheLifetime: Duration = .seconds(1)

        public init(path: String) {
            self.path = path
        }

        /// `directory/metadata.sqlite`.
        public init(directory: String, fileName: String = "metadata.sqlite") {
            self.path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        }
    }

    public let configuration: Configuration
    let engine: SQLiteEngine

    private init(configuration: Configuration, engine: SQLiteEngine, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        super.init(core: SQLMetadataCore(engine: engine, logger: logger, bucketCacheLifetime: configuration.bucketCacheLifetime))
    }

    /// Opens (creating if needed) the database and applies the migrations.
    public static func open(configuration: Configuration, logger: Logger) async throws -> SQLiteMetadataStore {
        let engine = try await SQLiteEngine.open(configuration, logger: logger)
        let store = SQLiteMetadataStore(configuration: configuration, engine: engine, logger: logger)
        do {
            try await store.core.migrate()
        } catch {
            await engine.close()
            throw error
        }
        return store
    }

    /// Waits until the task is cancelled, then closes the database (nothing runs in the
    /// background; this gives both stores the same lifecycle).
    public func run() async throws {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                break
            }
        }
        await close()
    }

    /// Closes the connections after the running write; later calls throw `.unavailable`.
    public func close() async {
        await engine.close()
    }

    /// Migrations are applied by ``open(configuration:logger:)``; this re-checks them.
    public func migrate() async throws {
        try await core.migrate()
    }
}

/// A store that can copy its whole database to a file while it serves requests.
public protocol MetadataBackupStore: Sendable {
    /// Writes a consistent copy of the metadata to a new file at `path` (which must not exist)
    /// and returns its size in bytes.
    func backup(to path: String) async throws -> Int64
}

extension SQLiteMetadataStore: MetadataBackupStore {
    /// `VACUUM INTO` on a reader connection: a consistent snapshot as of the moment it starts,
    /// compacted, with no WAL beside it, so the file is a database that opens on its own.
    /// Writes go on meanwhile (WAL mode); the copy does not see them. (With no reader pool the
    /// statement runs on the writer's connection, and writes wait for it.)
    public func backup(to path: String) async throws -> Int64 {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw MetadataError(.alreadyExists, "\(path) exists; a backup never overwrites a file")
        }
        try await engine.read { db in
            // Readers are `query_only`, which refuses VACUUM INTO although it writes only the
            // new file; the connection is as it was before it goes back to the pool.
            let restore: SQL = try await db.first("PRAGMA query_only")?.int("query_only") == 1
                ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF"
            _ = try await db.query("PRAGMA query_only = OFF")
            do {
                _ = try await db.query("VACUUM INTO \(path)")
            } catch {
                _ = try? await db.query(restore)
                throw error
            }
            _ = try await db.query(restore)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }
}
