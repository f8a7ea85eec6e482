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
    /// A pool of one connection; the first call runs a statement the server answers only after
    /// 30 s, far past the 1 s deadline. Abandoning the call must give the connection back (it is
    /// closed, the pool opens another), or every later call would fail for want of a connection
    /// until the statement ended.
    @Test func anAbandonedCallGivesItsConnectionBack() async throws {
        let configuration = try PostgresTestEnvironment.configuration(maximumConnections: 1)
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: quietLogger)
        let engine = PostgresEngine(client: client, logger: quietLogger, connectionWaitTimeout: .seconds(3),
                                    operationTimeout: .seconds(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            #expect(try await engine.read { db in try await db.first("SELECT 1 AS one")?.int("one") } == 1)

            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await engine.read { db in try await db.execute("SELECT pg_sleep(30)") }
                Issue.record("a 30 s statement returned within a 1 s deadline")
            } catch let error as MetadataError {
                #expect(error.code == .unavailable)
            }
            #expect(clock.now - started < .seconds(3))

            // The next calls get a connection: well within the connection wait, long before
            // the abandoned statement would have ended.
            for _ in 0..<3 {
                #expect(try await engine.read { db in try await db.first("SELECT 2 AS two")?.int("two") } == 2)
            }
            #expect(clock.now - started < .seconds(10))
        }
    }
}
