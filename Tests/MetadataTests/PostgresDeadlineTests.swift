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
        try await Self.withConnectedEngine(maximumConnections: 1, wait: .seconds(2), operation: .seconds(2)) { hasty, patient in
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await hasty.read { db in try await db.execute("SELECT pg_sleep(60)") }
                Issue.record("a 60 s statement returned within a 2 s deadline")
            } catch let error as MetadataError {
                #expect(error.code == .unavailable)
            }
            #expect(clock.now - started < .seconds(30))

            // The next calls get a connection long before the abandoned statement would have
            // ended (they would wait 30 s for one, then fail, if it kept its lease).
            for _ in 0..<3 {
                #expect(try await patient.read { db in try await db.first("SELECT 2 AS two")?.int("two") } == 2)
            }
            #expect(clock.now - started < .seconds(45))
        }
    }

    /// A pool that is busy, not down: calls keep getting connections, so a call waiting longer
    /// than the connection wait (behind them) is not failed as `.unavailable`.
    @Test func aBusyPoolIsNotAnOutage() async throws {
        try await Self.withConnectedEngine(maximumConnections: 2) { engine, _ in
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

    /// One connection, held by a statement for 40 s; another call waits for it with a connection
    /// wait of 1 s. No call gets a connection or finishes during that wait, which is what a
    /// connection stuck on a server that went away looks like too: the waiting call fails as
    /// `.unavailable` after about the wait, not after the statement, and the outage is marked.
    @Test func aWaitWithNoProgressIsAnOutage() async throws {
        try await Self.withConnectedEngine(maximumConnections: 1, operation: .seconds(60)) { engine, _ in
            let before = OutageMark.now()
            async let long: SQLRow? = engine.read { db in try await db.first("SELECT 1 AS n, pg_sleep(40)") }
            // The long statement takes the connection first.
            for _ in 0..<1000 where !engine.outage.isBusy(since: before) { try await Task.sleep(for: .milliseconds(5)) }
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await engine.read { db in try await db.first("SELECT 2 AS n") }
                Issue.record("a call waited out a 40 s statement with a 1 s connection wait")
            } catch let error as MetadataError {
                #expect(error.code == .unavailable)
            }
            #expect(clock.now - started < .seconds(30), "failed after the wait, before the statement ended")
            #expect(engine.outage.isMarked)
            #expect(try await long?.int("n") == 1)
            // Getting a connection again clears the mark.
            #expect(try await engine.read { db in try await db.first("SELECT 3 AS n")?.int("n") } == 3)
            #expect(!engine.outage.isMarked)
        }
    }

    /// Runs `body` with an engine on a running pool of `maximumConnections`, whose calls wait
    /// `wait` for a connection and `operation` in all, and a patient engine on the same pool
    /// (30 s for both). The pool's first connection is opened first, through the patient one:
    /// on a busy machine it alone can take longer than 1 s, and a pool that has never handed
    /// one out is down.
    static func withConnectedEngine(
        maximumConnections: Int, wait: Duration = .seconds(1), operation: Duration = .seconds(30),
        _ body: @Sendable (_ engine: PostgresEngine, _ patient: PostgresEngine) async throws -> Void
    ) async throws {
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: maximumConnections)
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: quietLogger)
        let engine = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: wait,
                                    operationTimeout: operation)
        let patient = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(30),
                                     operationTimeout: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            #expect(try await patient.read { db in try await db.first("SELECT 1 AS one")?.int("one") } == 1)
            try await body(engine, patient)
        }
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
    @Test func progressSinceTheWaitBeganIsBusy() {
        let mark = OutageMark()
        let before = OutageMark.now()
        #expect(!mark.isBusy(since: before))
        mark.progressed()
        #expect(mark.isBusy(since: before), "a call got a connection or succeeded after the wait began")
        #expect(!mark.isBusy(since: OutageMark.now() + 1), "nothing since a later start")
    }

    @Test func gettingAConnectionClearsTheMark() {
        let mark = OutageMark()
        mark.mark()
        mark.progressed()
        #expect(mark.isMarked, "a call that succeeds does not clear it")
        mark.progressed(clearing: true)
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
