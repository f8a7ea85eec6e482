import Foundation
import Testing

@testable import Metadata

/// With `synchronous = FULL` every COMMIT waits for the disk, so the write transactions that
/// queue for the writer meanwhile share one (``SQLiteEngine``'s group commit). Each keeps its
/// own outcome: a transaction returns only once a COMMIT holding its changes is done, and one
/// that fails leaves nothing behind and takes nothing of the others with it.
@Suite("SQLite group commit")
struct GroupCommitTests {
    static func fullConfiguration(_ directory: URL) -> SQLiteMetadataStore.Configuration {
        var configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        configuration.synchronous = .full
        return configuration
    }

    static func count(_ engine: SQLiteEngine, _ x: Int) async throws -> Int64 {
        try await engine.read { db in try await db.first("SELECT count(*) AS n FROM gc WHERE x = \(x)")?.int("n") ?? 0 }
    }

    @Test func concurrentTransactionsShareCommitsAndKeepTheirOwnOutcome() async throws {
        let directory = SQLiteStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteMetadataStore.open(configuration: Self.fullConfiguration(directory), logger: quietLogger)
        let engine = store.engine
        try await engine.transaction { db in try await db.execute("CREATE TABLE gc (x INTEGER PRIMARY KEY, note TEXT NOT NULL)") }
        try await engine.transaction { db in try await db.execute("INSERT INTO gc (x, note) VALUES (0, 'taken')") }
        let before = engine.groupCommitStats.withLock { $0 }

        // Every fifth transaction inserts its row, then one that is there already: it fails,
        // and its first row must go with it.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 1...200 {
                group.addTask {
                    do {
                        try await engine.transaction { db in
                            try await db.execute("INSERT INTO gc (x, note) VALUES (\(1000 + i), 'member')")
                            if i % 5 == 0 { try await db.execute("INSERT INTO gc (x, note) VALUES (0, 'again')") }
                        }
                    } catch let error as MetadataError {
                        #expect(error.code == .conflict, "\(error)")
                        return (i, false)
                    }
                    // Returned: committed, so another connection sees it.
                    #expect(try await Self.count(engine, 1000 + i) == 1)
                    return (i, true)
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        for i in 1...200 {
            #expect(outcomes[i] == (i % 5 != 0), "transaction \(i)")
            #expect(try await Self.count(engine, 1000 + i) == (i % 5 == 0 ? 0 : 1), "row of transaction \(i)")
        }
        let stats = engine.groupCommitStats.withLock { $0 }
        #expect(stats.transactions - before.transactions == 160)
        // Two hundred transactions at once did not take a COMMIT each.
        #expect(stats.commits - before.commits < 160, "\(stats)")
        #expect(stats.largest > 1, "\(stats)")
        await store.close()
    }

    /// A store closed while transactions are in flight: each one either reports success, and
    /// its row is there after the store is opened again, or fails as unavailable.
    @Test func closingCommitsWhatWasAcknowledged() async throws {
        let directory = SQLiteStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = Self.fullConfiguration(directory)
        let store = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        let engine = store.engine
        try await engine.transaction { db in try await db.execute("CREATE TABLE gc (x INTEGER PRIMARY KEY, note TEXT NOT NULL)") }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 1...100 {
                group.addTask {
                    do {
                        try await engine.transaction { db in try await db.execute("INSERT INTO gc (x, note) VALUES (\(i), 'row')") }
                        return (i, true)
                    } catch let error as MetadataError {
                        #expect(error.code == .unavailable, "\(error)")
                        return (i, false)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(20))
            await store.close()
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let reopened = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        for i in 1...100 {
            #expect(try await Self.count(reopened.engine, i) == (outcomes[i] == true ? 1 : 0), "row \(i)")
        }
        #expect(outcomes.values.contains(true))
        await reopened.close()
    }
}
