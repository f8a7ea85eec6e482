import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import Metadata

/// One PostgreSQL pool per event loop: the connections are shared out, never more in all than
/// configured, and a call takes the pool of the loop it runs on. Nothing connects here.
@Suite("PostgreSQL pools per event loop")
struct PostgresPoolsTests {
    static func configuration(maximum: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: "127.0.0.1", username: "gateway", password: nil,
                                                         database: "gateway", tls: .disable)
        configuration.options.maximumConnections = maximum
        return configuration
    }

    static let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())

    @Test(arguments: [1, 2, 3, 7, 20])
    func theConnectionsAreSharedOut(maximum: Int) {
        let pools = PostgresPools(configuration: Self.configuration(maximum: maximum), logger: quietLogger)
        #expect(pools.all.count == min(maximum, Self.loops.count))
        #expect(pools.shares.reduce(0, +) == maximum)
        #expect(pools.shares.allSatisfy { $0 >= 1 })
        #expect((pools.shares.max() ?? 0) - (pools.shares.min() ?? 0) <= 1)
    }

    @Test func aCallTakesThePoolOfItsEventLoop() async throws {
        let pools = PostgresPools(configuration: Self.configuration(maximum: 20), logger: quietLogger)
        for (index, loop) in Self.loops.enumerated() {
            let chosen = try await loop.submit { ObjectIdentifier(pools.current) }.get()
            #expect(chosen == ObjectIdentifier(pools.all[index]))
        }
        // Off the event loops: the first pool.
        let offLoop = await Task.detached { ObjectIdentifier(pools.current) }.value
        #expect(offLoop == ObjectIdentifier(pools.all[0]))
    }
}
