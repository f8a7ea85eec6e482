import Foundation
import Logging
import VaporCSQLite

/// SQLite behind ``SQLEngine``: one writer connection, serialised by a semaphore, whose
/// transactions start with `BEGIN IMMEDIATE`; reads on a small pool of `query_only`
/// connections (WAL mode lets them run beside the writer). Each connection has its own thread,
/// and a transaction's body runs there with all of its statements (see ``SQLiteThread``).
final class SQLiteEngine: SQLEngine {
    let dialect = SQLDialect.sqlite
    private let writer: SQLiteHandle
    private let writeGate = AsyncSemaphore(permits: 1)
    private let readGate: AsyncSemaphore
    private let idleReaders: Locked<[SQLiteHandle]>
    private let allReaders: [SQLiteHandle]
    private let closed = Locked(false)
    private let logger: Logger
    /// With `synchronous = NORMAL` a commit appends to the WAL without waiting for the disk, so
    /// a write transaction runs on the caller's thread (a hand-off to the writer's thread and
    /// back costs more than the transaction). Checkpoints, which do fsync, then run on their
    /// own connection and thread (``checkpointer``), not at the end of a commit. With `FULL`
    /// every commit waits for the disk and runs on the writer's thread, and transactions that
    /// queue meanwhile share the next COMMIT (``groupCommitted(_:)``).
    private let writesInline: Bool
    private let checkpointer: SQLiteHandle?
    private let checkpoints = Locked<Task<Void, Never>?>(nil)
    /// `busy_timeout` of the writer when a transaction runs on its thread; inline, the writer
    /// does not wait for a lock held by another process (it moves to its thread instead).
    private let busyTimeout: Int
    /// With `FULL`, the group commit whose transaction is open on the writer (see
    /// ``groupCommitted(_:)``); read and changed only under the write gate.
    private let openBatch = Locked<CommitBatch?>(nil)
    /// Transactions and commits of the group commit so far (for tests and diagnostics).
    let groupCommitStats = Locked(GroupCommitStats())

    private init(
        writer: SQLiteHandle, readers: [SQLiteHandle], checkpointer: SQLiteHandle?, busyTimeout: Int,
        configuration: SQLiteMetadataStore.Configuration, logger: Logger
    ) {
        self.writer = writer
        self.allReaders = readers
        self.idleReaders = Locked(readers)
        self.readGate = AsyncSemaphore(permits: readers.count)
        self.checkpointer = checkpointer
        self.writesInline = checkpointer != nil
        self.busyTimeout = busyTimeout
        self.checkpointInterval = configuration.checkpointInterval
        self.walRestartFrames = configuration.walRestartFrames
        self.logger = logger
    }

    /// How often the checkpointer copies the WAL into the database file, and from which WAL
    /// size (frames) it finishes a checkpoint under the write gate.
    private let checkpointInterval: Duration
    private let walRestartFrames: Int64

    static func open(_ configuration: SQLiteMetadataStore.Configuration, logger: Logger) async throws -> SQLiteEngine {
        let url = URL(fileURLWithPath: configuration.path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw MetadataError(.unavailable, "the metadata database cannot be opened", details: "\(error)")
        }
        var opened: [SQLiteHandle] = []
        do {
            let writer = try await SQLiteHandle.open(path: configuration.path, name: "sqlite-writer")
            opened.append(writer)
            let busy = max(0, configuration.busyTimeoutMilliseconds)
            // PRAGMA arguments cannot be bound; these are integers and fixed words.
            let inline = configuration.synchronous == .normal
            try await on(writer) { writer in
                for pragma in [
                    "PRAGMA busy_timeout = \(inline ? 0 : busy)",
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = \(configuration.synchronous.rawValue)",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA wal_autocheckpoint = \(inline ? 0 : 1000)",
                    // A WAL that a burst of writes made large is cut back when it restarts.
                    "PRAGMA journal_size_limit = \(64 << 20)",
                ] {
                    _ = try writer.query(pragma)
                }
            }
            var checkpointer: SQLiteHandle?
            if inline {
                let handle = try await SQLiteHandle.open(path: configuration.path, name: "sqlite-checkpoint")
                opened.append(handle)
                try await on(handle) { _ = try $0.query("PRAGMA busy_timeout = \(busy)") }
                checkpointer = handle
            }
            var readers: [SQLiteHandle] = []
            for index in 0..<max(0, configuration.readConnections) {
                let reader = try await SQLiteHandle.open(path: configuration.path, name: "sqlite-reader-\(index)")
                opened.append(reader)
                try await on(reader) { reader in
                    _ = try reader.query("PRAGMA busy_timeout = \(busy)")
                    _ = try reader.query("PRAGMA query_only = ON")
                }
                readers.append(reader)
            }
            let engine = SQLiteEngine(writer: writer, readers: readers, checkpointer: checkpointer, busyTimeout: busy,
                                      configuration: configuration, logger: logger)
            engine.startCheckpoints()
            return engine
        } catch {
            for handle in opened { await shut(handle) }
            throw SQLiteEngine.map(error)
        }
    }

