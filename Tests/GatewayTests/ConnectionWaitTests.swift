import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Metadata
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import Gateway

/// A request that waits for a connection because the client's connections to the provider are
/// all busy with other requests says nothing of the provider: the deadlines meant to catch a
/// provider that stopped answering (a small write's stall timeout, a read's failover timeout)
/// do not fail it, and the provider's circuit breaker does not hear of it.
@Suite("Requests waiting for a connection are not a provider's silence", .timeLimit(.minutes(1)))
struct ConnectionWaitTests {
    /// The stall and failover timeouts of the backends here: long enough for a loaded machine
    /// to hand a request its body in time, shorter than ``busy``.
    static let timeout = Duration.seconds(1)
    /// How long the one connection is kept busy while another request waits for it.
    static let busy = Duration.seconds(3)

    /// A backend on a server that answers every request, through a client of one connection per
    /// host, with stall and failover timeouts of ``timeout``, and the client's `connectTimeout`
    /// (by default long enough that a loaded machine's delays do not reach it: what is tested
    /// is the gateway's own deadlines).
    func withBusyableBackend(connectTimeout: TimeAmount = .seconds(60),
                             _ body: (S3Backend, ClosingKeepAliveServer) async throws -> Void) async throws {
        try await ClosedConnectionReplayTests.withBackend(closes: false, connectTimeout: connectTimeout) { backend, server in
            var backend = backend
            backend.stallTimeout = Self.timeout
            backend.failoverTimeout = .seconds(Self.timeout.components.seconds)
            try await body(backend, server)
        }
    }

