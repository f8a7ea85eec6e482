import Foundation
import PostgresNIO
import Testing

@testable import Metadata

/// The operation deadline of ``PostgresEngine``: a call the server does not answer in time is
/// abandoned, and its pooled connection with it.
@Suite(
    "PostgreSQL operation deadline",
    .enabled(if: PostgresTestEnvironment.shouldRun, "set POSTGRES_TEST_URL (scripts/postgres.sh start DIR)")
)
struct PostgresDeadlineTests {
    /// A pool of one connection; a call runs a statement the server answers only after 60 s,
    /// far past its 2 s deadline. Abandoning the call must give the connection back (it is
    /// closed, the pool opens another), or every later call would wait for a connection until
    /// the statement ended. The bounds are loose: the machine may be busy.
    @Test func anAbandonedCallGivesItsConnectionBack() async throws {
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: 1)
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: quietLogger)
        let hasty = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(2),
                                   operationTimeout: .seconds(2))
        let patient = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(40),
                                     operationTimeout: .seconds(40))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            #expect(try await patient.read { db in try await db.first("SELECT 1 AS one")?.int("one") } == 1)

            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await hasty.read { db in try await db.execute("SELECT pg_sleep(60)") }
                Issue.record("a 60 s statement returned within a 2 s deadline")
            } catch let error as MetadataError {
                #expect(error.code == .unavailable)
            }
            #expect(clock.now - started < .seconds(10))

            // The next calls get a connection long before the abandoned statement would have
            // ended (they would wait 40 s for one, then fail, if it kept its lease).
            for _ in 0..<3 {
                #expect(try await patient.read { db in try await db.first("SELECT 2 AS two")?.int("two") } == 2)
            }
            #expect(clock.now - started < .seconds(20))
        }
    }

    /// A pool that is busy, not down: calls keep getting connections, so a call waiting longer
    /// than the connection wait (behind them) is not failed as `.unavailable`.
    @Test func aBusyPoolIsNotAnOutage() async throws {
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: 2)
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: quietLogger)
        let engine = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(1),
                                    operationTimeout: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Self.connect(client)
            // 12 calls of 0.3 s on 2 connections: the last ones wait about 1.5 s for theirs.
            var results: [Int64] = []
            try await withThrowingTaskGroup(of: Int64.self) { calls in
                for i in 0..<12 {
                    calls.addTask { try await Self.slowEcho(engine, Int64(i)) }
                }
                for try await n in calls { results.append(n) }
            }
            #expect(results.sorted() == (0..<12).map { Int64($0) })
            #expect(!engine.outage.isMarked)
        }
    }

    /// One connection, held by a statement for 3 s; another call waits about 2.5 s for it with a
    /// connection wait of 1 s. Its wait checks find no call that got a connection since it began
    /// waiting, but one call holds a connection all the while: the pool is busy, not down, and
    /// the waiting call is served once the statement ends.
    @Test func aLongStatementIsNotAnOutage() async throws {
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: 1)
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: quietLogger)
        let engine = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(1),
                                    operationTimeout: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Self.connect(client)
            async let long: SQLRow? = engine.read { db in try await db.first("SELECT 1 AS n, pg_sleep(3)") }
            // The long statement takes the connection first (the pool has it open already).
            try await Task.sleep(for: .milliseconds(500))
            let waiting = try await engine.read { db in try await db.first("SELECT 2 AS n") }
            #expect(try waiting?.int("n") == 2)
            #expect(try await long?.int("n") == 1)
            #expect(!engine.outage.isMarked)
            #expect(!engine.outage.isBusy(since: .max))
        }
    }

    /// Opens the pool's first connection, with a patient wait: on a busy machine it alone can
    /// take longer than the tests' 1 s wait, and a pool that has never handed one out is down.
    static func connect(_ client: PostgresClient) async throws {
        let patient = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(30),
                                     operationTimeout: .seconds(30))
        #expect(try await patient.read { db in try await db.first("SELECT 1 AS one")?.int("one") } == 1)
    }

    /// Returns `n` after holding a connection for 0.3 s.
    static func slowEcho(_ engine: PostgresEngine, _ n: Int64) async throws -> Int64 {
        let row: SQLRow? = try await engine.read { db in try await db.first("SELECT \(n) AS n, pg_sleep(0.3)") }
        return try row?.int("n") ?? -1
    }
}

/// The signs of life that tell a busy pool from a database that is down.
@Suite("PostgreSQL outage mark")
struct OutageMarkTests {
    @Test func aHeldConnectionOrALaterAcquisitionIsBusy() {
        let mark = OutageMark()
        let before = OutageMark.now()
        #expect(!mark.isBusy(since: before))
        mark.acquired()
        #expect(mark.isBusy(since: .max), "a call holds a connection")
        mark.released()
        #expect(!mark.isBusy(since: .max))
        #expect(mark.isBusy(since: before), "a call got a connection after the wait began")
        #expect(!mark.isBusy(since: OutageMark.now() + 1))
        let waiting = OutageMark.now()
        mark.progressed()
        #expect(mark.isBusy(since: waiting), "a call succeeded after the wait began")
    }

    @Test func gettingAConnectionClearsTheMark() {
        let mark = OutageMark()
        mark.mark()
        #expect(mark.isMarked)
        mark.acquired()
        #expect(!mark.isMarked)
        mark.released()
        #expect(!mark.isMarked)
    }

    /// Nothing listens on the port: no call ever holds or gets a connection, so the wait ends
    /// as an outage after the connection wait (well before the operation deadline).
    @Test func anUnreachableServerIsAnOutage() async throws {
        let configuration = PostgresClient.Configuration(host: "127.0.0.1", port: 1, username: "nobody", password: nil,
                                                         database: "none", tls: .disable)
        let client = PostgresClient(configuration: configuration, backgroundLogger: quietLogger)
        let engine = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .milliseconds(300),
                                    operationTimeout: .seconds(60))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do {
                _ = try await engine.read { db in try await db.first("SELECT 1 AS one") }
                Issue.record("a call to a server that is not there succeeded")
            } catch let error as MetadataError {
                #expect(error.code == .unavailable)
            } catch {
                Issue.record("unexpected error \(error)")
            }
            #expect(engine.outage.isMarked)
        }
    }
}