    /// Copies the WAL into the database file every `checkpointInterval` (`PASSIVE`: it never
    /// waits for or blocks a reader or the writer), as SQLite's automatic checkpoint would at
    /// the end of a commit.
    ///
    /// SQLite writes the WAL from its beginning again only when a write transaction starts
    /// after a checkpoint has copied *every* frame. Under a steady stream of writes a checkpoint
    /// beside the writer never catches up (a transaction begins while it copies and appends
    /// after it), and the WAL would grow without end: gigabytes within minutes, each new frame
    /// allocating file space. So once the WAL is past `walRestartFrames`, the frames written
    /// during the passive checkpoints are copied under the write gate, and the next write
    /// transaction restarts the WAL. At 7,000 commits/s on a disk, holding the gate for the
    /// frames of one whole pass took 22 ms; after catching up first, 2–3 ms.
    private func startCheckpoints() {
        guard let checkpointer else { return }
        let (logger, writeGate, stats) = (self.logger, self.writeGate, self.checkpointStats)
        let (interval, restartFrames) = (checkpointInterval, walRestartFrames)
        checkpoints.withLock {
            // The whole loop runs on the checkpointer's own thread: it neither waits for nor
            // takes a thread of the shared pool (where busy writers could hold it up).
            $0 = Task.detached(executorPreference: checkpointer.thread) {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    do {
                        var wal = try await Self.checkpoint(checkpointer, stats)
                        // Catch up beside the writer until a pass finds few new frames, so
                        // that the pass under the gate (which fsyncs) holds writes up briefly.
                        var passes = 1
                        while wal.frames >= restartFrames, passes < 5 {
                            let next = try await Self.checkpoint(checkpointer, stats)
                            passes += 1
                            defer { wal = next }
                            if next.frames - wal.frames < 256 { break }
                        }
                        if wal.frames >= restartFrames {
                            let gated = try await writeGate.withPermit { try await Self.checkpoint(checkpointer, stats) }
                            stats.withLock {
                                $0.gatedPasses += 1
                                $0.lastGated = gated
                            }
                        }
                    } catch {
                        stats.withLock {
                            $0.failures += 1
                            $0.lastError = String(reflecting: error)
                        }
                        logger.warning("metadata checkpoint failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
        }
    }

    /// What the checkpointer did so far (for tests and diagnostics).
    struct CheckpointStats: Sendable, CustomStringConvertible {
        var passes = 0
        var gatedPasses = 0
        var failures = 0
        var last: (frames: Int64, copied: Int64)?
        var lastGated: (frames: Int64, copied: Int64)?
        var lastError: String?

        var description: String {
            "\(passes) passes, \(gatedPasses) under the gate, \(failures) failed; last \(last.map { "\($0)" } ?? "none"), "
                + "last under the gate \(lastGated.map { "\($0)" } ?? "none"), last error \(lastError ?? "none")"
        }
    }

    let checkpointStats = Locked(CheckpointStats())

    /// `PRAGMA wal_checkpoint(PASSIVE)` on the checkpointer: the WAL's frames, and how many of
    /// them are in the database file now.
    private static func checkpoint(
        _ handle: SQLiteHandle, _ stats: Locked<CheckpointStats>
    ) async throws -> (frames: Int64, copied: Int64) {
        let wal = try await on(handle) { handle -> (frames: Int64, copied: Int64) in
            guard let row = try handle.query("PRAGMA wal_checkpoint(PASSIVE)").first else { return (0, 0) }
            return (try row.int("log"), try row.int("checkpointed"))
        }
        stats.withLock {
            $0.passes += 1
            $0.last = wal
        }
        return wal
    }

    deinit {
        let checkpointing = checkpoints.withLock { $0 }
        checkpointing?.cancel()
        // A store dropped without close(): no request can be using the connections any more,
        // but the checkpoint loop (which does not hold the engine) may be in the middle of a
        // pass on the checkpointer. Closing its connection under it crashed in SQLite, so the
        // connections are closed once the loop has ended, each on its own thread.
        if !closed.withLock({ $0 }) {
            let handles = allReaders + [writer] + (checkpointer.map { [$0] } ?? [])
            Task.detached {
                await checkpointing?.value
                for handle in handles { await Self.shut(handle) }
            }
        }
    }

    func close() async {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        // Wait for the running write transaction and reads, then close everything; callers
        // that were waiting find the engine closed once they get their permit.
        let checkpointing = checkpoints.withLock { task in
            defer { task = nil }
            return task
        }
        checkpointing?.cancel()
        await checkpointing?.value
        await writeGate.wait()
        // A group commit still open is committed first: its members wait for it.
        let (writer, openBatch, stats, logger) = (self.writer, self.openBatch, self.groupCommitStats, self.logger)
        await withTaskExecutorPreference(writer.thread) { Self.commitOpenBatch(writer, openBatch, stats, logger: logger) }
        for _ in allReaders { await readGate.wait() }
        for handle in allReaders + [writer] + (checkpointer.map { [$0] } ?? []) { await Self.shut(handle) }
        for _ in allReaders { readGate.signal() }
        writeGate.signal()
    }

    /// ``SQLiteHandle/reprepares()`` of every connection's cached statements, added up by SQL
    /// text. It waits until no transaction or read runs (as ``close()`` does).
    func reprepares() async -> [String: Int] {
        await writeGate.wait()
        for _ in allReaders { await readGate.wait() }
        defer {
            for _ in allReaders { readGate.signal() }
            writeGate.signal()
        }
        var counts: [String: Int] = [:]
        if closed.withLock({ $0 }) { return counts }
        for handle in allReaders + [writer] {
            counts.merge(handle.reprepares(), uniquingKeysWith: +)
        }
        return counts
    }

    private func checkOpen() throws {
        if closed.withLock({ $0 }) { throw MetadataError(.unavailable, "the metadata database is closed") }
    }

    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try checkOpen()
        guard !allReaders.isEmpty else { return try await write(body, begin: nil) }
        return try await Self.leavingConnectionThread {
            try await withReader { reader in
                try await withTaskExecutorPreference(reader.thread) {
                    try await body(SQLiteExecutor(handle: reader))
                }
            }
        }
    }

    /// Runs `body` on an idle reader connection on the caller's own thread. A lookup by key takes
    /// a few microseconds of SQLite's time, less than handing the task to the connection's
    /// thread and back (two thread wake-ups); reads that may scan many rows use ``read(_:)``.
    func pointRead<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try checkOpen()
        guard !allReaders.isEmpty else { return try await write(body, begin: nil) }
        return try await withReader { reader in try await body(SQLiteExecutor(handle: reader)) }
    }

    func snapshot<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try checkOpen()
        guard !allReaders.isEmpty else { return try await write(body, begin: "BEGIN") }
        return try await Self.leavingConnectionThread {
            try await withReader { reader in
                try await Self.inTransaction(reader, begin: "BEGIN", logger: logger, body)
            }
        }
    }

    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await write(body, begin: "BEGIN IMMEDIATE")
    }

    /// Runs `work`, then moves the task off the connection's thread. When a task executor
    /// preference ends, the task keeps running on the thread it was on until it next suspends:
    /// without this, the caller's own code (the rest of an S3 request) would run on the
    /// connection's thread and hold up the next transaction.
    private static func leavingConnectionThread<Result>(_ work: () async throws -> Result) async throws -> Result {
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(try await work())
        } catch {
            result = .failure(error)
        }
        await Task.yield()
        return try result.get()
    }

    private func write<Result: Sendable>(
        _ body: @Sendable (any SQLExecutor) async throws -> Result, begin: String?
    ) async throws -> Result {
        try checkOpen()
        if !writesInline, begin == "BEGIN IMMEDIATE" { return try await groupCommitted(body) }
        if writesInline, let begin {
            do {
                return try await writeGate.withPermit {
                    try checkOpen()
                    return try await Self.transactionInline(writer, begin: begin, logger: logger, body)
                }
            } catch is WriterBusy {
                // Another process holds the database's write lock: wait for it on the writer's
                // thread, as long as busy_timeout allows, not on the caller's.
            }
        }
        let (openBatch, stats) = (self.openBatch, self.groupCommitStats)
        return try await Self.leavingConnectionThread {
            try await writeGate.withPermit {
                try checkOpen()
                guard let begin else {
                    return try await withTaskExecutorPreference(writer.thread) {
                        // Outside any transaction: a group commit still open is committed first.
                        Self.commitOpenBatch(writer, openBatch, stats, logger: logger)
                        return try await body(SQLiteExecutor(handle: writer))
                    }
                }
                guard writesInline else {
                    return try await withTaskExecutorPreference(writer.thread) {
                        Self.commitOpenBatch(writer, openBatch, stats, logger: logger)
                        return try await Self.transactionBody(writer, begin: begin, logger: logger, body)
                    }
                }
                let (handle, timeout, log) = (writer, busyTimeout, logger)
                return try await withTaskExecutorPreference(handle.thread) {
                    _ = try? handle.query("PRAGMA busy_timeout = \(timeout)")
                    defer { _ = try? handle.query("PRAGMA busy_timeout = 0") }
                    return try await Self.transactionBody(handle, begin: begin, logger: log, body)
                }
            }
        }
    }

    // MARK: Group commit

    /// The most transactions one group commit takes.
    static let largestBatch = 64

    /// A write transaction with `synchronous = FULL`, where every COMMIT waits for the disk:
    /// transactions that queue for the writer meanwhile share one COMMIT (group commit).
    ///
    /// Each transaction runs, under the write gate and on the writer's thread, in the writer's
    /// open transaction: the first of a batch begins it, each later one runs as a savepoint. One
    /// that fails is rolled back (to its savepoint) and reports its error at once: the others
    /// are not touched. One that succeeds commits at once when no other task waits for the
    /// gate; otherwise it leaves the transaction open for them, queues for the gate again, and
    /// then commits the transaction unless a later member already did. The gate is FIFO, so the members that joined while it
    /// waited go into the same COMMIT. A caller gets its result only once the COMMIT that holds
    /// its changes is done; a COMMIT that fails fails every transaction in it.
    private func groupCommitted<Result: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        let (writer, openBatch, stats, logger, gate) = (self.writer, self.openBatch, self.groupCommitStats, self.logger, self.writeGate)
        let (result, pending) = try await Self.leavingConnectionThread {
            try await gate.withPermit {
                try checkOpen()
                return try await withTaskExecutorPreference(writer.thread) {
                    try await Self.joinBatch(writer, openBatch, stats, logger: logger, othersWaiting: { gate.hasWaiters }, body)
                }
            }
        }
        guard let pending else { return result }
        try await Self.leavingConnectionThread {
            await gate.wait()
            defer { gate.signal() }
            // After close() the batch is resolved already (close commits it first).
            if pending.outcome == nil {
                await withTaskExecutorPreference(writer.thread) {
                    Self.commitBatch(writer, openBatch, stats, ifStill: pending, logger: logger)
                }
            }
        }
        try pending.outcome?.get()
        return result
    }

    /// Runs `body` in the open group commit, as a savepoint, or begins one and runs it first.
    /// Returns the result and, when the transaction was left open for others, the batch to commit.
    private static func joinBatch<Result>(
        _ handle: SQLiteHandle, _ openBatch: Locked<CommitBatch?>, _ stats: Locked<GroupCommitStats>, logger: Logger,
        othersWaiting: () -> Bool, _ body: @Sendable (any SQLExecutor) async throws -> Result
    ) async throws -> (Result, CommitBatch?) {
        if let full = openBatch.withLock({ $0 }), full.members >= largestBatch {
            commitBatch(handle, openBatch, stats, ifStill: full, logger: logger)
        }
        // The first transaction of a batch needs no savepoint: when it fails, nothing of anyone
        // else is in the transaction, which is rolled back whole. With no others queued (one
        // request at a time), every transaction is a batch's first and runs as before.
        let batch: CommitBatch
        let first: Bool
        if let open = openBatch.withLock({ $0 }) {
            (batch, first) = (open, false)
        } else {
            do {
                _ = try handle.query("BEGIN IMMEDIATE")
            } catch {
                throw map(error)
            }
            (batch, first) = (CommitBatch(), true)
            openBatch.withLock { $0 = batch }
        }
        do {
            if !first { _ = try handle.query("SAVEPOINT member") }
            let result = try await body(SQLiteExecutor(handle: handle))
            if !first { _ = try handle.query("RELEASE member") }
            batch.members += 1
            stats.withLock { $0.transactions += 1 }
            guard othersWaiting() else {
                commitBatch(handle, openBatch, stats, ifStill: batch, logger: logger)
                try batch.outcome?.get()
                return (result, nil)
            }
            return (result, batch)
        } catch {
            if first {
                // Nobody else's changes are in it (the batch has no members): all of it goes.
                abandon(handle, openBatch, batch, nil, logger: logger)
            } else if handle.inTransaction {
                do {
                    _ = try handle.query("ROLLBACK TO member")
                    _ = try handle.query("RELEASE member")
                } catch {
                    abandon(handle, openBatch, batch, map(error), logger: logger)
                }
            } else {
                // SQLite rolled the whole transaction back (a full disk, an I/O error): the
                // members before this one lost their changes too.
                abandon(handle, openBatch, batch, map(error), logger: logger)
            }
            throw map(error)
        }
    }

    /// Commits `batch` if it is still the open one, and tells its members how it went.
    private static func commitBatch(
        _ handle: SQLiteHandle, _ openBatch: Locked<CommitBatch?>, _ stats: Locked<GroupCommitStats>,
        ifStill batch: CommitBatch, logger: Logger
    ) {
        guard openBatch.withLock({ $0 === batch }) else { return }
        openBatch.withLock { $0 = nil }
        do {
            _ = try handle.query("COMMIT")
            stats.withLock {
                $0.commits += 1
                $0.largest = max($0.largest, batch.members)
            }
            batch.outcome = .success(())
        } catch {
            abandon(handle, nil, batch, map(error), logger: logger)
        }
    }

    /// Commits the open group commit, if any (before anything else uses the writer).
    private static func commitOpenBatch(
        _ handle: SQLiteHandle, _ openBatch: Locked<CommitBatch?>, _ stats: Locked<GroupCommitStats>, logger: Logger
    ) {
        if let open = openBatch.withLock({ $0 }) { commitBatch(handle, openBatch, stats, ifStill: open, logger: logger) }
    }

    /// Rolls the open transaction back; `error` (nil: the batch had no members) is what its
    /// members are told.
    private static func abandon(
        _ handle: SQLiteHandle, _ openBatch: Locked<CommitBatch?>?, _ batch: CommitBatch, _ error: MetadataError?, logger: Logger
    ) {
        openBatch?.withLock { if $0 === batch { $0 = nil } }
        do {
            if handle.inTransaction { _ = try handle.query("ROLLBACK") }
        } catch {
            logger.error("metadata rollback failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        batch.outcome = error.map { .failure($0) } ?? .success(())
    }

    private func withReader<Result>(_ body: (SQLiteHandle) async throws -> Result) async throws -> Result {
        try await readGate.withPermit {
            try checkOpen()
            guard let reader = idleReaders.withLock({ $0.popLast() }) else {
                throw MetadataError(.internal, "no idle reader", details: "reader pool out of step with its semaphore")
            }
            defer { idleReaders.withLock { $0.append(reader) } }
            return try await body(reader)
        }
    }

    /// Runs `body` and its statements on the connection's thread, inside BEGIN ... COMMIT (or
    /// ROLLBACK when it throws). Statements do not observe task cancellation, so a transaction
    /// always reaches its COMMIT or ROLLBACK.
    private static func inTransaction<Result>(
        _ handle: SQLiteHandle, begin: String, logger: Logger,
        _ body: @Sendable (any SQLExecutor) async throws -> Result
    ) async throws -> Result {
        try await withTaskExecutorPreference(handle.thread) {
            try await transactionBody(handle, begin: begin, logger: logger, body)
        }
    }

    /// The BEGIN of an inline transaction found the database locked by another process.
    private struct WriterBusy: Error {}

    /// ``transactionBody(_:begin:logger:_:)`` on the caller's thread; throws ``WriterBusy``
    /// (nothing begun) when another process holds the write lock.
    private static func transactionInline<Result>(
        _ handle: SQLiteHandle, begin: String, logger: Logger,
        _ body: @Sendable (any SQLExecutor) async throws -> Result
    ) async throws -> Result {
        do {
            _ = try handle.query(begin)
        } catch let error as SQLiteResultError where error.primary == SQLITE_BUSY {
            throw WriterBusy()
        } catch {
            throw map(error)
        }
        return try await transactionBody(handle, begin: nil, logger: logger, body)
    }

    /// BEGIN (unless `begin` is nil: already begun), `body`, then COMMIT, or ROLLBACK when it
    /// throws, all on the current thread.
    private static func transactionBody<Result>(
        _ handle: SQLiteHandle, begin: String?, logger: Logger,
        _ body: @Sendable (any SQLExecutor) async throws -> Result
    ) async throws -> Result {
        let executor = SQLiteExecutor(handle: handle)
        if let begin {
            do {
                _ = try handle.query(begin)
            } catch {
                throw map(error)
            }
        }
        do {
            let result = try await body(executor)
            _ = try handle.query("COMMIT")
            return result
        } catch {
            do {
                if handle.inTransaction { _ = try handle.query("ROLLBACK") }
            } catch {
                logger.error("metadata rollback failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            throw map(error)
        }
    }

    /// Runs `body` on the connection's thread.
    private static func on<Result: Sendable>(
        _ handle: SQLiteHandle, _ body: @Sendable (SQLiteHandle) throws -> Result
    ) async throws -> Result {
        try await withTaskExecutorPreference(handle.thread) { try body(handle) }
    }

    /// Closes the connection on its thread, then lets the thread end.
    private static func shut(_ handle: SQLiteHandle) async {
        await withTaskExecutorPreference(handle.thread) { handle.close() }
        handle.thread.stop()
    }

    static func map(_ error: any Error) -> MetadataError {
        if let error = error as? MetadataError { return error }
        guard let error = error as? SQLiteResultError else {
            return MetadataError(.internal, "metadata database error", details: String(reflecting: error))
        }
        let details = error.description
        switch error.primary {
        case SQLITE_CONSTRAINT:
            switch error.code {
            case SQLiteResultError.constraintUnique, SQLiteResultError.constraintPrimaryKey:
                return MetadataError(.conflict, "a record with this identity already exists", details: details, violation: .unique)
            case SQLiteResultError.constraintForeignKey:
                return MetadataError(.conflict, "a referenced record does not exist or is still referenced", details: details, violation: .foreignKey)
            default:
                if error.message.contains("UNIQUE") {
                    return MetadataError(.conflict, "a record with this identity already exists", details: details, violation: .unique)
                }
                if error.message.contains("FOREIGN KEY") {
                    return MetadataError(.conflict, "a referenced record does not exist", details: details, violation: .foreignKey)
                }
                return MetadataError(.conflict, "the change violates a constraint", details: details, violation: .check)
            }
        case SQLITE_FULL:
            // Said in the message, which the gateway logs: the operator has to make room.
            return MetadataError(.unavailable, "the metadata database is full (no space left on its disk, or at its size limit)",
                                 details: details)
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_READONLY, SQLITE_MISUSE:
            return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
        default:
            return MetadataError(.internal, "metadata database error", details: details)
        }
    }
}

/// Runs statements on one SQLite connection, synchronously: the engine runs a transaction's
/// body on the connection's thread, a point read on the caller's.
struct SQLiteExecutor: SQLExecutor {
    let handle: SQLiteHandle
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        let (text, binds) = sql.render(.sqlite)
        do {
            return try handle.query(text, binds)
        } catch {
            throw SQLiteEngine.map(error)
        }
    }
}

/// One group commit (``SQLiteEngine``): the transactions that share a COMMIT. Its fields are
/// changed under the write gate; a member reads `outcome` after it passed the gate again.
final class CommitBatch: @unchecked Sendable {
    private let lock = NSLock()
    private var _members = 0
    private var _outcome: Result<Void, MetadataError>?

    /// Transactions in it that succeeded.
    var members: Int {
        get { lock.withLock { _members } }
        set { lock.withLock { _members = newValue } }
    }

    /// Set once the batch is committed (or failed); nil while it is open.
    var outcome: Result<Void, MetadataError>? {
        get { lock.withLock { _outcome } }
        set { lock.withLock { _outcome = newValue } }
    }
}

/// What the group commit of a `synchronous = FULL` store did.
struct GroupCommitStats: Sendable {
    /// Transactions that succeeded, and the COMMITs that made them durable.
    var transactions = 0
    var commits = 0
    /// The most transactions one COMMIT took.
    var largest = 0
}