    /// Holds the backend's one connection with a PUT of `first` whose body comes only after
    /// ``busy`` (sent without the stall watchdog, which a loaded machine must not trip here)
    /// while `waiting` runs; returns what `waiting` returned.
    func whileTheConnectionIsBusy<T: Sendable>(_ backend: S3Backend, _ server: ClosingKeepAliveServer,
                                               _ waiting: @escaping @Sendable () async throws -> T) async throws -> T {
        let (body, feed) = AsyncStream.makeStream(of: ByteBuffer.self)
        let first = Task {
            let response = try await backend.put(key: "first") { _ in .stream(body, length: .known(Int64(2))) }
            _ = try await response.body.collect(upTo: 1024)
            return response.status.code
        }
        feed.yield(ByteBuffer(bytes: [1]))
        // Connected: the first request has the one connection.
        for _ in 0..<2000 where server.connections == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.connections == 1)
        #expect(backend.load.inFlight(0) == 1)
        let task = Task { try await waiting() }
        try await Task.sleep(for: Self.busy)
        feed.yield(ByteBuffer(bytes: [3]))
        feed.finish()
        #expect(try await first.value == 200)
        return try await task.value
    }

    /// A streamed write's stall clock starts once its request has come for the body.
    @Test func aStreamedWriteWaitingForAConnectionIsNotStalled() async throws {
        try await withBusyableBackend { backend, server in
            let etag = try await whileTheConnectionIsBusy(backend, server) {
                let second = backend.streamingPut(key: "second", expectedSize: 1)
                try await second.write(ByteBuffer(bytes: [2]))
                return try await second.finishReturningETag()
            }
            #expect(etag != nil)
            #expect(server.received.map(\.path) == ["/b/first", "/b/second"])
            #expect(server.received.map(\.body) == [[1, 3], [2]])
        }
    }

    @Test func aSmallWriteWaitingForAConnectionIsNotTimedOut() async throws {
        try await withBusyableBackend { backend, server in
            let etag = try await whileTheConnectionIsBusy(backend, server) {
                let small = try await backend.makeWriter(key: "small", expectedSize: 1, lock: nil)
                #expect(small is S3GatheredWriter)
                try await small.write(ByteBuffer(bytes: [2]))
                return try await (small as! S3GatheredWriter).finishReturningETag()
            }
            #expect(etag != nil)
            #expect(server.received.map(\.path) == ["/b/first", "/b/small"])
            #expect(server.received.map(\.body) == [[1, 3], [2]])
            #expect(backend.load.inFlight(0) == 0)
        }
    }

    /// With a connect timeout of 1 s too: a request waits in the gateway's line for a
    /// connection, not in async-http-client's, which fails one that waited longer than that.
    @Test(arguments: [60, 1])
    func aReadWaitingForAConnectionIsNotFailedOver(connectTimeout: Int64) async throws {
        try await withBusyableBackend(connectTimeout: .seconds(connectTimeout)) { backend, server in
            let read = try await whileTheConnectionIsBusy(backend, server) {
                var bytes = 0
                for try await chunk in try await backend.readOnce(key: "some", range: nil) { bytes += chunk.readableBytes }
                return bytes
            }
            #expect(read == 0)
            #expect(server.received.map(\.path) == ["/b/first", "/b/some"])
            #expect(backend.load.inFlight(0) == 0 && backend.load.waiting == 0)
        }
    }

    /// A request that waited for a connection longer than `GATEWAY_BACKEND_CONNECTION_WAIT`
    /// fails. That says nothing of the provider: the failure names the busy connections, and
    /// the zone's circuit breaker does not count it.
    @Test func aRequestThatWaitedTooLongForAConnectionIsNotTheProvidersFailure() async throws {
        try await ClosedConnectionReplayTests.withBackend(closes: false, connectTimeout: .seconds(60),
                                                          connectionWait: .seconds(1)) { backend, server in
            let failure = try await whileTheConnectionIsBusy(backend, server) { () async -> (any Error)? in
                do {
                    _ = try await backend.readOnce(key: "some", range: nil)
                    return nil
                } catch {
                    return error
                }
            }
            let error = try #require(failure as? BackendError, "\(String(describing: failure))")
            #expect(error.cause == .connectionsBusy, "\(error)")
            #expect(error.message.contains("GATEWAY_BACKEND_CONNECTIONS"))
            #expect(!BackendHealth.isBackendFailure(error))
            #expect(backend.load.inFlight(0) == 0 && backend.load.waiting == 0)
            // Only the request that held the connection reached the provider.
            #expect(server.received.map(\.path) == ["/b/first"])
        }
    }

    /// With a free connection the failover timeout holds as before: a provider that does not
    /// answer fails the read after it.
    @Test func aReadOnAFreeConnectionStillFailsOver() async throws {
        let server = try await WriteStragglerTests.SilentServer()
        let client = S3Backend.makeHTTPClient(connectionsPerHost: 1)
        do {
            var backend = try S3Backend(zone: "FI-HEL-ST-1", endpoint: server.url, bucket: "b", region: "us-east-1",
                                        accessKey: "key", secretKey: "secret",
                                        clients: BackendHTTPClients(client, connectionsPerHost: 1))
            backend.failoverTimeout = .seconds(1)
            let started = ContinuousClock.now
            await #expect(throws: BackendError.self) { _ = try await backend.readOnce(key: "some", range: nil) }
            // Without the failover timeout: async-http-client's read timeout, 30 s.
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(backend.load.inFlight(0) == 0)
        } catch {
            try? await client.shutdown()
            await server.close()
            throw error
        }
        try await client.shutdown()
        await server.close()
    }

    /// A read counts until its body is read, or its stream dropped unread.
    @Test func aReadCountsUntilItsBodyIsDone() async throws {
        try await withBusyableBackend { backend, _ in
            var stream: BackendReadStream? = try await backend.read(key: "some", range: nil)
            #expect(backend.load.inFlight(0) == 1)
            stream = nil
            #expect(stream == nil && backend.load.inFlight(0) == 0)
            for try await _ in try await backend.read(key: "some", range: nil) {}
            #expect(backend.load.inFlight(0) == 0)
        }
    }

    /// A backend on `server` with one connection to it, for which a request may wait in line
    /// for ten minutes: a test that waits in line when it should not runs out of time.
    static func withOneConnection(to server: PatternServer, zone: String, _ body: (S3Backend) async throws -> Void) async throws {
        let client = S3Backend.makeHTTPClient(connectionsPerHost: 1)
        do {
            let backend = try S3Backend(zone: zone, endpoint: server.url, bucket: "b", region: "us-east-1",
                                        accessKey: "key", secretKey: "secret",
                                        clients: BackendHTTPClients(client, connectionsPerHost: 1, connectionWait: .seconds(600)))
            try await body(backend)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// A gateway holding a 1 MiB object in both zones of its plan, the first zone's backend on
    /// a ``PatternServer`` (which serves the same bytes) with one connection: `body` gets the
    /// gateway with that backend, the object, its version, the planned zones, the backend
    /// and its server.
    static func withBusyableFirstZone(
        _ body: (TestGateway, [UInt8], ObjectVersion, [String], S3Backend, PatternServer) async throws -> Void
    ) async throws {
        let object = PatternServer.bytes(1 << 20)
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let (version, planned) = try await gw.twoCopies(of: object, key: "docs/busy.bin")
        let server = try PatternServer(size: object.count)
        defer { Task { try? await server.stop() } }
        try await withOneConnection(to: server, zone: planned[0]) { backend in
            try await body(gw.replacing([planned[0]: backend]), object, version, planned, backend, server)
        }
    }

    static func readAll(_ stream: BackendReadStream) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in stream { bytes += chunk.readableBytesView }
        return bytes
    }

    /// The first zone of a read's order has every connection busy: the read goes to the next
    /// replica at once, not after a wait in line, and the busy zone is not counted as failing.
    @Test func aReadAsksAnotherReplicaWhileTheFirstZonesConnectionsAreBusy() async throws {
        try await Self.withBusyableFirstZone { degraded, object, version, planned, backend, server in
            // Another read holds the zone's one connection until it is dropped.
            var held: BackendReadStream? = try await backend.read(key: "other", range: nil)
            #expect(backend.load.inFlight(0) == 1)
            let (stream, zone) = try await ReadPath(state: degraded.state).openReporting(version, range: nil,
                                                                                           logger: degraded.state.logger)
            #expect(zone == planned[1])
            let same = try await Self.readAll(stream) == object
            #expect(same)
            #expect(server.requests.count == 1, "the busy zone was asked: \(server.requests)")
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures ?? 0 == 0)
            held = nil
            #expect(held == nil && backend.load.inFlight(0) == 0)
        }
    }

    /// When no other replica can serve, the read waits in line for the busy zone's connection.
    @Test func aReadWaitsForTheBusyZoneWhenNoOtherReplicaServes() async throws {
        try await Self.withBusyableFirstZone { gw, object, version, planned, backend, server in
            let holder = Task {
                let held = try await backend.read(key: "other", range: nil)
                try await Task.sleep(for: Self.timeout)
                withExtendedLifetime(held) {}
            }
            for _ in 0..<12_000 where backend.load.inFlight(0) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let other = FlakyBackend(gw.state.backends[planned[1]]!)
            other.set(failReads: true)
            let degraded = gw.replacing([planned[1]: other])
            let (stream, zone) = try await ReadPath(state: degraded.state).openReporting(version, range: nil,
                                                                                           logger: degraded.state.logger)
            #expect(zone == planned[0])
            let same = try await Self.readAll(stream) == object
            #expect(same)
            try await holder.value
            #expect(server.requests.count == 2, "\(server.requests)")
            #expect(backend.load.inFlight(0) == 0 && backend.load.waiting == 0)
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures ?? 0 == 0)
        }
    }

    /// True the first time it is asked.
    final class Once: Sendable {
        private let asked = Mutex(false)
        func first() -> Bool {
            asked.withLock { asked in
                defer { asked = true }
                return !asked
            }
        }
    }

    /// A read that broke off goes on from a replica whose zone has a free connection before
    /// one whose zone is busy, and does not count the busy zone as failing.
    @Test func aBrokenOffReadGoesOnFromAFreeReplicaBeforeABusyOne() async throws {
        try await Self.withBusyableFirstZone { degraded, object, version, planned, backend, server in
            let replicas = try await degraded.store.replicas(storageId: version.storageId)
            let busyReplica = try #require(replicas.first { $0.zone == planned[0] })
            let freeReplica = try #require(replicas.first { $0.zone == planned[1] })
            var held: BackendReadStream? = try await backend.read(key: "other", range: nil)
            // The first 64 KiB, then the provider's connection breaks.
            let start = ByteBuffer(bytes: object[0..<(64 << 10)])
            let once = Once()
            let breaking = BackendReadStream {
                guard once.first() else { throw BackendError(code: .unavailable, message: "connection reset (test)") }
                return start
            }
            let read = ResumingRead(state: degraded.state, stream: breaking, replica: freeReplica,
                                    bounds: 0...Int64(object.count - 1), others: [busyReplica, freeReplica],
                                    logger: degraded.state.logger)
            var bytes: [UInt8] = []
            while let chunk = try await read.next() { bytes += chunk.readableBytesView }
            let same = bytes == object
            #expect(same)
            #expect(server.requests.count == 1, "the busy zone was asked: \(server.requests)")
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures ?? 0 == 0)
            held = nil
            #expect(held == nil && backend.load.inFlight(0) == 0)
        }
    }

    /// A health probe does not wait in line behind the requests that keep a zone's connections
    /// busy (it would hold up `/health`, and its failure would open the breaker of a zone that
    /// is only busy): the zone counts as healthy, and the provider is not asked.
    @Test func aProbeOfAZoneWhoseConnectionsAreAllBusyDoesNotWait() async throws {
        let server = try PatternServer(size: 1 << 20)
        defer { Task { try? await server.stop() } }
        try await Self.withOneConnection(to: server, zone: "FI-HEL-ST-1") { backend in
            #expect(await backend.probe())
            #expect(server.requests.count == 1)
            var held: BackendReadStream? = try await backend.read(key: "other", range: nil)
            #expect(await backend.probe())
            #expect(server.requests.count == 2, "the probe waited for the busy connection: \(server.requests)")
            held = nil
            #expect(held == nil && backend.load.inFlight(0) == 0 && backend.load.waiting == 0)
        }
    }
}
