import ArgumentParser
import Foundation
import Histogram
import Logging
import Metadata
import NIOCore
import NIOPosix

/// The metadata work of a 4 KiB PUT without HTTP or a backend: the write intent, then the
/// commit (the version, one complete replica, the operations-log row), as the gateway does
/// them, against SQLite (a file in `--directory`) or PostgreSQL (`--postgres URL`).
@main
struct MetadataLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata-load",
        abstract: "Times the metadata store's PUT transactions (intent + commit) in-process.")

    @Option(help: "Folder of the SQLite database (created; a new database each run).")
    var directory: String?

    @Option(help: "PostgreSQL URL (postgres://user:pass@host:port/db); a new schema each run.")
    var postgres: String?

    @Option(help: "SQLite's PRAGMA synchronous: normal (the default) or full (every COMMIT waits for the disk).")
    var synchronous: String = "normal"

    @Option(help: "PUTs in flight at once.")
    var concurrency = 1

    @Option(help: "PUTs per task and round, after the warm-up.")
    var count = 5000

    @Option(help: "PUTs per task before the measured part.")
    var warmup = 1000

    @Option(help: "Rounds (each prints its own line).")
    var rounds = 3

    mutating func run() async throws {
        do {
            try await load()
        } catch {
            print("metadata-load: \(String(reflecting: error))")
            throw ExitCode.failure
        }
    }

    func load() async throws {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let logger = Logger(label: "metadata-load")
        let store: any MetadataStore
        let name: String
        if let postgres {
            var configuration = try PostgresMetadataStore.Configuration(url: postgres)
            configuration.schema = "load_\(UInt32.random(in: 0...UInt32.max))"
            let pg = try PostgresMetadataStore(configuration: configuration, logger: logger)
            Task { await pg.run() }
            try await pg.migrate()
            store = pg
            name = "postgres"
        } else {
            let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("metadata-load-\(getpid())").path
            try? FileManager.default.removeItem(atPath: directory)
            var configuration = SQLiteMetadataStore.Configuration(directory: directory)
            guard let mode = SQLiteMetadataStore.Configuration.Synchronous(rawValue: synchronous.uppercased()) else {
                throw ValidationError("--synchronous must be normal or full")
            }
            configuration.synchronous = mode
            store = try await SQLiteMetadataStore.open(configuration: configuration, logger: logger)
            name = "sqlite"
        }
        let bucket = "bench"
        try await store.createBucket(Bucket(name: bucket, createdAt: Date(), owner: "bench", region: "eu-north-1"))

        print("store \(name), concurrency \(concurrency), \(count) PUTs per task and round")
        print("round      puts    puts/s  intent p50 µs  p99 µs   commit p50 µs  p99 µs  p99.9 µs  max µs")
        for round in 0...rounds {
            let measured = round > 0
            let perTask = measured ? count : warmup
            let start = ContinuousClock.now
            let histograms = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Histogram<UInt64>).self) { group in
                for task in 0..<concurrency {
                    group.addTask {
                        var intents = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                        var commits = intents
                        for index in 0..<perTask {
                            let key = "r\(round)/t\(task)/object-\(index)"
                            let (intentTime, commitTime) = try await Self.put(store, bucket: bucket, key: key)
                            intents.record(UInt64(intentTime))
                            commits.record(UInt64(commitTime))
                        }
                        return (intents, commits)
                    }
                }
                var intents = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var commits = intents
                for try await (i, c) in group {
                    intents.add(i)
                    commits.add(c)
                }
                return (intents, commits)
            }
            let elapsed = ContinuousClock.now - start
            guard measured else { continue }
            let puts = perTask * concurrency
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let (intents, commits) = histograms
            print(String(format: "%5d %9d %9.0f %14d %7d %15d %7d %9d %7d", round, puts, Double(puts) / seconds,
                         intents.valueAtPercentile(50), intents.valueAtPercentile(99),
                         commits.valueAtPercentile(50), commits.valueAtPercentile(99), commits.valueAtPercentile(99.9), commits.max))
        }
        if let sqlite = store as? SQLiteMetadataStore { await sqlite.close() }
    }

    /// One PUT's metadata: returns the intent's and the commit's time in µs.
    static func put(_ store: any MetadataStore, bucket: String, key: String) async throws -> (Int64, Int64) {
        let now = Date()
        let storageId = Identifiers.make(at: now)
        let zone = "FI-HEL-1"
        let backendKey = WriteIntent.backendKey(bucket: bucket, key: key, storageId: storageId)
        let clock = ContinuousClock()
        let t0 = clock.now
        try await store.recordIntent(WriteIntent(
            storageId: storageId, bucket: bucket, key: key, zones: [zone], backendKey: backendKey, createdAt: now))
        let t1 = clock.now
        let etag = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""
        let version = ObjectVersion(
            storageId: storageId, versionId: "null", bucket: bucket, key: key, size: 4096, etag: etag,
            headers: ObjectHeaders(contentType: "application/octet-stream"), createdAt: now,
            placement: PlacementInfo(
                policySetHash: "sha256:0123456789abcdef", residencyPolicies: ["fi-only"], replicationPolicy: "one-copy",
                plannedZones: [zone], requiredCopies: 1, writeQuorum: 1))
        _ = try await store.commit(VersionCommit(
            version: version,
            replicas: [CommitReplica(zone: zone, status: .complete, backendKey: backendKey, etag: etag)],
            log: OperationLogEntry(
                time: now, requestId: storageId, principal: "bench-access", operation: "PutObject", bucket: bucket,
                key: key, versionId: "null", httpStatus: 200, zones: [zone], policySetHash: "sha256:0123456789abcdef",
                bytes: 4096)))
        let t2 = clock.now
        return (micros(t1 - t0), micros(t2 - t1))
    }

    static func micros(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000
    }
}
