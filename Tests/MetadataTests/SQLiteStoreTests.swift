import Foundation
import Logging
import Synchronization
import Testing

@testable import Metadata

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("metadata-sqlite-\(Identifiers.make())")
    }

    @Test func dataSurvivesReopeningInWALMode() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = SQLiteMetadataStore.Configuration(directory: directory.path)

        let first = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        try await Fixture(first).bucket("photos")
        let put = try await Fixture(first).put(key: "k", versionId: nullVersionID)
        let mode = try await first.engine.read { db in try await db.first("PRAGMA journal_mode") }
        #expect(try mode?.string("journal_mode") == "wal")
        await first.close()
        await expectError(.unavailable) { try await first.ping() }

        let second = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        #expect(try await second.latestVersion(bucket: "photos", key: "k") == put.version)
        await second.close()
    }

    /// Commits run on the caller's thread without SQLite's automatic checkpoint; the engine's
    /// checkpointer copies the WAL into the database file in the background. A copy of the
    /// database file alone (no WAL) then holds what was committed.
    @Test func checkpointsRunInTheBackground() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        try await Fixture(store).bucket("checkpointed")
        let automatic = try await store.engine.transaction { db in try await db.first("PRAGMA wal_autocheckpoint") }
        #expect(try automatic?.int("wal_autocheckpoint") == 0)
        // The checkpointer runs every 250 ms; on a busy machine a pass may come late or find
        // the WAL in use, so the copy is taken again until it holds the bucket (10 s at most).
        let copy = directory.appendingPathComponent("copy.sqlite").path
        var names: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while names.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: configuration.checkpointInterval)
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: configuration.path, toPath: copy)
            let reader = try await SQLiteHandle.open(path: copy, name: "copy-reader")
            names = (try? reader.query("SELECT name FROM buckets").map { try $0.string("name") }) ?? []
            reader.close()
            reader.thread.stop()
        }
        #expect(names == ["checkpointed"])
        await store.close()
    }

    /// Under writes that never pause, a checkpoint beside the writer never copies every frame,
    /// and SQLite restarts the WAL only after one has: the engine finishes such a checkpoint
    /// under the write gate once the WAL is past `walRestartFrames`, so the WAL is written from
    /// its start again (its header counts the restarts) instead of growing with every commit.
    @Test func theWALRestartsUnderContinuousWrites() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        configuration.checkpointInterval = .milliseconds(10)
        configuration.walRestartFrames = 50
        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        try await Fixture(store).bucket("busy")
        // Four writers that never pause, until the WAL has restarted twice (or 60 s or 5,000
        // commits have passed without).
        let walPath = configuration.path + "-wal"
        let restartsSoFar: @Sendable () -> Int = {
            guard let wal = try? Data(contentsOf: URL(fileURLWithPath: walPath)), wal.count >= 32 else { return 0 }
            // WAL header: magic, version, page size, then the checkpoint sequence (big-endian).
            return wal[12..<16].reduce(0) { $0 << 8 | Int($1) }
        }
        let done = Locked(false)
        let commits = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var index = 0
                    while !done.withLock({ $0 }) {
                        try await Fixture(store).put(bucket: "busy", key: "w\(writer)/\(index)")
                        index += 1
                        commits.withLock { $0 += 1 }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            // At most 5,000 commits: without restarts that is ~200 MB of WAL already.
            while restartsSoFar() < 2, ContinuousClock.now < deadline, commits.withLock({ $0 }) < 5000 {
                try await Task.sleep(for: .milliseconds(20))
            }
            done.withLock { $0 = true }
            try await group.waitForAll()
        }
        let written = commits.withLock { $0 }
        let stats = store.engine.checkpointStats.withLock { $0 }
        #expect(restartsSoFar() >= 2, "the WAL restarted \(restartsSoFar()) times in \(written) commits; checkpointer: \(stats)")
        #expect(try await store.latestVersion(bucket: "busy", key: "w3/0") != nil)
        await store.close()
    }

    /// A database written by an earlier version (migrations 1 and 2) keeps its intents and
    /// replicas when migration 3 rebuilds both tables as WITHOUT ROWID tables.
    @Test func migrationThreeKeepsIntentsAndReplicas() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let old = try await SQLiteHandle.open(path: configuration.path, name: "version-2")
        _ = try old.query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for migration in Schema.migrations(.sqlite) where migration.version <= 2 {
            for statement in migration.statements { _ = try old.query(statement) }
            _ = try old.query("INSERT INTO schema_migrations VALUES (?1, '2026-01-01T00:00:00Z')", [.int(Int64(migration.version))])
        }
        _ = try old.query("""
            INSERT INTO write_intents (storage_id, bucket, key, zones, backend_key, created_at, reclaimed_at)
            VALUES ('s-1', 'photos', 'a.jpg', '["FI-HEL-ST-1"]', 'photos/a.jpg.s-1', 1000000, 2000000)
            """)
        _ = try old.query("""
            INSERT INTO object_replicas (storage_id, zone, status, backend_key, size, etag, checksum, updated_at, last_error)
            VALUES ('s-2', 'FI-HEL-ST-1', 'complete', 'photos/b.jpg.s-2', 11, '"e"', NULL, 3000000, NULL)
            """)
        old.close()
        old.thread.stop()

        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        let intents = try await store.staleIntents(olderThan: Date(timeIntervalSince1970: 10), limit: 10)
        #expect(intents.map(\.storageId) == ["s-1"])
        #expect(intents.first?.backendKey == "photos/a.jpg.s-1")
        let replicas = try await store.replicas(storageId: "s-2")
        #expect(replicas.map(\.zone) == ["FI-HEL-ST-1"])
        #expect(replicas.first?.status == .complete)
        let tables = try await store.engine.read { db in
            try await db.query("SELECT name, sql FROM sqlite_schema WHERE name IN ('write_intents', 'object_replicas')")
        }
        #expect(tables.count == 2)
        for table in tables { #expect(try table.string("sql").contains("WITHOUT ROWID")) }
        // The intent keeps working: a reclaimed intent blocks its commit.
        await expectError(.conflict) {
            try await Fixture(store).bucket("photos")
            _ = try await store.commit(VersionCommit(version: Fixture(store).version(key: "a.jpg", storageId: "s-1")))
        }
        await store.close()
    }

    /// A write transaction that finds the database locked by another process waits for it
    /// (busy_timeout) instead of failing.
    @Test func aWriteWaitsForAnotherProcesssLock() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        let other = try await SQLiteHandle.open(path: configuration.path, name: "other-process")
        _ = try other.query("BEGIN IMMEDIATE")
        let write = Task { try await Fixture(store).bucket("after-the-lock") }
        try await Task.sleep(for: .milliseconds(300))
        _ = try other.query("COMMIT")
        try await write.value
        #expect(try await store.bucket(named: "after-the-lock") != nil)
        // Later writes run inline again.
        try await Fixture(store).bucket("inline-again")
        other.close()
        other.thread.stop()
        await store.close()
    }

    @Test func readsWorkWithoutReaderPool() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        configuration.readConnections = 0
        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        try await Fixture(store).bucket("photos")
        try await Fixture(store).put(key: "a", versionId: nullVersionID)
        #expect(try await store.listObjects(ListObjectsRequest(bucket: "photos")).objects.map(\.key) == ["a"])
        await store.close()
    }

    @Test func runReturnsOnCancellationAndCloses() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteMetadataStore.open(
            configuration: .init(directory: directory.path), logger: quietLogger
        )
        let task = Task { try await store.run() }
        try await store.ping()
        task.cancel()
        try await task.value
        await expectError(.unavailable) { try await store.ping() }
    }

    @Test func cachedStatementsTakeNewBindsEachTime() async throws {
        try await withSQLiteStore { store in
            // One text, prepared once and kept: every run binds its own values.
            for value in ["a", "bb", "", "ccc"] {
                let row = try await store.engine.read { db in
                    try await db.first("SELECT \(value) AS v, length(\(value)) AS n, \(nil as String?) AS none")
                }
                #expect(try row?.string("v") == value)
                #expect(try row?.int("n") == Int64(value.count))
                #expect(try row?.optionalString("none") == nil)
            }
        }
    }

    /// The statements of a PUT, a GET, a sync job and the log's seal are parsed once per
    /// connection and then only bound and run. Each one runs here with new values six times;
    /// SQLite counts the times it had to prepare one again. It may once, at the first bind of a
    /// parameter its planner looked at; a cleared binding did it at every run (the replicas'
    /// lookup of every GET), and so did a status bound as a parameter that a partial index
    /// names (the claim of jobs, at every poll of every worker).
    @Test func statementsArePreparedOnce() async throws {
        try await withSQLiteStore { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            // The migrations changed the schema under statements prepared before them.
            let before = await store.engine.reprepares()
            for index in 0..<6 {
                let key = "k\(index)"
                let zones = ["FI-HEL-ST-1", "SE-STO-ST-1"]
                let entry = OperationLogEntry(
                    time: at(index), requestId: "r\(index)", operation: "PutObject", bucket: "photos", key: key,
                    httpStatus: 200, zones: zones
                )
                let committed = try await fixture.put(key: key, size: Int64(index + 1), time: index, zones: zones, log: entry)
                let storageId = committed.version.storageId
                #expect(try await store.latestVersion(bucket: "photos", key: key)?.storageId == storageId)
                #expect(try await store.replicas(storageId: storageId).map(\.zone) == zones)
                #expect(try await store.versionWithReplicas(bucket: "photos", key: key, versionId: nil)?.replicas.count == zones.count)
                #expect(try await store.version(storageId: storageId)?.size == Int64(index + 1))
                #expect(try await store.version(bucket: "photos", key: key, versionId: committed.version.versionId) != nil)
                let jobs = try await store.claimJobs(worker: "w", limit: 10, now: at(index + 100), leaseSeconds: 30)
                #expect(jobs.map(\.storageId) == [storageId])
                for job in jobs { try await store.completeJob(id: job.id, etag: committed.version.etag, now: at(index + 101)) }
                #expect(try await store.sealLog(limit: 100) { previous, _ in (previous ?? "") + "." }.sealed == 1)
            }
            let counts = await store.engine.reprepares().filter { !$0.key.hasPrefix("PRAGMA") }
            #expect(counts.count >= 10)
            let prepared = counts.filter { $0.value - before[$0.key, default: 0] > 1 }
            #expect(prepared.isEmpty, "prepared again: \(prepared)")
        }
    }

    @Test func statementsBeyondTheCacheLimitStillRun() async throws {
        try await withSQLiteStore { store in
            let count = SQLiteHandle.statementCacheLimit + 20
            let sums = try await store.engine.read { db in
                var sums: [Int64] = []
                for i in 0..<count {
                    // A different text each time, so the cache fills and later texts are not kept.
                    sums.append(try await db.first(SQL(unsafeRaw: "SELECT \(i) + 1 AS n"))?.int("n") ?? -1)
                }
                return sums
            }
            #expect(sums == (0..<count).map { Int64($0 + 1) })
        }
    }

    @Test func failedStatementLeavesItsCachedTextUsable() async throws {
        try await withSQLiteStore { store in
            try await Fixture(store).bucket("photos")
            // The same INSERT text fails (duplicate) and then succeeds with other values.
            await expectError(.alreadyExists) { try await Fixture(store).bucket("photos") }
            try await Fixture(store).bucket("videos")
            #expect(try await store.listBuckets().map(\.name) == ["photos", "videos"])
        }
    }

    @Test func constraintViolationsKeepTheirMeaning() async throws {
        try await withSQLiteStore { store in
            try await store.engine.transaction { db in
                try await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
                try await db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent (id))")
                try await db.execute("INSERT INTO parent (id) VALUES (1)")
            }
            for (statement, violation) in [
                ("INSERT INTO parent (id) VALUES (1)", MetadataError.Violation.unique),
                ("INSERT INTO child (id, parent) VALUES (1, 2)", .foreignKey),
                ("INSERT INTO child (id, parent) VALUES (2, NULL)", .check),
            ] {
                do {
                    try await store.engine.transaction { db in try await db.execute(SQL(unsafeRaw: statement)) }
                    Issue.record("\(statement) succeeded")
                } catch let error as MetadataError {
                    #expect(error.code == .conflict, "\(statement): \(error.debugDescription)")
                    #expect(error.violation == violation, "\(statement): \(error.debugDescription)")
                }
            }
            // Each failed transaction was rolled back: the writer is free and the data unchanged.
            let count = try await store.engine.read { db in try await db.first("SELECT count(*) AS n FROM child")?.int("n") }
            #expect(count == 0)
        }
    }

    @Test func concurrentWritesAndReadsAllComplete() async throws {
        try await withSQLiteStore { store in
            try await Fixture(store).bucket("photos")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask { try await Fixture(store).put(key: "k\(i)", versionId: nullVersionID) }
                    group.addTask { _ = try await store.listObjects(ListObjectsRequest(bucket: "photos")) }
                }
                try await group.waitForAll()
            }
            let keys = try await store.listObjects(ListObjectsRequest(bucket: "photos", maxKeys: 1000)).objects.map(\.key)
            #expect(Set(keys) == Set((0..<40).map { "k\($0)" }))
        }
    }

    @Test func closeWaitsForRunningCallsAndRefusesLaterOnes() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteMetadataStore.open(configuration: .init(directory: directory.path), logger: quietLogger)
        try await Fixture(store).bucket("photos")
        let calls = (0..<20).map { i in
            Task { try await Fixture(store).put(key: "k\(i)", versionId: nullVersionID) }
        }
        await store.close()
        // Every call either completed before the close or was refused as unavailable.
        for call in calls {
            do {
                _ = try await call.value
            } catch let error as MetadataError {
                #expect(error.code == .unavailable, "\(error.debugDescription)")
            }
        }
        await expectError(.unavailable) { try await store.listBuckets() }
    }

    /// The messages logged through ``logger``.
    final class CapturedLog: Sendable {
        private let messages = Mutex<[String]>([])
        var all: [String] { messages.withLock { $0 } }
        var logger: Logger { Logger(label: "captured") { _ in Handler(log: self) } }

        struct Handler: LogHandler {
            let log: CapturedLog
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                log.messages.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
            }
        }
    }

    /// A database that cannot grow (here at its `max_page_count`; a full disk gives SQLite the
    /// same error) refuses writes as unavailable (the gateway's 503) and changes nothing; what
    /// was committed stays readable, and writes work again once there is room, without
    /// reopening the store.
    @Test func aFullDatabaseRefusesWritesAndRecovers() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = CapturedLog()
        let store = try await SQLiteMetadataStore.open(configuration: .init(directory: directory.path), logger: log.logger)
        let fixture = Fixture(store)
        try await fixture.bucket("photos")
        let before = try await fixture.put(key: "before")
        let counted = try await store.engine.transaction { db in try await db.first("PRAGMA page_count") }
        let pages = try #require(try counted?.int("page_count"))
        _ = try await store.engine.transaction { db in try await db.first(SQL(unsafeRaw: "PRAGMA max_page_count = \(pages)")) }

        var refused: (key: String, error: MetadataError)?
        for index in 0..<5_000 {
            let key = "fill/\(index)/" + String(repeating: "x", count: 200)
            do {
                try await fixture.put(key: key)
            } catch let error as MetadataError {
                refused = (key, error)
                break
            }
        }
        let (key, error) = try #require(refused, "the database never filled up")
        #expect(error.code == .unavailable, "\(error.debugDescription)")
        #expect(error.debugDescription.contains("full"), "\(error.debugDescription)")
        #expect(try await store.latestVersion(bucket: "photos", key: key) == nil)
        #expect(try await store.latestVersion(bucket: "photos", key: "before") == before.version)
        #expect(try await store.staleIntents(olderThan: Date().addingTimeInterval(3600), limit: 10).isEmpty)
        #expect(!log.all.contains { $0.contains("rollback failed") }, "\(log.all)")

        _ = try await store.engine.transaction { db in try await db.first(SQL(unsafeRaw: "PRAGMA max_page_count = 1073741823")) }
        let after = try await fixture.put(key: key)
        #expect(try await store.latestVersion(bucket: "photos", key: key) == after.version)
        await store.close()
    }

    @Test func unopenablePathIsUnavailable() async throws {
        await expectError(.unavailable) {
            try await SQLiteMetadataStore.open(configuration: .init(path: "/proc/no-such-dir/metadata.sqlite"), logger: quietLogger)
        }
    }
}
