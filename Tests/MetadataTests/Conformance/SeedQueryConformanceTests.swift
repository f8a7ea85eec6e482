import Foundation
import Testing

@testable import Metadata

/// The original service documents two queries for operators (`psql`), which must work on this
/// schema on both stores:
///
///     SELECT * FROM operations_log ORDER BY created_at DESC LIMIT 10;
///     SELECT object_key, current_replica_count, required_replica_count, sync_status
///     FROM objects ORDER BY created_at DESC LIMIT 10;
@Suite("Conformance: the original service's operator queries")
struct SeedQueryConformanceTests {
    static let operationsLogQuery = "SELECT * FROM operations_log ORDER BY created_at DESC LIMIT 10"
    static let objectsQuery = """
        SELECT object_key, current_replica_count, required_replica_count, sync_status
        FROM objects ORDER BY created_at DESC LIMIT 10
        """

    /// The SQL engine behind a store, for raw queries.
    static func engine(_ store: any MetadataStore) throws -> any SQLEngine {
        if let sqlite = store as? SQLiteMetadataStore { return sqlite.core.engine }
        if let postgres = store as? PostgresMetadataStore { return postgres.core.engine }
        throw MetadataError(.internal, "no SQL engine behind \(type(of: store))")
    }

    static func rows(_ store: any MetadataStore, _ sql: String) async throws -> [SQLRow] {
        try await engine(store).read { db in try await db.query(SQL(unsafeRaw: sql)) }
    }

    /// a: written twice (the latest fully copied), b: complete, c: a copy failed, d: deleted
    /// (a delete marker on top), e: a copy still pending.
    static func writeObjects(_ store: any MetadataStore) async throws {
        let fixture = Fixture(store)
        try await fixture.bucket("photos", versioning: .enabled)
        let two = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
        try await fixture.put(key: "a", time: 1, zones: two)
        try await fixture.put(key: "b", time: 2, zones: ["FI-HEL-ST-1"])
        let c = try await fixture.put(key: "c", time: 3, zones: two)
        try await store.upsertReplica(Replica(
            storageId: c.version.storageId, zone: "FI-HEL-UC-1", status: .failed,
            backendKey: Fixture.backendKey(c.version), size: c.version.size, updatedAt: at(4)))
        try await fixture.put(key: "d", time: 5)
        try await fixture.deleteMarker(key: "d", time: 6)
        try await fixture.put(key: "e", time: 7, zones: two)
        try await fixture.put(key: "a", time: 8, zones: ["FI-HEL-ST-1"])
    }

    static func expectObjects(_ store: any MetadataStore, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let rows = try await rows(store, objectsQuery)
        let seen = try rows.map { row in
            "\(try row.string("object_key")) \(try row.int("current_replica_count"))/\(try row.int("required_replica_count")) \(try row.string("sync_status"))"
        }
        #expect(seen == ["a 1/1 synced", "e 1/2 pending", "c 1/2 failed", "b 1/1 synced"], sourceLocation: sourceLocation)
    }

    @Test(arguments: StoreKind.testCases)
    func objectsQueryListsTheCurrentObjectsWithTheirCopies(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await Self.writeObjects(store)
            try await Self.expectObjects(store)
            // The view's other columns: the version read, its bucket, size and ETag.
            let a = try #require(try await Self.rows(store, "SELECT * FROM objects WHERE object_key = 'a'").first)
            let latest = try #require(try await store.latestVersion(bucket: "photos", key: "a"))
            #expect(try a.string("version_id") == latest.versionId)
            #expect(try a.string("bucket") == "photos")
            #expect(try a.int("size") == latest.size)
            #expect(try a.string("etag") == latest.etag)
            #expect(try a.date("created_at") == at(8))
            // Once the pending copy is made, e is synced.
            let e = try #require(try await store.latestVersion(bucket: "photos", key: "e"))
            try await store.upsertReplica(Replica(
                storageId: e.storageId, zone: "FI-HEL-UC-1", status: .complete,
                backendKey: Fixture.backendKey(e), size: e.size, etag: e.etag, updatedAt: at(9)))
            let synced = try await Self.rows(store, "SELECT sync_status FROM objects WHERE object_key = 'e'")
            #expect(try synced.map { try $0.string("sync_status") } == ["synced"])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func operationsLogQueryListsTheNewestEntriesFirst(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for (request, time) in [("r10", 10), ("r12", 12), ("r11", 11)] {
                _ = try await store.appendLog(OperationLogEntry(
                    time: at(time), requestId: request, principal: "alice", operation: "PutObject",
                    bucket: "photos", key: request, httpStatus: 200, zones: ["FI-HEL-ST-1"]))
            }
            let rows = try await Self.rows(store, Self.operationsLogQuery)
            #expect(try rows.map { try $0.string("request_id") } == ["r12", "r11", "r10"])
            #expect(try rows.first?.date("created_at") == at(12))
            #expect(rows.first?.values["logged_at"] == nil)
            // The store's own reads use the same column.
            let since = try await store.queryLog(OperationLogQuery(limit: 10, since: at(11)))
            #expect(Set(since.map(\.requestId)) == ["r11", "r12"])
            #expect(try await store.queryLog(OperationLogQuery(limit: 10, until: at(11))).map(\.requestId) == ["r10"])
        }
    }

    /// A store migrated before migration 4 (log column `logged_at`, no `objects` view) keeps
    /// its log entries and answers both queries once migrated.
    @Test(arguments: StoreKind.testCases)
    func migrationFourKeepsTheLogAndAddsTheView(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await Self.writeObjects(store)
            _ = try await store.appendLog(OperationLogEntry(
                time: at(20), requestId: "before-4", operation: "PutObject", bucket: "photos", key: "a", httpStatus: 200))
            // Back to the schema of migration 3.
            try await Self.engine(store).transaction { db in
                try await db.execute("DROP VIEW objects")
                try await db.execute("ALTER TABLE operations_log RENAME COLUMN created_at TO logged_at")
                try await db.execute("DELETE FROM schema_migrations WHERE version = 4")
            }
            await #expect(throws: (any Error).self) { _ = try await Self.rows(store, Self.operationsLogQuery) }
            try await store.migrate()
            let rows = try await Self.rows(store, Self.operationsLogQuery)
            #expect(try rows.map { try $0.string("request_id") } == ["before-4"])
            #expect(try rows.first?.date("created_at") == at(20))
            #expect(try await store.queryLog(OperationLogQuery(limit: 10)).map(\.requestId) == ["before-4"])
            try await Self.expectObjects(store)
            let versions = try await Self.rows(store, "SELECT version FROM schema_migrations ORDER BY version")
            #expect(try versions.map { try $0.int("version") } == [1, 2, 3, 4, 5, 6])
        }
    }
}
