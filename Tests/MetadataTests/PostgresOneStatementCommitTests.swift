import Foundation
import Testing

@testable import Metadata

/// The commit of a complete version on PostgreSQL in one statement
/// (``SQLMetadataCore/commitInOneStatement(_:)``): what it writes, what stops it, and when it
/// hands over to the transaction.
@Suite(
    "PostgreSQL one-statement commit",
    .enabled(if: PostgresTestEnvironment.shouldRun, "set POSTGRES_TEST_URL (scripts/postgres.sh start DIR)")
)
struct PostgresOneStatementCommitTests {
    static func intent(for v: ObjectVersion) -> WriteIntent {
        WriteIntent(storageId: v.storageId, bucket: v.bucket, key: v.key, zones: v.placement.plannedZones,
                    backendKey: Fixture.backendKey(v), createdAt: v.createdAt)
    }

    static func openIntents(_ store: PostgresMetadataStore, _ storageId: String) async throws -> (all: Int64, reclaimed: Int64) {
        try await store.core.engine.read { db in
            let row = try await db.first("""
                SELECT count(*) AS n, count(reclaimed_at) AS r FROM write_intents WHERE storage_id = \(storageId)
                """)
            return (try row?.int("n") ?? -1, try row?.int("r") ?? -1)
        }
    }

    /// Runs `body` on a new PostgreSQL store with the versioned bucket `photos`.
    static func withVersionedBucket(_ body: @escaping @Sendable (PostgresMetadataStore, Fixture) async throws -> Void) async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 2)
        try await withPostgresStores([base]) { stores in
            let fixture = Fixture(stores[0])
            try await fixture.bucket("photos", versioning: .enabled)
            try await body(stores[0], fixture)
        }
    }

    /// The version, its replicas and its log row are written, the intent removed, and the
    /// version before it demoted.
    @Test func aCompleteVersionIsCommittedInOneStatement() async throws {
        try await Self.withVersionedBucket { store, fixture in
            let first = try await fixture.put(key: "k", time: 1)
            let v = fixture.version(key: "k", time: 2, zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"])
            try await store.recordIntent(Self.intent(for: v))
            let log = OperationLogEntry(time: at(2), requestId: "r1", operation: "PutObject", bucket: "photos", key: "k",
                                        versionId: v.versionId, httpStatus: 200, zones: v.placement.plannedZones)
            let result = try await store.core.commitInOneStatement(
                VersionCommit(version: v, replicas: Fixture.replicas(for: v, complete: 2), log: log))
            let committed = try #require(result)
            #expect(committed.version.storageId == v.storageId && committed.version.isLatest)
            #expect(committed.version.sequence > first.version.sequence)
            #expect(committed.replicationJobs.isEmpty && committed.deleteJobs.isEmpty && committed.replaced == nil)
            #expect(try await Self.openIntents(store, v.storageId).all == 0)
            #expect(try await store.latestVersion(bucket: "photos", key: "k")?.storageId == v.storageId)
            #expect(try await store.version(storageId: first.version.storageId)?.isLatest == false)
            #expect(try await store.replicas(storageId: v.storageId).map(\.zone).sorted() == ["FI-HEL-ST-1", "FI-HEL-UC-1"])
            let logged = try await store.queryLog(OperationLogQuery(bucket: "photos"))
            #expect(logged.count == 1)
            #expect(logged.first?.id == committed.logId && logged.first?.versionId == v.versionId)
        }
    }

    /// A reclaimed intent (the reconciler deletes the write's data) stops the commit and stays,
    /// with its claim, for a later commit to find.
    @Test func aReclaimedIntentStopsItAndStays() async throws {
        try await Self.withVersionedBucket { store, fixture in
            let v = fixture.version(key: "k", time: 1)
            try await store.recordIntent(Self.intent(for: v))
            #expect(try await store.reclaimIntent(storageId: v.storageId, now: at(100)) != nil)
            do {
                _ = try await store.core.commitInOneStatement(VersionCommit(version: v, replicas: Fixture.replicas(for: v, complete: 1)))
                Issue.record("a reclaimed write committed")
            } catch let error as MetadataError {
                #expect(error.isReclaimedWrite)
            }
            let intents = try await Self.openIntents(store, v.storageId)
            #expect(intents.all == 1 && intents.reclaimed == 1)
            #expect(try await store.version(storageId: v.storageId) == nil)
            #expect(try await store.replicas(storageId: v.storageId).isEmpty)
        }
    }

    /// A unique index that refuses the row rolls the statement back and leaves the commit to
    /// the transaction (nil), which reports the error itself.
    @Test func aRefusedRowHandsOverToTheTransaction() async throws {
        try await Self.withVersionedBucket { store, fixture in
            let first = try await fixture.put(key: "k", time: 1)
            let again = fixture.version(key: "k", storageId: first.version.storageId, time: 2)
            let commit = VersionCommit(version: again, replicas: Fixture.replicas(for: again, complete: 1))
            #expect(try await store.core.commitInOneStatement(commit) == nil)
            #expect(try await store.latestVersion(bucket: "photos", key: "k")?.versionId == first.version.versionId)
            await expectError(.alreadyExists) { _ = try await store.commit(commit) }
        }
    }

    /// What it leaves to the transaction: the "null" version, copies still to make, a
    /// conditional write.
    @Test func itLeavesTheRestToTheTransaction() async throws {
        try await Self.withVersionedBucket { (store: PostgresMetadataStore, fixture: Fixture) async throws in
            let null = fixture.version(key: "a", versionId: nullVersionID)
            let pending = fixture.version(key: "b", zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"])
            let conditional = fixture.version(key: "c")
            for commit in [
                VersionCommit(version: null, replicas: Fixture.replicas(for: null, complete: 1)),
                VersionCommit(version: pending, replicas: Fixture.replicas(for: pending, complete: 1)),
                VersionCommit(version: conditional, replicas: Fixture.replicas(for: conditional, complete: 1), precondition: .keyAbsent),
            ] {
                #expect(try await store.core.commitInOneStatement(commit) == nil)
                #expect(try await store.version(storageId: commit.version.storageId) == nil)
            }
        }
    }
}
