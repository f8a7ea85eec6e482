import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The PostgreSQL connection pools of a store: one per event loop of NIO's shared group, each
/// with its connections on that loop and a share of the maximum. A call made from a task on an
/// event loop (Swift concurrency runs on them in the gateway) takes the pool of that loop, so
/// its statements and their answers stay on one thread; with a single pool each round trip of
/// a transaction could cross to another loop and back. Off the event loops, the first pool
/// serves.
final class PostgresPools: Sendable {
    let all: [PostgresClient]
    /// The maximum number of connections of each pool in ``all``.
    let shares: [Int]
    private let byLoop: [ObjectIdentifier: PostgresClient]

    /// One pool per loop of `MultiThreadedEventLoopGroup.singleton` (as many as there are
    /// connections, if fewer), sharing out `configuration.options.maximumConnections`: the
    /// total stays that maximum.
    init(configuration: PostgresClient.Configuration, logger: Logger) {
        let maximum = max(1, configuration.options.maximumConnections)
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator().prefix(maximum))
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
        return all[0]
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
