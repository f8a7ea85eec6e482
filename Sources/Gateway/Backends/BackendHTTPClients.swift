import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTP clients of the S3 backends: one per event loop of NIO's shared group, each with its
/// connections on that loop. A request's task runs on the event loop of its client connection
/// (Swift concurrency runs on the event loops, see `GatewayCommand.main`); with a client of its
/// own loop, its backend requests and their body chunks stay on that thread. One shared client
/// would hand the request to whichever loop its idle connection lives on, a thread switch per
/// chunk and per response. Off the event loops (tests, the start-up), the first client serves.
final class BackendHTTPClients: Sendable {
    private let clients: [HTTPClient]
    private let byLoop: [ObjectIdentifier: Int]
    /// Connections per provider host of each client; nil when not known (a client given whole).
    let connectionsPerClient: Int?
    /// The clients' read timeout (``S3Backend/clientReadTimeout`` for a client given whole
    /// unless said otherwise).
    let readTimeout: TimeAmount
    private let loads = Mutex<[String: ConnectionLoad]>([:])

    /// One client per event loop of `MultiThreadedEventLoopGroup.singleton`; `connectionsPerHost`
    /// is shared out among them (a backend host gets up to that many connections in all,
    /// at least one per loop). `tlsConfiguration` is that of HTTPS backends (nil: the
    /// client's default, see ``S3Backend/makeHTTPClient(connectionsPerHost:eventLoopGroup:tlsConfiguration:readTimeout:)``).
    init(connectionsPerHost: Int, tlsConfiguration: TLSConfiguration? = nil, readTimeout: TimeAmount = S3Backend.clientReadTimeout) {
        var clients: [HTTPClient] = []
        var byLoop: [ObjectIdentifier: Int] = [:]
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let perLoop = max(1, (connectionsPerHost + loops.count - 1) / max(1, loops.count))
        for loop in loops {
            let client = S3Backend.makeHTTPClient(connectionsPerHost: perLoop, eventLoopGroup: loop,
                                                  tlsConfiguration: tlsConfiguration, readTimeout: readTimeout)
            byLoop[ObjectIdentifier(loop)] = clients.count
            clients.append(client)
        }
        self.clients = clients
        self.byLoop = byLoop
        connectionsPerClient = perLoop
        self.readTimeout = readTimeout
    }

    /// A single client for every request (tests, `HTTPClient.shared`), with `connectionsPerHost`
    /// connections per provider host if known.
    init(_ client: HTTPClient, connectionsPerHost: Int? = nil, readTimeout: TimeAmount = S3Backend.clientReadTimeout) {
        clients = [client]
        byLoop = [:]
        connectionsPerClient = connectionsPerHost
        self.readTimeout = readTimeout
    }

    /// The index of the client of the current event loop (0 off the loops).
    var currentIndex: Int {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return 0 }
        return byLoop[ObjectIdentifier(loop)] ?? 0
    }

    func client(_ index: Int) -> HTTPClient { clients[index] }

    var current: HTTPClient { clients[currentIndex] }

    /// The requests in flight to the provider at `origin` (`scheme://host:port`, what the
    /// clients' connection pools are kept by), shared by the backends there.
    func load(of origin: String) -> ConnectionLoad {
        loads.withLock { loads in
            if let load = loads[origin] { return load }
            let load = ConnectionLoad(clients: clients.count, connectionsPerClient: connectionsPerClient)
            loads[origin] = load
            return load
        }
    }

    func shutdown() async throws {
        for client in clients { try await client.shutdown() }
    }
}

/// The requests in flight to one provider host on each of the backends' clients, to tell
/// whether a new one may have to wait for a connection: once a client's connections to the host
/// are all busy, it queues the next request until one is free, for as long as the requests
/// before it take. A deadline meant to catch a provider that stopped answering (a read's
/// failover timeout, a small write's stall timeout) does not then apply: that wait says nothing
/// of the provider, and counting it as the provider's failure would open its circuit breaker
/// on a zone that is only busy.
final class ConnectionLoad: Sendable {
    private let counts: Mutex<[Int]>
    private let limit: Int?

    init(clients: Int, connectionsPerClient: Int?) {
        counts = Mutex(Array(repeating: 0, count: max(1, clients)))
        limit = connectionsPerClient
    }

    /// Counts a request on `client`; returns whether it may have to wait for a connection (as
    /// many requests as the client has connections to the host were in flight already).
    func enter(_ client: Int) -> Bool {
        counts.withLock { counts in
            defer { counts[client] += 1 }
            guard let limit else { return false }
            return counts[client] >= limit
        }
    }

    /// The end of a request counted by ``enter(_:)`` (its response's body read or dropped).
    func leave(_ client: Int) {
        counts.withLock { $0[client] -= 1 }
    }

    /// Requests in flight on `client`.
    func inFlight(_ client: Int) -> Int {
        counts.withLock { $0[client] }
    }
}
