import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The PostgreSQL connection pools of a store: one per event loop of NIO's shared group, each
/// with its connections on that loop and a share of the maximum. A call made from a task on an
/// event loop (Swift concurrency runs on them in the gateway) takes the pool of that loop, so
/// its statements and their answers stay on one thread; with a single pool each round trip of
/// a transaction could cross to another loop and back. Calls made off the event loops (tests,
/// a task resumed by a Dispatch timer) take the pools in turn, so that every connection serves.
final class PostgresPools: Sendable {
    let all: [PostgresClient]
    /// The maximum number of connections of each pool in ``all``.
    let shares: [Int]
    private let byLoop: [ObjectIdentifier: PostgresClient]
    private let nextOffLoop = Atomic<Int>(0)

    /// One pool per loop of `MultiThreadedEventLoopGroup.singleton`, sharing out
    /// `configuration.options.maximumConnections` (the total stays that maximum), as long as
    /// each pool gets at least ``minimumShare`` connections; fewer loops get pools otherwise,
    /// down to one pool for a small maximum: a pool of one or two connections queues calls that
    /// another pool could serve.
    init(configuration: PostgresClient.Configuration, logger: Logger) {
        let maximum = max(1, configuration.options.maximumConnections)
        let count = max(1, maximum / Self.minimumShare)
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator().prefix(count))
        var all: [PostgresClient] = []
        var shares: [Int] = []
        var byLoop: [ObjectIdentifier: PostgresClient] = [:]
        for (index, loop) in loops.enumerated() {
            var share = configuration
            share.options.maximumConnections = maximum / loops.count + (index < maximum % loops.count ? 1 : 0)
            share.options.minimumConnections = min(configuration.options.minimumConnections, share.options.maximumConnections)
            let client = PostgresClient(configuration: share, eventLoopGroup: loop, backgroundLogger: logger)
            all.append(client)
            shares.append(share.options.maximumConnections)
            byLoop[ObjectIdentifier(loop)] = client
        }
        self.all = all
        self.shares = shares
        self.byLoop = byLoop
    }

    /// The fewest connections a pool of one loop gets.
    static let minimumShare = 4

    /// A single pool for every call.
    init(_ client: PostgresClient) {
        all = [client]
        shares = []
        byLoop = [:]
    }

    var current: PostgresClient {
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let client = byLoop[ObjectIdentifier(loop)] {
            return client
        }
        if all.count == 1 { return all[0] }
        let turn = nextOffLoop.wrappingAdd(1, ordering: .relaxed).oldValue
        return all[Int(UInt(bitPattern: turn) % UInt(all.count))]
    }

    /// Runs every pool until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for client in all {
                group.addTask { await client.run() }
            }
        }
    }
}
