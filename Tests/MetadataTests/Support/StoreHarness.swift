import Foundation
import Logging
import Testing

@testable import Metadata

/// The stores the conformance suite runs against.
///
/// SQLite always runs (a temporary directory per test), with `synchronous = NORMAL` (the
/// default, whose transactions run on the caller's thread) and `FULL` (whose transactions run
/// on the writer's thread and share COMMITs, the group commit). PostgreSQL runs when
/// `POSTGRES_TEST_URL` is set (`scripts/postgres.sh start DIR` prints one); each test gets its
/// own schema, dropped afterwards. With `REQUIRE_POSTGRES=1` and no URL the PostgreSQL cases
/// run and fail instead of being left out.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case sqliteFull = "sqlite-full"
    case postgres

    /// The cases conformance tests are parameterised over.
    static var testCases: [StoreKind] {
        PostgresTestEnvironment.shouldRun ? [.sqlite, .sqliteFull, .postgres] : [.sqlite, .sqliteFull]
    }

    var isSQLite: Bool { self != .postgres }

    var testDescription: String { rawValue }
}

enum PostgresTestEnvironment {
    static var url: String? {
        let value = ProcessInfo.processInfo.environment["POSTGRES_TEST_URL"] ?? ""
        return value.isEmpty ? nil : value
    }

    static var isRequired: Bool {
        ProcessInfo.processInfo.environment["REQUIRE_POSTGRES"] == "1"
    }

    /// Whether PostgreSQL tests run (and fail when required but not configured).
    static var shouldRun: Bool { url != nil || isRequired }

    /// The tests' schemas are created and migrated a few at a time: dozens of concurrent
    /// migrations (DDL, catalog locks) on a server that shares two cores with the rest of the
    /// suite only make each slower.
    static let migrations = AsyncSemaphore(permits: 4)

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "REQUIRE_POSTGRES=1 but POSTGRES_TEST_URL is not set (start a server with scripts/postgres.sh start DIR)"
        }
    }

    /// A configuration for a fresh schema.
    static func configuration(schema: String? = nil, maximumConnections: Int = 3) throws -> PostgresMetadataStore.Configuration {
        guard let url else { throw NotConfigured() }
        var configuration = try PostgresMetadataStore.Configuration(url: url)
        configuration.schema = schema ?? "mt_" + Identifiers.make().suffix(16)
        configuration.maximumConnections = maximumConnections
        return configuration
    }
}

let quietLogger = Logger(label: "metadata-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` with a fresh, migrated store of `kind` and tears it down afterwards.
func withStore(
    _ kind: StoreKind,
    maximumConnections: Int = 3,
    _ body: @Sendable (any MetadataStore) async throws -> Void
) async throws {
    switch kind {
    case .sqlite:
        try await withSQLiteStore { try await body($0) }
    case .sqliteFull:
        try await withSQLiteStore(synchronous: .full) { try await body($0) }
    case .postgres:
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: maximumConnections)
        try await withPostgresStores([configuration]) { stores in
            try await body(stores[0])
        }
    }
}

/// Opens a SQLite store in a fresh directory, runs `body`, closes the store and removes the files.
func withSQLiteStore(
    synchronous: SQLiteMetadataStore.Configuration.Synchronous = .normal, _ body: (SQLiteMetadataStore) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("metadata-tests-\(Identifiers.make())")
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
    configuration.synchronous = synchronous
    let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
    do {
        try await body(store)
    } catch {
        await store.close()
        throw error
    }
    await store.close()
}

/// Runs several PostgreSQL stores (each with its own pool, like several gateways) while `body`
/// runs; migrates each and drops the schemas afterwards.
func withPostgresStores(
    _ configurations: [PostgresMetadataStore.Configuration],
    _ body: @Sendable ([PostgresMetadataStore]) async throws -> Void
) async throws {
    let stores = try configurations.map { try PostgresMetadataStore(configuration: $0, logger: quietLogger) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for store in stores {
            group.addTask { await store.run() }
        }
        defer { group.cancelAll() }
        var failure: (any Error)?
        do {
            try await PostgresTestEnvironment.migrations.withPermit {
                for store in stores { try await store.migrate() }
            }
            try await body(stores)
        } catch {
            failure = error
        }
        for store in stores { try? await store.dropSchema() }
        if let failure { throw failure }
    }
}
