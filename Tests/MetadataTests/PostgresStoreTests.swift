import Foundation
import PostgresNIO
import Testing

@testable import Metadata

/// PostgreSQL-only behaviour: several gateway instances on one database.
@Suite(
    "PostgreSQL store",
    .enabled(if: PostgresTestEnvironment.shouldRun, "set POSTGRES_TEST_URL (scripts/postgres.sh start DIR)")
)
struct PostgresStoreTests {
    @Test func fourGatewaysClaimConcurrentlyWithoutDuplicates() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 2)
        try await withPostgresStores(Array(repeating: base, count: 4)) { stores in
            let jobs = try await stores[0].enqueueJobs((0..<300).map { ReplicationConformanceTests.newJob($0) }, now: at(0))
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimJobs(worker: "gw\(index)", limit: 5, now: at(1), leaseSeconds: 60)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == jobs.count)
            #expect(Set(all) == Set(jobs.map(\.id)))
            // Every gateway got work (the queue is shared, not serialised on one instance).
            #expect(claims.filter { !$0.isEmpty }.count >= 2)
        }
    }

    @Test func concurrentCommitsToOneKeyKeepOneLatest() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 4)
        try await withPostgresStores(Array(repeating: base, count: 2)) { stores in
            try await Fixture(stores[0]).bucket("photos", versioning: .enabled)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    let store = stores[i % 2]
                    group.addTask { try await Fixture(store).put(key: "hot", time: i) }
                }
                try await group.waitForAll()
            }
            let versions = try await stores[1].listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(versions.versions.count == 40)
            #expect(versions.versions.filter(\.isLatest).count == 1)
            #expect(versions.versions.first?.isLatest == true)
        }
    }

    /// Statements are prepared on their second use on a connection and reused: more PUTs with
    /// the same statements add no prepared statement on the server, nor does a text run once.
    @Test func statementsArePreparedOncePerConnection() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 1)
        try await withPostgresStores([base]) { stores in
            let store = stores[0]
            try await Fixture(store).bucket("photos")
            let prepared: @Sendable () async throws -> Int64 = {
                try await store.core.engine.read { db in
                    try await db.first("SELECT count(*) AS n FROM pg_prepared_statements")?.int("n") ?? -1
                }
            }
            for i in 0..<3 { try await Fixture(store).put(key: "k\(i)") }
            _ = try await prepared()
            let first = try await prepared()
            for i in 3..<10 { try await Fixture(store).put(key: "k\(i)") }
            _ = try await store.core.engine.read { db in try await db.query("SELECT 12345 AS once") }
            #expect(first >= 3)
            #expect(try await prepared() == first)
            #expect(try await store.latestVersion(bucket: "photos", key: "k9") != nil)
        }
        var unprepared = base
        unprepared.preparedStatements = false
        try await withPostgresStores([unprepared]) { stores in
            try await Fixture(stores[0]).bucket("photos")
            for i in 0..<3 { try await Fixture(stores[0]).put(key: "k\(i)") }
            let count = try await stores[0].core.engine.read { db in
                try await db.first("SELECT count(*) AS n FROM pg_prepared_statements")?.int("n")
            }
            #expect(count == 0)
        }
    }

    /// Unversioned: every PUT replaces the key's "null" version. Racing from two gateways, each
    /// commit removes the one before it and queues the deletion of its copy; one version is left.
    @Test func concurrentOverwritesOfANullVersionLeaveOne() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 4)
        try await withPostgresStores(Array(repeating: base, count: 2)) { stores in
            try await Fixture(stores[0]).bucket("photos")
            let replaced = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 {
                    let store = stores[i % 2]
                    group.addTask {
                        let result = try await Fixture(store).put(key: "hot", versionId: nullVersionID, time: i)
                        #expect(result.version.isLatest)
                        #expect(result.replaced == nil || result.deleteJobs.count == 1)
                        return result.replaced == nil ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(replaced == 39)
            let versions = try await stores[1].listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(versions.versions.count == 1)
            #expect(versions.versions.first?.isLatest == true)
            #expect(try await stores[0].jobCounts(now: at(0)).queued == 39)
        }
    }

    @Test func twoGatewaysRepairingTogetherQueueEachMissingCopyOnce() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 4)
        try await withPostgresStores([base, base]) { stores in
            let fixture = Fixture(stores[0])
            try await fixture.bucket("photos", versioning: .enabled)
            var ids: [String] = []
            for i in 0..<20 {
                let v = fixture.version(key: "k\(i)", time: i, zones: ["FI-HEL-ST-1"], requiredCopies: 3)
                _ = try await stores[0].commit(VersionCommit(version: v, replicas: Fixture.replicas(for: v, complete: 1)))
                ids.append(v.storageId)
            }
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]
            let versionIds = ids
            let queued = try await withThrowingTaskGroup(of: [SyncJob].self) { group in
                for store in stores + stores {
                    group.addTask {
                        var jobs: [SyncJob] = []
                        for id in versionIds { jobs += try await store.requeueReplicas(storageId: id, zones: zones, copies: 3, now: at(100)) }
                        return jobs
                    }
                }
                return try await group.reduce(into: [SyncJob]()) { $0 += $1 }
            }
            #expect(queued.count == versionIds.count * 2)
            #expect(Set(queued.map { "\($0.storageId)/\($0.zone)" }).count == queued.count)
        }
    }

    @Test func reclaimAndCommitRacingNeverBothWin() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 4)
        try await withPostgresStores([base, base]) { stores in
            let fixture = Fixture(stores[0])
            try await fixture.bucket("photos", versioning: .enabled)
            let versions = (0..<30).map { fixture.version(key: "k\($0)", time: $0) }
            for v in versions {
                try await stores[0].recordIntent(WriteIntent(storageId: v.storageId, bucket: v.bucket, key: v.key,
                                                             zones: v.placement.plannedZones, backendKey: Fixture.backendKey(v),
                                                             createdAt: v.createdAt))
            }
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool, Bool).self) { group in
                for v in versions {
                    group.addTask {
                        async let committed: Bool = {
                            do {
                                _ = try await stores[0].commit(VersionCommit(version: v, replicas: Fixture.replicas(for: v, complete: 1)))
                                return true
                            } catch let error as MetadataError where error.isReclaimedWrite {
                                return false
                            }
                        }()
                        async let reclaimed = stores[1].reclaimIntent(storageId: v.storageId, now: at(1000)) != nil
                        return (v.storageId, try await committed, try await reclaimed)
                    }
                }
                return try await group.reduce(into: [(String, Bool, Bool)]()) { $0.append($1) }
            }
            #expect(outcomes.count == versions.count)
            for (id, committed, reclaimed) in outcomes {
                #expect(committed != reclaimed, "storage id \(id): committed \(committed), reclaimed \(reclaimed)")
                #expect((try await stores[1].version(storageId: id) != nil) == committed)
            }
        }
    }

    @Test func migrationsRunOnceWhenInstancesStartTogether() async throws {
        let base = try PostgresTestEnvironment.configuration(maximumConnections: 2)
        // withPostgresStores migrates each store; migrate them again concurrently.
        try await withPostgresStores([base, base, base]) { stores in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores { group.addTask { try await store.migrate() } }
                try await group.waitForAll()
            }
            try await stores[2].ping()
        }
    }

    @Test func unreachableDatabaseIsUnavailable() async throws {
        // A port nothing listens on: connection refused.
        var configuration = try PostgresMetadataStore.Configuration(url: "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
        configuration.pingTimeout = .milliseconds(500)
        let store = try PostgresMetadataStore(configuration: configuration, logger: quietLogger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // The ping gives up (no timing is asserted here: how fast is for benchmarks).
            await expectError(.unavailable) { try await store.ping() }
        }
    }

    /// On PostgreSQL an entry whose transaction is still open is not sealed, nor is any entry
    /// of a transaction that began after it; both are sealed once it commits, so a late
    /// commit never leaves an entry out of the chain.
    @Test func anEntryOfAnOpenTransactionWaitsForItsCommit() async throws {
        try await withPostgresStores([try PostgresTestEnvironment.configuration()]) { stores in
            let store = stores[0]
            _ = try await store.appendLog(LogSealConformanceTests.entry(1))
            let inserted = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let slow = Task {
                try await store.core.engine.transaction { db in
                    _ = try await SQLMetadataCore.insertLog(LogSealConformanceTests.entry(2), in: db)
                    inserted.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in inserted.stream { break }
            _ = try await store.appendLog(LogSealConformanceTests.entry(3))
            // r1 may be sealed (unless a transaction of another test holds the horizon back);
            // r2 and r3 may not.
            let during = try await store.sealLog(limit: 10, seal: LogSealConformanceTests.seal)
            #expect(during.sealed <= 1)
            #expect(try await store.sealedLog(afterSequence: 0, limit: 10).allSatisfy { $0.entry.requestId == "r1" })
            release.continuation.yield()
            try await slow.value
            _ = try await LogSealConformanceTests.sealAll(store)
            #expect(try await store.sealedLog(afterSequence: 0, limit: 10).map(\.entry.requestId) == ["r1", "r2", "r3"])
        }
    }
}

@Suite("PostgreSQL configuration")
struct PostgresConfigurationTests {
    @Test func parsesURLs() throws {
        let full = try PostgresMetadataStore.Configuration(
            url: "postgres://gw:s%40cret@db.internal:6543/meta?sslmode=disable&schema=gateway&max_connections=7"
        )
        #expect(full.client.host == "db.internal")
        #expect(full.client.port == 6543)
        #expect(full.client.username == "gw")
        #expect(full.client.password == "s@cret")
        #expect(full.client.database == "meta")
        #expect(full.schema == "gateway")
        #expect(full.maximumConnections == 7)

        #expect(full.preparedStatements)

        let minimal = try PostgresMetadataStore.Configuration(url: "postgresql://me@localhost/db")
        #expect(minimal.client.port == 5432 && minimal.client.password == nil && minimal.schema == nil)
        #expect(try !PostgresMetadataStore.Configuration(url: "postgres://me@localhost/db?prepared_statements=off").preparedStatements)
        #expect(throws: MetadataError.self) {
            try PostgresMetadataStore.Configuration(url: "postgres://me@localhost/db?prepared_statements=maybe")
        }

        let socket = try PostgresMetadataStore.Configuration(url: "postgres://me@/db?host=/tmp/pg")
        #expect(socket.client.unixSocketPath == "/tmp/pg/.s.PGSQL.5432")

        #expect(throws: MetadataError.self) { try PostgresMetadataStore.Configuration(url: "mysql://x@y/z") }
        #expect(throws: MetadataError.self) { try PostgresMetadataStore.Configuration(url: "postgres://x@y/z?sslmode=bogus") }
    }

    @Test func rejectsUnsafeSchemaNames() throws {
        var configuration = try PostgresMetadataStore.Configuration(url: "postgres://x@localhost/db")
        configuration.schema = "bad\"; DROP TABLE x; --"
        #expect(throws: MetadataError.self) { try PostgresMetadataStore(configuration: configuration, logger: quietLogger) }
    }
}
