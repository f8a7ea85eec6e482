import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// SQLite behind ``SQLEngine``: one writer connection, serialised by a semaphore, whose
/// transactions start with `BEGIN IMMEDIATE`; reads on a small pool of `query_only`
/// connections (WAL mode lets them run beside the writer).
final class SQLiteEngine: SQLEngine {
    let dialect = SQLDialect.sqlite
    private let writer: SQLiteConnection
    private let writeGate = AsyncSemaphore(permits: 1)
    private let readGate: AsyncSemaphore
    private let idleReaders: Locked<[SQLiteConnection]>
    private let allReaders: [SQLiteConnection]
    private let closed = Locked(false)
    private let logger: Logger

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.writer = writer
        self.allReaders = readers
        self.idleReaders = Locked(readers)
        self.readGate = AsyncSemaphore(permits: readers.count)
        self.logger = logger
    }

    static func open(_ configuration: SQLiteMetadataStore.Configuration, logger: Logger) async throws -> SQLiteEngine {
        let url = URL(fileURLWithPath: configuration.path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw MetadataError(.unavailable, "the metadata database cannot be opened", details: "\(error)")
        }
        let storage = SQLiteConnection.Storage.file(path: configuration.path)
        var opened: [SQLiteConnection] = []
        do {
            let writer = try await SQLiteConnection.open(storage: storage, logger: logger)
            opened.append(writer)
            let busy = max(0, configuration.busyTimeoutMilliseconds)
            // PRAGMA arguments cannot be bound; these are integers and fixed words.
            for pragma in [
                "PRAGMA busy_timeout = \(busy)",
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = \(configuration.synchronous.rawValue)",
                "PRAGMA foreign_keys = ON",
            ] {
                _ = try await run(writer, pragma)
            }
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(0, configuration.readConnections) {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger)
                opened.append(reader)
                _ = try await run(reader, "PRAGMA busy_timeout = \(busy)")
                _ = try await run(reader, "PRAGMA query_only = ON")
                readers.append(reader)
            }
            return SQLiteEngine(writer: writer, readers: readers, logger: logger)
        } catch {
            for connection in opened { try? await connection.close().get() }
            throw SQLiteEngine.map(error)
        }
    }

    deinit {
        // A store dropped without close(): close the connections in the background (each close
        // keeps its connection alive until it ran).
        if !closed.withLock({ $0 }) {
            for connection in allReaders + [writer] { _ = connection.close() }
        }
    }

    func close() async {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        // Wait for the running write transaction, then close everything.
        await writeGate.wait()
        for connection in allReaders + [writer] { try? await connection.close().get() }
        writeGate.signal()
    }

    private func checkOpen() throws {
        if closed.withLock({ $0 }) { throw MetadataError(.unavailable, "the metadata database is closed") }
    }

    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try checkOpen()
        guard !allReaders.isEmpty else { return try await write(body, begin: nil) }
        return try await withReader { reader in try await body(SQLiteExecutor(connection: reader, logger: logger)) }
    }

    func snapshot<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try checkOpen()
        guard !allReaders.isEmpty else { return try await write(body, begin: "BEGIN") }
        return try await withReader { reader in
            try await Self.inTransaction(reader, begin: "BEGIN", logger: logger, body)
        }
    }

    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await write(body, begin: "BEGIN IMMEDIATE")
    }

    private func write<Result: Sendable>(
        _ body: @Sendable (any SQLExecutor) async throws -> Result, begin: String?
    ) async throws -> Result {
        try checkOpen()
        return try await writeGate.withPermit {
            try checkOpen()
            guard let begin else { return try await body(SQLiteExecutor(connection: writer, logger: logger)) }
            return try await Self.inTransaction(writer, begin: begin, logger: logger, body)
        }
    }

    private func withReader<Result>(_ body: (SQLiteConnection) async throws -> Result) async throws -> Result {
        try await readGate.withPermit {
            guard let reader = idleReaders.withLock({ $0.popLast() }) else {
                throw MetadataError(.internal, "no idle reader", details: "reader pool out of step with its semaphore")
            }
            defer { idleReaders.withLock { $0.append(reader) } }
            return try await body(reader)
        }
    }

    private static func inTransaction<Result>(
        _ connection: SQLiteConnection, begin: String, logger: Logger,
        _ body: @Sendable (any SQLExecutor) async throws -> Result
    ) async throws -> Result {
        let executor = SQLiteExecutor(connection: connection, logger: logger)
        do {
            _ = try await Self.run(connection, begin)
        } catch {
            throw map(error)
        }
        do {
            let result = try await body(executor)
            _ = try await Self.run(connection, "COMMIT")
            return result
        } catch {
            do {
                _ = try await Self.run(connection, "ROLLBACK")
            } catch {
                logger.error("metadata rollback failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            throw map(error)
        }
    }

    /// Runs one statement through sqlite-nio's future API: unlike its async API, that one is not
    /// abandoned when the calling task is cancelled, so a transaction always reaches its COMMIT
    /// or ROLLBACK and connections always close.
    static func run(_ connection: SQLiteConnection, _ text: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        let future: EventLoopFuture<[SQLiteRow]> = connection.query(text, binds)
        return try await future.get()
    }

    static func map(_ error: any Error) -> MetadataError {
        if let error = error as? MetadataError { return error }
        guard let error = error as? SQLiteError else {
            return MetadataError(.internal, "metadata database error", details: String(reflecting: error))
        }
        let details = "\(error.reason): \(error.message)"
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return MetadataError(.conflict, "a record with this identity already exists", details: details, violation: .unique)
        case .constraintForeignKeyFailed:
            return MetadataError(.conflict, "a referenced record does not exist or is still referenced", details: details, violation: .foreignKey)
        case .constraint, .constraintCheckFailed, .constraintNotNullFailed, .constraintStrictDataTypeFailed:
            if error.message.contains("UNIQUE") {
                return MetadataError(.conflict, "a record with this identity already exists", details: details, violation: .unique)
            }
            if error.message.contains("FOREIGN KEY") {
                return MetadataError(.conflict, "a referenced record does not exist", details: details, violation: .foreignKey)
            }
            return MetadataError(.conflict, "the change violates a constraint", details: details, violation: .check)
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked,
             .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .full, .ioError, .ioErrorFailedRead,
             .ioErrorFailedWrite, .ioErrorFailedSync, .readOnly, .readonlyCantLock, .readonlyDirectory,
             .readonlyInRecovery, .readonlyInRollback, .readonlyBackingMoved, .misuse:
            return MetadataError(.unavailable, "the metadata database is unavailable", details: details)
        default:
            return MetadataError(.internal, "metadata database error", details: details)
        }
    }
}

/// Runs statements on one SQLite connection.
struct SQLiteExecutor: SQLExecutor {
    let connection: SQLiteConnection
    let logger: Logger
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        let (text, values) = sql.render(.sqlite)
        let binds = values.map(Self.data)
        do {
            return try await SQLiteEngine.run(connection, text, binds).map(Self.row)
        } catch {
            throw SQLiteEngine.map(error)
        }
    }

    private static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .text(let v): v.map { .text($0) } ?? .null
        case .int(let v): v.map { .integer(SQLiteInt64($0)) } ?? .null
        case .bool(let v): v.map { .integer($0 ? 1 : 0) } ?? .null
        case .date(let v): v.map { .integer(SQLiteInt64(SQLTime.micros($0))) } ?? .null
        }
    }

    private static func row(_ row: SQLiteRow) -> SQLRow {
        var values: [String: SQLValue] = [:]
        for column in row.columns {
            switch column.data {
            case .integer(let v): values[column.name] = .int(Int64(v))
            case .float(let v): values[column.name] = .int(Int64(v))
            case .text(let v): values[column.name] = .text(v)
            case .blob(let v): values[column.name] = .text(String(buffer: v))
            case .null: values[column.name] = .text(nil)
            }
        }
        return SQLRow(values)
    }
}
