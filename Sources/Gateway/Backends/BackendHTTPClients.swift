import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// The HTTP clients of the S3 backends: one per event loop of NIO's shared group, each with its
/// connections on that loop. A request's task runs on the event loop of its client connection
/// (Swift concurrency runs on the event loops, see `GatewayCommand.main`); with a client of its
/// own loop, its backend requests and their body chunks stay on that thread. One shared client
/// would hand the request to whichever loop its idle connection lives on, a thread switch per
/// chunk and per response. Off the event loops (tests, the start-up), the first client serves.
final class BackendHTTPClients: Sendable {
    private let clients: [HTTPClient]
    private let byLoop: [ObjectIdentifier: HTTPClient]

    /// One client per event loop of `MultiThreadedEventLoopGroup.singleton`; `connectionsPerHost`
    /// is shared out among them (a backend host gets up to that many connections in all,
    /// at least one per loop). `tlsConfiguration` is that of HTTPS backends (nil: the
    /// client's default, see ``S3Backend/makeHTTPClient(connectionsPerHost:eventLoopGroup:tlsConfiguration:)``).
    init(connectionsPerHost: Int, tlsConfiguration: TLSConfiguration? = nil) {
        var clients: [HTTPClient] = []
        var byLoop: [ObjectIdentifier: HTTPClient] = [:]
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let perLoop = max(1, (connectionsPerHost + loops.count - 1) / max(1, loops.count))
        for loop in loops {
            let client = S3Backend.makeHTTPClient(connectionsPerHost: perLoop, eventLoopGroup: loop,
                                                  tlsConfiguration: tlsConfiguration)
            clients.append(client)
            byLoop[ObjectIdentifier(loop)] = client
        }
        self.clients = clients
        self.byLoop = byLoop
    }

    /// A single client for every request (tests, `HTTPClient.shared`).
    init(_ client: HTTPClient) {
        clients = [client]
        byLoop = [:]
    }

    var current: HTTPClient {
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let client = byLoop[ObjectIdentifier(loop)] {
            return client
        }
        return clients[0]
    }

    func shutdown() async throws {
        for client in clients { try await client.shutdown() }
    }
}
