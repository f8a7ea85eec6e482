import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Gateway

/// An HTTP server that answers the first request on a connection and closes the connection as
/// soon as the head of a second request arrives on it: what a kept-alive connection looks like
/// when the provider closed it (its idle timeout) just as the client took it for a new request.
/// With `closeAfter`, it closes the connection once that many bytes of the second request's
/// body have arrived instead; with `closes: false`, it answers every request.
final class ClosingKeepAliveServer: Sendable {
    struct Received: Sendable {
        var connection: Int
        var path: String
        var body: [UInt8]
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state = NIOLockedValueBox<State>(State())
    private(set) nonisolated(unsafe) var channel: (any Channel)?

    struct State {
        var connections = 0
        var closed = 0
        var received: [Received] = []
    }

    var port: Int { channel?.localAddress?.port ?? 0 }
    /// Complete requests answered, in order.
    var received: [Received] { state.withLockedValue { $0.received } }
    var connections: Int { state.withLockedValue { $0.connections } }
    /// Connections closed under a request.
    var closed: Int { state.withLockedValue { $0.closed } }

    init(closeAfter: Int? = nil, closes: Bool = true) throws {
        let state = self.state
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.withLockedValue { s in
                    s.connections += 1
                    return s.connections
                }
                return channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Handler(connection: number, closeAfter: closeAfter,
                                                                           closes: closes, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() async throws {
        try await channel?.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let connection: Int
        let closeAfter: Int?
        let closes: Bool
        let state: NIOLockedValueBox<State>
        var requests = 0
        var path = ""
        var body: [UInt8] = []

        init(connection: Int, closeAfter: Int?, closes: Bool, state: NIOLockedValueBox<State>) {
            self.connection = connection
            self.closeAfter = closeAfter
            self.closes = closes
            self.state = state
        }

        func close(context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            state.withLockedValue { $0.closed += 1 }
            context.close(promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                requests += 1
                path = head.uri
                body = []
                if requests == 2 && closeAfter == nil && closes { close(context: context) }
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
                if requests == 2, closes, let closeAfter, body.count >= closeAfter { close(context: context) }
            case .end:
                guard context.channel.isActive else { return }
                let received = Received(connection: connection, path: path, body: body)
                state.withLockedValue { $0.received.append(received) }
                var headers = HTTPHeaders()
                headers.add(name: "ETag", value: "\"etag-\(connection)\"")
                headers.add(name: "Content-Length", value: "0")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                              promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

@Suite("Backend PUT after a closed kept-alive connection")
struct ClosedConnectionReplayTests {
    /// A backend on a fresh server (see ``ClosingKeepAliveServer`` for `closeAfter` and
    /// `closes`), with a client of one connection per host. `connectTimeout` (the gateway's
    /// client's unless given) also bounds how long async-http-client lets a request wait for a
    /// connection.
    static func withBackend(closeAfter: Int? = nil, closes: Bool = true, connectTimeout: TimeAmount? = nil,
                            connectionWait: Duration = ConnectionLoad.defaultWait,
                            _ body: (S3Backend, ClosingKeepAliveServer) async throws -> Void) async throws {
        let server = try ClosingKeepAliveServer(closeAfter: closeAfter, closes: closes)
        var configuration = S3Backend.clientConfiguration(connectionsPerHost: 1)
        if let connectTimeout { configuration.timeout.connect = connectTimeout }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let backend = try S3Backend(zone: "FI-HEL-ST-1", endpoint: "http://127.0.0.1:\(server.port)", bucket: "b",
                                        region: "us-east-1", accessKey: "key", secretKey: "secret",
                                        clients: BackendHTTPClients(client, connectionsPerHost: 1, connectionWait: connectionWait))
            try await body(backend, server)
        } catch {
            try? await client.shutdown()
            try? await server.stop()
            throw error
        }
        try await client.shutdown()
        try await server.stop()
    }

    func put(_ backend: S3Backend, key: String, body: [UInt8], chunk: Int = 1500) async throws -> String? {
        let writer = backend.streamingPut(key: key, expectedSize: Int64(body.count))
        var offset = 0
        while offset < body.count {
            let end = min(offset + chunk, body.count)
            try await writer.write(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        }
        return try await writer.finishReturningETag()
    }

    @Test func aSmallBodyIsSentAgainOnANewConnection() async throws {
        try await Self.withBackend { (backend: S3Backend, server: ClosingKeepAliveServer) async throws in
            let first = (0..<4096).map { UInt8($0 % 251) }
            let firstTag = try await put(backend, key: "one", body: first)
            #expect(firstTag == "etag-1")
            // The pool hands out the kept-alive connection, which the server closes on the head.
            let second = (0..<10_000).map { UInt8(($0 * 7) % 253) }
            let secondTag = try await put(backend, key: "two", body: second)
            #expect(secondTag == "etag-2")
            let received = server.received
            #expect(received.count == 2)
            #expect(received.last?.connection == 2)
            #expect(received.last?.path == "/b/two")
            #expect(received.last?.body == second)
        }
    }

    /// A small body of known length is gathered and goes out in one request at `finish`
    /// (nothing reaches the provider before); after a closed connection it is sent again.
    @Test func aSmallBodyIsGatheredAndSentInOneRequest() async throws {
        try await Self.withBackend { (backend: S3Backend, server: ClosingKeepAliveServer) async throws in
            let first = try await backend.makeWriter(key: "one", expectedSize: 3)
            #expect(first is S3GatheredWriter)
            try await first.write(ByteBuffer(bytes: [1, 2]))
            try await first.write(ByteBuffer(bytes: [3]))
            #expect(server.connections == 0)
            try await first.finish()
            #expect(server.received.first?.body == [1, 2, 3])
            let second = (0..<Int(S3Backend.gatheredPutLimit)).map { UInt8(($0 * 13) % 241) }
            let writer = try #require(try await backend.makeWriter(key: "two", expectedSize: Int64(second.count)) as? S3GatheredWriter)
            var offset = 0
            while offset < second.count {
                try await writer.write(ByteBuffer(bytes: second[offset..<min(offset + 1500, second.count)]))
                offset += 1500
            }
            // The kept-alive connection is closed on the head: the body goes out again.
            #expect(try await writer.finishReturningETag() == "etag-2")
            #expect(server.received.count == 2)
            #expect(server.received.last?.connection == 2)
            #expect(server.received.last?.body == second)
            let large = try await backend.makeWriter(key: "three", expectedSize: S3Backend.gatheredPutLimit + 1)
            #expect(large is S3Writer)
            await large.abort()
        }
    }

    /// A large body: the request on the closed connection took its first buffer; the body
    /// goes out again from the start on a new connection, the writer none the wiser.
    @Test func aLargeBodyIsSentAgainWhenTheClosedRequestTookLittleOfIt() async throws {
        try await Self.withBackend { (backend: S3Backend, server: ClosingKeepAliveServer) async throws in
            #expect(try await put(backend, key: "one", body: [1, 2, 3]) == "etag-1")
            let large = (0..<(4 * S3Backend.replayLimit)).map { UInt8(($0 * 31) % 251) }
            let chunk = 64 * 1024
            let writer = backend.streamingPut(key: "big", expectedSize: Int64(large.count))
            try await writer.write(ByteBuffer(bytes: large[0..<chunk]))
            // The server closed the kept-alive connection on the head, and the request failed;
            // the rest follows (the writer is not told: this is only to keep the test exact).
            while writer.channel.rewinds == 0 { try await Task.sleep(for: .milliseconds(5)) }
            var offset = chunk
            while offset < large.count {
                try await writer.write(ByteBuffer(bytes: large[offset..<min(offset + chunk, large.count)]))
                offset += chunk
            }
            #expect(try await writer.finishReturningETag() == "etag-2")
            #expect(server.received.count == 2)
            #expect(server.received.last?.connection == 2)
            #expect(server.received.last?.body == large)
        }
    }

    /// The request on the closed connection had taken more of the body than is kept: the PUT
    /// fails (the client retries it), and nothing incomplete is stored.
    @Test func aBodyTakenBeyondTheLimitIsNotSentAgain() async throws {
        let closeAfter = S3Backend.replayLimit + 64 * 1024
        try await Self.withBackend(closeAfter: closeAfter) { (backend: S3Backend, server: ClosingKeepAliveServer) async throws in
            #expect(try await put(backend, key: "one", body: [1, 2, 3]) == "etag-1")
            let large = [UInt8](repeating: 7, count: 4 * S3Backend.replayLimit)
            await #expect(throws: (any Error).self) { try await put(backend, key: "big", body: large, chunk: 64 * 1024) }
            #expect(server.closed == 1)
            #expect(server.received.count == 1)
        }
    }

    @Test(arguments: [
        (HTTPClientError.remoteConnectionClosed as any Error, true),
        (IOError(errnoCode: ECONNRESET, reason: "read") as any Error, true),
        (IOError(errnoCode: EPIPE, reason: "write") as any Error, true),
        (ChannelError.ioOnClosedChannel as any Error, true),
        (IOError(errnoCode: ECONNREFUSED, reason: "connect") as any Error, false),
        (HTTPClientError.readTimeout as any Error, false),
        (CancellationError() as any Error, false),
    ])
    func whichFailuresMeanAClosedConnection(error: any Error, closed: Bool) {
        #expect(S3Backend.isClosedConnection(error) == closed)
    }
}
