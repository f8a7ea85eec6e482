import Foundation
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

    @Test func unopenablePathIsUnavailable() async throws {
        await expectError(.unavailable) {
            try await SQLiteMetadataStore.open(configuration: .init(path: "/proc/no-such-dir/metadata.sqlite"), logger: quietLogger)
        }
    }
}
