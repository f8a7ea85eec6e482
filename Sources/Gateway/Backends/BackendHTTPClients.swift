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
    /// How long a request may wait for a connection to a provider host whose connections are
    /// all busy (``ConnectionLoad``).
    let connectionWait: Duration
    private let loads = Mutex<[String: ConnectionLoad]>([:])

    /// One client per event loop of `MultiThreadedEventLoopGroup.singleton`; `connectionsPerHost`
    /// is shared out among them (a backend host gets up to that many connections in all,
    /// at least one per loop). `tlsConfiguration` is that of HTTPS backends (nil: the
    /// client's default, see ``S3Backend/makeHTTPClient(connectionsPerHost:eventLoopGroup:tlsConfiguration:readTimeout:)``).
    init(connectionsPerHost: Int, tlsConfiguration: TLSConfiguration? = nil, readTimeout: TimeAmount = S3Backend.clientReadTimeout,
         connectionWait: Duration = ConnectionLoad.defaultWait) {
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
        self.connectionWait = connectionWait
    }

    /// A single client for every request (tests, `HTTPClient.shared`), with `connectionsPerHost`
    /// connections per provider host if known.
    init(_ client: HTTPClient, connectionsPerHost: Int? = nil, readTimeout: TimeAmount = S3Backend.clientReadTimeout,
         connectionWait: Duration = ConnectionLoad.defaultWait) {
        clients = [client]
        byLoop = [:]
        connectionsPerClient = connectionsPerHost
        self.readTimeout = readTimeout
        self.connectionWait = connectionWait
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
            let load = ConnectionLoad(clients: clients.count, connectionsPerClient: connectionsPerClient, wait: connectionWait)
            loads[origin] = load
            return load
        }
    }

    func shutdown() async throws {
        for client in clients { try await client.shutdown() }
    }
}

/// The requests in flight to one provider host on each of the backends' clients, and the queue
/// of those waiting for one of its connections.
///
/// Each client has ``limit`` connections to the host (its share of
/// `GATEWAY_BACKEND_CONNECTIONS`). A request takes a slot on the client of its own event loop
/// if that one has a free connection, else on the least busy client that has one (a thread
/// switch per chunk costs less than a wait). When every client's connections are busy it waits
/// here, first come first served, for the next slot to be left, for up to ``wait``: a burst of
/// requests above the connections, or uploads that hold them for minutes, queue rather than fail
/// after async-http-client's own wait for a connection (its connect timeout, 5 s). A request
/// that waited past ``wait`` fails with ``BackendError/Cause/connectionsBusy``.
///
/// Deadlines meant to catch a provider that stopped answering (a read's failover timeout, a
/// small write's stall timeout) do not run during that wait: it says nothing of the provider,
/// and counting it as the provider's failure would open its circuit breaker on a zone that is
/// only busy.
final class ConnectionLoad: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Int, any Error>
        let timer: Task<Void, Never>

        func resume(with outcome: Result<Int, any Error>) {
            timer.cancel()
            continuation.resume(with: outcome)
        }

        func resume(throwing error: any Error) { resume(with: .failure(error)) }
    }

    private struct State {
        var counts: [Int]
        var waiters: [Waiter] = []
        var head = 0
        var nextId: UInt64 = 0

        var hasWaiters: Bool { head < waiters.count }

        /// The first waiter, taken out of the queue.
        mutating func takeFirst() -> Waiter {
            let waiter = waiters[head]
            head += 1
            if head == waiters.count {
                waiters.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= waiters.count {
                // A line that never empties drops the waiters served, in amortized constant time.
                waiters.removeFirst(head)
                head = 0
            }
            return waiter
        }

        /// The waiter `id`, taken out of the queue if it is still in it.
        mutating func take(_ id: UInt64) -> Waiter? {
            guard let index = waiters[head...].firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = waiters.remove(at: index)
            if head == waiters.count {
                waiters.removeAll(keepingCapacity: true)
                head = 0
            }
            return waiter
        }
    }

    private let state: Mutex<State>
    /// Connections to the host per client; nil when not known (no request then waits here).
    let limit: Int?
    /// How long a request may wait for a connection (`GATEWAY_BACKEND_CONNECTION_WAIT`).
    let wait: Duration

    init(clients: Int, connectionsPerClient: Int?, wait: Duration = ConnectionLoad.defaultWait) {
        state = Mutex(State(counts: Array(repeating: 0, count: max(1, clients))))
        limit = connectionsPerClient
        self.wait = wait
    }

    /// The default of ``wait``: shorter than the gateway's idle timeout (30 s), which closes a
    /// client connection whose upload is not read while its backend request waits.
    static let defaultWait = Duration.seconds(20)

    /// Takes a slot on `preferred` if its connections are not all busy, else on the least busy
    /// client with a free one; nil when none has (nothing is then taken).
    func enter(_ preferred: Int) -> Int? {
        state.withLock { Self.take(preferred, &$0, limit: limit) }
    }

    private static func take(_ preferred: Int, _ s: inout State, limit: Int?) -> Int? {
        guard let limit, s.counts[preferred] >= limit else {
            s.counts[preferred] += 1
            return preferred
        }
        guard let best = s.counts.indices.min(by: { s.counts[$0] < s.counts[$1] }), s.counts[best] < limit else { return nil }
        s.counts[best] += 1
        return best
    }

    /// ``enter(_:)``, waiting in the queue for up to ``wait`` when every connection is busy.
    /// Returns the client and whether the request waited; throws ``BackendError`` (cause
    /// ``BackendError/Cause/connectionsBusy``, message from `busy`) after ``wait``, or
    /// `CancellationError`.
    func enterWaiting(_ preferred: Int, busy: @autoclosure () -> String) async throws -> (client: Int, waited: Bool) {
        if let client = enter(preferred) { return (client, false) }
        // How the cancellation handler and the timer find the waiter in the queue.
        let id = state.withLock { s in
            s.nextId += 1
            return s.nextId
        }
        do {
            let client = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                    let outcome: Result<Int, any Error>? = state.withLock { s in
                        // A slot was left between `enter` and now, or the task was cancelled meanwhile.
                        if !s.hasWaiters, let client = Self.take(preferred, &s, limit: limit) { return .success(client) }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        // The timer starts once the waiter is queued, where it will find it.
                        let timer = Task { [wait] in
                            guard (try? await Task.sleep(for: wait)) != nil else { return }
                            self.expire(id)
                        }
                        s.waiters.append(Waiter(id: id, continuation: continuation, timer: timer))
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                state.withLock { $0.take(id) }?.resume(throwing: CancellationError())
            }
            return (client, true)
        } catch is TimedOut {
            throw BackendError(code: .unavailable, message: busy(), cause: .connectionsBusy)
        }
    }

    private struct TimedOut: Error {}

    private func expire(_ id: UInt64) {
        state.withLock { $0.take(id) }?.resume(throwing: TimedOut())
    }

    /// The end of a request counted by ``enter(_:)`` (its response's body read or dropped): its
    /// slot goes to the first request waiting, if any.
    func leave(_ client: Int) {
        let next: Waiter? = state.withLock { s in
            if s.hasWaiters { return s.takeFirst() }
            s.counts[client] -= 1
            return nil
        }
        next?.resume(with: .success(client))
    }

    /// Requests in flight on `client`.
    func inFlight(_ client: Int) -> Int {
        state.withLock { $0.counts[client] }
    }

    /// Requests waiting for a connection.
    var waiting: Int {
        state.withLock { $0.waiters.count - $0.head }
    }
}
