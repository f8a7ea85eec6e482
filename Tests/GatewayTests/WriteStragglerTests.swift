import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import NIOPosix
import PolicyEngine
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// A zone whose provider stopped answering (it accepts connections and never responds, never
/// even reads) does not hold up a write whose quorum it is not needed for: once the quorum's
/// zones have the bytes, the others get the straggler grace, then the write goes on without
/// them and the replication worker makes their copies.
///
/// The silent provider is reached with the gateway's HTTP client configuration, whose read
/// timeout (30 s) is what such a write waited for before.
@Suite("Writes do not wait for a zone that stopped answering")
struct WriteStragglerTests {
    /// Under the 30 s the writes waited before, with room for a loaded machine.
    static let limit = Duration.seconds(20)

    /// A TCP server that accepts connections and never reads from them or answers; with
    /// `reads`, it reads (and drops) what comes and never answers.
    final class SilentServer: Sendable {
        final class Accepted: Sendable {
            let channels = Mutex<[any Channel]>([])
        }

        let channel: any Channel
        private let accepted = Accepted()

        init(reads: Bool = false) async throws {
            let accepted = self.accepted
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelOption(.autoRead, value: reads)
                .childChannelInitializer { child in
                    accepted.channels.withLock { $0.append(child) }
                    return child.eventLoop.makeSucceededVoidFuture()
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }
        var connections: Int { accepted.channels.withLock { $0.count } }

        func close() async {
            try? await channel.close()
            for child in accepted.channels.withLock({ $0 }) { try? await child.close() }
        }
    }

