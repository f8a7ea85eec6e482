import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Metadata
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Testing

@testable import Gateway

/// An S3-like server for GETs: every path is an object of `size` bytes whose byte at offset `i`
/// is ``bytes(_:)``'s, served whole or as the range asked for. With `stallAfter`, a response sends
/// that many bytes of its body and then nothing, holding the connection open.
final class PatternServer: Sendable {
    static func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            for offset in 0..<count { buffer[offset] = UInt8(truncatingIfNeeded: offset &* 31 &+ offset >> 13) }
            initialized = count
        }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let ranges = NIOLockedValueBox<[String?]>([])
    private let channel: any Channel

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }
    /// The Range header of each GET answered, in order (nil: the whole object).
    var requests: [String?] { ranges.withLockedValue { $0 } }

    init(size: Int, stallAfter: Int? = nil) throws {
        let ranges = self.ranges
        let object = ByteBuffer(bytes: Self.bytes(size))
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Handler(object: object, stallAfter: stallAfter, ranges: ranges))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let object: ByteBuffer
        let stallAfter: Int?
        let ranges: NIOLockedValueBox<[String?]>
        var range: String?

        init(object: ByteBuffer, stallAfter: Int?, ranges: NIOLockedValueBox<[String?]>) {
            self.object = object
            self.stallAfter = stallAfter
            self.ranges = ranges
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                range = head.headers.first(name: "range")
            case .body:
                break
            case .end:
                ranges.withLockedValue { $0.append(range) }
                let size = object.readableBytes
                var bounds = 0..<size
                var status = HTTPResponseStatus.ok
                if let range, let spec = range.split(separator: "=").last {
                    let ends = spec.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    if ends.count == 2, let from = ends[0], let to = ends[1] {
                        bounds = from..<min(to + 1, size)
                        status = .partialContent
                    }
                }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "\(bounds.count)")
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                                      promise: nil)
                let sent = stallAfter.map { bounds.lowerBound + min($0, bounds.count) } ?? bounds.upperBound
                var offset = bounds.lowerBound
                while offset < sent {
                    let end = min(offset + 64 * 1024, sent)
                    context.write(wrapOutboundOut(.body(.byteBuffer(object.getSlice(at: offset, length: end - offset)!))),
                                  promise: nil)
                    offset = end
                }
                if sent == bounds.upperBound {
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    context.flush()
                }
            }
        }
    }
}

/// async-http-client's read timeout runs while a body is not being read. A gateway client that
/// pauses its download longer than that used to lose the read: the next chunk failed, the
/// zone was counted as failing, and a single-copy object's response broke off. The read now
/// goes on from the same replica, and a provider that goes silent is still a failure.
@Suite("A paused reader is not a provider's failure", .timeLimit(.minutes(1)))
struct ReadPauseTests {
    static let readTimeout = TimeAmount.seconds(2)

    /// A backend on `server` whose client has a read timeout of ``readTimeout``.
    static func withBackend(_ server: PatternServer, zone: String,
                            _ body: (S3Backend) async throws -> Void) async throws {
        let configuration = S3Backend.clientConfiguration(connectionsPerHost: 4, readTimeout: readTimeout)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let backend = try S3Backend(zone: zone, endpoint: server.url, bucket: "b", region: "us-east-1",
                                        accessKey: "key", secretKey: "secret",
                                        clients: BackendHTTPClients(client, readTimeout: readTimeout))
            try await body(backend)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The object's only readable replica is on a provider whose connection times out while
    /// the reader pauses: the read goes on from the same replica with a ranged GET from the
    /// first byte not yet read, and the zone is not counted as failing.
    @Test func aReadPausedLongerThanTheReadTimeoutGoesOnFromTheSameReplica() async throws {
        // Larger than what the sockets and the HTTP client buffer, so that the pause stops the reads.
        let size = 24 << 20
        let object = PatternServer.bytes(size)
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let (version, planned) = try await gw.twoCopies(of: object, key: "docs/paused.bin")

        let server = try PatternServer(size: size)
        defer { Task { try? await server.stop() } }
        try await Self.withBackend(server, zone: planned[0]) { backend in
            // The other replica cannot be read: only the paused one can go on.
            let other = FlakyBackend(gw.state.backends[planned[1]]!)
            other.set(failReads: true)
            let degraded = gw.replacing([planned[0]: backend, planned[1]: other])
            let stream = try await ReadPath(state: degraded.state).open(version, range: nil, logger: degraded.state.logger)
            let iterator = stream.makeAsyncIterator()
            var offset = 0
            var mismatch: Int?
            var paused = false
            while let chunk = try await iterator.next() {
                // Compared here, not with #expect, which would diff megabytes on a mismatch.
                if mismatch == nil, !chunk.readableBytesView.elementsEqual(object[offset..<(offset + chunk.readableBytes)]) {
                    mismatch = offset
                }
                offset += chunk.readableBytes
                if !paused {
                    paused = true
                    try await Task.sleep(for: .seconds(6))
                }
            }
            #expect(offset == size)
            #expect(mismatch == nil, "the body differs from the object from byte \(mismatch ?? 0)")
            let requests = server.requests
            #expect(requests.count == 2, "\(requests)")
            #expect(requests.first == .some(nil))
            let resumedFrom = requests.last.flatMap { $0 }.flatMap { $0.split(separator: "=").last?.split(separator: "-").first }
                .flatMap { Int($0) }
            #expect(resumedFrom.map { $0 > 0 && $0 < size } == true, "\(requests)")
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures ?? 0 == 0)
            let metrics = degraded.state.metricsRegistry.emitToString()
            #expect(metrics.contains(#"gateway_reads_resumed_total{zone="\#(planned[0])"} 1"#), "\(metrics)")
        }
    }

    /// A provider that stops sending mid-body while the reader waits for it is a failure of the
    /// provider, not a pause of the reader.
    @Test func aProviderSilentMidBodyIsStillAFailure() async throws {
        let server = try PatternServer(size: 4 << 20, stallAfter: 1 << 20)
        defer { Task { try? await server.stop() } }
        try await Self.withBackend(server, zone: "FI-HEL-ST-1") { backend in
            var read = 0
            do {
                for try await chunk in try await backend.read(key: "some", range: nil) { read += chunk.readableBytes }
                Issue.record("a body that stopped after 1 MiB of 4 MiB ended without an error")
            } catch let error as BackendError {
                #expect(error.code == .unavailable)
                #expect(error.cause == .provider, "\(error)")
            }
            #expect(read == 1 << 20)
        }
    }

    /// The same timeout while the reader paused is told apart.
    @Test func aPausedReaderIsToldApart() async throws {
        let server = try PatternServer(size: 24 << 20)
        defer { Task { try? await server.stop() } }
        try await Self.withBackend(server, zone: "FI-HEL-ST-1") { backend in
            let iterator = try await backend.read(key: "some", range: nil).makeAsyncIterator()
            var read = try #require(try await iterator.next()).readableBytes
            try await Task.sleep(for: .seconds(6))
            do {
                while let chunk = try await iterator.next() { read += chunk.readableBytes }
                Issue.record("the read went on after a pause three times the read timeout")
            } catch let error as BackendError {
                #expect(error.cause == .readerPaused, "\(error)")
            }
            #expect(read < 24 << 20)
        }
    }
}