    /// `stallTimeout`: that of the silent zone's backend.
    static func withSilentZone(
        key: String = "docs/straggler.bin", stallTimeout: Duration = .seconds(60), reads: Bool = false,
        _ body: (_ gw: TestGateway, _ silent: S3Backend, _ server: SilentServer) async throws -> Void
    ) async throws {
        let server = try await SilentServer(reads: reads)
        do {
            try await HTTPClient.withHTTPClient(configuration: S3Backend.clientConfiguration(connectionsPerHost: 4)) { client in
                let gw = try await TestGateway.make { $0.stragglerGrace = 0.2 }
                defer { gw.cleanUp() }
                let planned = gw.planned("data", key)
                try #require(planned.count == 2)
                var silent = try S3Backend(zone: planned[1], endpoint: server.url, bucket: "2025-datatransfer",
                                           region: "us-east-1", accessKey: "k", secretKey: "s", client: client)
                silent.stallTimeout = stallTimeout
                try await body(gw, silent, server)
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    /// The gateway `gw` with `silent` in place of its zone, a coordinator of it, and writers of
    /// `size` bytes of `key` to the other planned zone and to `silent`, in that order.
    static func writers(_ gw: TestGateway, _ silent: S3Backend, key: String, size: Int) async throws
        -> (gateway: TestGateway, coordinator: WriteCoordinator, writers: [(zone: String, writer: any BackendWriter)]) {
        let degraded = gw.replacing([silent.zone: silent])
        let other = try #require(gw.planned("data", key).first { $0 != silent.zone })
        let writers: [(zone: String, writer: any BackendWriter)] = [
            (other, try await degraded.state.backends[other]!.makeWriter(key: key, expectedSize: Int64(size))),
            (silent.zone, try await silent.makeWriter(key: key, expectedSize: Int64(size))),
        ]
        return (degraded, WriteCoordinator(state: degraded.state), writers)
    }

    /// Writes `size` bytes to `data/docs/straggler.bin` with the second planned zone silent;
    /// checks the outcome and returns the gateway the write went through.
    static func expectWriteLeavesTheSilentZoneBehind(size: Int) async throws {
        try await withSilentZone { gw, silent, server in
            let key = "docs/straggler.bin"
            let planned = gw.planned("data", key)
            let degraded = gw.replacing([planned[1]: silent])
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let started = ContinuousClock.now
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                // Two copies, a write quorum of one.
                let put = try await degraded.put(client, "/data/\(key)", body)
                #expect(put.status == .ok, "\(String(buffer: put.body))")
            }
            let took = ContinuousClock.now - started
            #expect(took < limit, "the write waited \(took) for a zone that does not answer")
            #expect(server.connections >= 1, "the silent zone was never asked")

            let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
            let replicas = try await gw.store.replicas(storageId: version.storageId)
            #expect(replicas.first { $0.zone == planned[0] }?.status == .complete)
            #expect(replicas.first { $0.zone == planned[1] }?.status == .pending)
            // Left behind, not failed: its breaker is untouched, the metric counts it.
            #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures ?? 0 == 0)
            let metrics = degraded.state.metricsRegistry.emitToString()
            #expect(metrics.contains(#"gateway_writes_zones_left_behind_total{zone="\#(planned[1])"} 1"#), "\(metrics)")

            // The replication worker makes the copy once the zone answers again (here: its
            // folder, as before the outage), byte-identical.
            #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
            let copied = try await gw.store.replicas(storageId: version.storageId)
            #expect(copied.allSatisfy { $0.status == .complete })
            let backendKey = WriteIntent.backendKey(bucket: "data", key: key, storageId: version.storageId)
            #expect(FileManager.default.contents(atPath: gw.file(zone: planned[1], key: backendKey)).map(Array.init) == body)
        }
    }

    /// A small body is sent in one request at the end of the write: the silent zone holds up
    /// the end (no answer).
    @Test func aSmallWriteDoesNotWaitForTheAnswer() async throws {
        try await Self.expectWriteLeavesTheSilentZoneBehind(size: 4096)
    }

    /// A large body is streamed; in one piece (the test client sends it so), it waits in the
    /// connection's buffers, and the silent zone holds up the end.
    @Test func aStreamedWriteDoesNotWaitForTheAnswer() async throws {
        try await Self.expectWriteLeavesTheSilentZoneBehind(size: 24 << 20)
    }

    /// A body that arrives in chunks: the silent zone stops taking them once the socket
    /// buffers are full, and the write goes on with the others.
    @Test func theChunksOfABodyDoNotWaitForTheZone() async throws {
        try await Self.withSilentZone { gw, silent, _ in
            let planned = gw.planned("data", "docs/straggler.bin")
            let size = 32 << 20
            let (degraded, coordinator, opened) = try await Self.writers(gw, silent, key: "chunks/docs/straggler.bin", size: size)
            var writers = opened
            let chunk = ByteBuffer(repeating: 0x5a, count: 1 << 20)
            let started = ContinuousClock.now
            for _ in 0..<(size >> 20) {
                writers = await coordinator.writeChunk(chunk, to: writers, quorum: 1, logger: degraded.state.logger)
            }
            let took = ContinuousClock.now - started
            #expect(writers.map(\.zone) == [planned[0]])
            #expect(took < Self.limit, "the body waited \(took) for a zone that does not take it")
            #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures ?? 0 == 0)
            let metrics = degraded.state.metricsRegistry.emitToString()
            #expect(metrics.contains(#"gateway_writes_zones_left_behind_total{zone="\#(planned[1])"} 1"#), "\(metrics)")
            #expect(await coordinator.finish(writers, quorum: 1, logger: degraded.state.logger) == [planned[0]])
        }
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// With a quorum that needs every zone, the write waits for them all: no zone the quorum
    /// counts on is left behind. (The write would fail once the HTTP client gives up; the test
    /// checks that it is still waiting well after the grace, then cancels it.)
    @Test func aZoneTheQuorumNeedsIsNotLeftBehind() async throws {
        try await Self.withSilentZone { gw, silent, _ in
            let planned = gw.planned("data", "docs/straggler.bin")
            let (degraded, coordinator, writers) = try await Self.writers(gw, silent, key: "q/docs/straggler.bin", size: 4)
            for w in writers { try await w.writer.write(ByteBuffer(bytes: [1, 2, 3, 4])) }
            let done = Flag()
            let finishing = Task {
                let finished = await coordinator.finish(writers, quorum: 2, logger: degraded.state.logger)
                done.set()
                return finished
            }
            try await Task.sleep(for: .seconds(1))
            #expect(!done.isSet, "the write went on without a zone its quorum needs")
            let metrics = degraded.state.metricsRegistry.emitToString()
            #expect(!metrics.contains("gateway_writes_zones_left_behind_total{"), "\(metrics)")
            finishing.cancel()
            let finished = await finishing.value
            #expect(!finished.contains(planned[1]))
        }
    }
}

/// A zone the write quorum needs whose provider stops taking the body: async-http-client has no
/// write timeout, so the write used to wait until the client's connection went idle for the
/// gateway's idle timeout and was closed without an answer. Now the zone's write fails after
/// the backend's stall timeout and the client gets 503.
@Suite("A write fails with 503 when a zone its quorum needs stops taking the body", .timeLimit(.minutes(1)))
struct WriteStallTests {
    typealias Straggler = WriteStragglerTests
    static let stall = Duration.milliseconds(500)
    static let limit = WriteStragglerTests.limit

    /// Chunks of a streamed body: the silent zone takes a few MiB (the sockets' buffers), then
    /// none; the next chunk waits for it, and fails once it has waited the stall timeout.
    @Test func theChunksOfABodyFailOnAZoneThatStoppedTakingThem() async throws {
        try await Straggler.withSilentZone(stallTimeout: Self.stall) { gw, silent, _ in
            let planned = gw.planned("data", "docs/straggler.bin")
            let size = 64 << 20
            let (degraded, coordinator, opened) = try await Straggler.writers(gw, silent, key: "docs/stall.bin", size: size)
            var writers = opened
            let chunk = ByteBuffer(repeating: 0x5a, count: 1 << 20)
            let started = ContinuousClock.now
            var sent = 0
            while writers.count == 2, sent < size {
                writers = await coordinator.writeChunk(chunk, to: writers, quorum: 2, logger: degraded.state.logger)
                sent += chunk.readableBytes
            }
            let took = ContinuousClock.now - started
            #expect(writers.map(\.zone) == [planned[0]], "the silent zone took all \(sent) bytes")
            #expect(sent < size)
            #expect(took >= Self.stall && took < Self.limit, "\(took)")
            // A zone the quorum needs that fails is a failure (for the breaker), not a straggler.
            #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures == 1)
            let metrics = degraded.state.metricsRegistry.emitToString()
            #expect(!metrics.contains("gateway_writes_zones_left_behind_total{"), "\(metrics)")
            for w in writers { await w.writer.abort() }
        }
    }

    /// A small body is sent whole at the end; a zone the quorum needs that does not answer it
    /// fails the write after the stall timeout too (it waited for the HTTP client's 30 s read
    /// timeout before).
    @Test func aSmallWriteFailsOnAZoneThatDoesNotAnswer() async throws {
        let key = "personal/small.bin"
        try await Straggler.withSilentZone(key: key, stallTimeout: Self.stall) { gw, silent, _ in
            let degraded = gw.replacing([silent.zone: silent])
            let started = ContinuousClock.now
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                let put = try await degraded.put(client, "/data/\(key)", Array(repeating: 0x44, count: 4096))
                #expect(put.status == .serviceUnavailable, "\(String(buffer: put.body))")
            }
            let took = ContinuousClock.now - started
            #expect(took >= Self.stall && took < Self.limit, "\(took)")
            #expect(try await gw.store.latestVersion(bucket: "data", key: key) == nil)
            #expect(degraded.state.health.snapshot[silent.zone]?.consecutiveFailures == 1)
        }
    }

    /// A streamed body the provider reads whole and does not answer: the write fails after the
    /// stall timeout, not the HTTP client's read timeout (30 s), which it waited for before.
    /// The timeout is longer here than in the other tests: on a loaded machine the request may
    /// take none of a 1 MiB body for 500 ms, which fails the write as a body not taken.
    @Test func aStreamedWriteFailsOnAZoneThatHasTheBodyAndDoesNotAnswer() async throws {
        let stall = Duration.seconds(2)
        try await Straggler.withSilentZone(stallTimeout: stall, reads: true) { _, silent, server in
            let size = 1 << 20
            let writer = silent.streamingPut(key: "docs/unanswered.bin", expectedSize: Int64(size))
            let started = ContinuousClock.now
            for _ in 0..<16 { try await writer.write(ByteBuffer(repeating: 0x21, count: size / 16)) }
            let error = await #expect(throws: BackendError.self) { try await writer.finishReturningETag() }
            let took = ContinuousClock.now - started
            #expect(error?.code == .unavailable)
            #expect(error.map { "\($0)" }?.contains("did not answer") == true, "\(String(describing: error))")
            #expect(took >= stall && took < Self.limit, "\(took)")
            #expect(server.connections == 1)
        }
    }

    /// Through the S3 API: a body the silent zone stops taking, of a key whose two copies are
    /// both needed (`personal/`: copies 2, write quorum 2). The client gets 503, nothing is
    /// stored, the intent is abandoned and the other zone's partial copy removed.
    @Test func theClientGets503() async throws {
        let key = "personal/stall.bin"
        try await Straggler.withSilentZone(key: key, stallTimeout: Self.stall) { gw, silent, server in
            let planned = gw.planned("data", key)
            let degraded = gw.replacing([planned[1]: silent])
            try #require(degraded.state.policies.plan(for: .init(bucket: "data", key: key, tags: [:])).writeQuorum == 2)
            let body = [UInt8](repeating: 0x33, count: 24 << 20)
            let started = ContinuousClock.now
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                let put = try await degraded.put(client, "/data/\(key)", body)
                #expect(put.status == .serviceUnavailable, "\(String(buffer: put.body))")
                #expect(String(buffer: put.body).contains("<Code>ServiceUnavailable</Code>"))
            }
            let took = ContinuousClock.now - started
            #expect(took < Self.limit, "the write waited \(took) for a zone that stopped taking its body")
            #expect(server.connections >= 1)
            #expect(try await gw.store.latestVersion(bucket: "data", key: key) == nil)
            #expect(try await gw.store.staleIntents(olderThan: Date().addingTimeInterval(60), limit: 10).isEmpty)
            let zoneFolder = gw.directory + "/zones/" + planned[0]
            let left = FileManager.default.enumerator(atPath: zoneFolder)?.allObjects.compactMap { $0 as? String }
                .filter { $0.contains("stall.bin") } ?? []
            #expect(left.isEmpty, "\(left)")
        }
    }
}
