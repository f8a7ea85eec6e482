import ArgumentParser
import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix

/// The least an S3 gateway built on Hummingbird 2 and async-http-client can add to a request:
/// a proxy that passes every request to one S3 server as it came (method, path, query, headers
/// and body, so the client's SigV4 signature still holds there) and its answer back, and does
/// nothing else: no authentication, no policy, no metadata, no checksum. It is set up as the
/// gateway sets up these libraries (Swift concurrency on NIO's event loops, one HTTP client
/// per event loop, the same client settings), so that `scripts/bench-gateway.sh floor` can
/// measure, in one run, what the frameworks cost a request (this proxy against the server
/// directly) apart from what the gateway's own work costs (the gateway against this proxy).
///
/// Bodies are collected whole (up to 64 MiB), which is what the gateway does with a small one.
@main
struct ProxyFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-floor",
        abstract: "Passes HTTP requests to one S3 server and its answers back, and does nothing else.",
        discussion: "Prints `listening on PORT` once it accepts connections, then runs until killed."
    )

    @Option(help: "Port to listen on, on 127.0.0.1 (0: a free port).")
    var listen = 0

    @Option(help: "The S3 server: http://HOST:PORT.")
    var target: String

    @Option(help: "Connections to the server, shared out among the event loops (the gateway's default).")
    var connections = 64

    static func main() async {
        // As the gateway does: tasks run on the event loops, so a request's handler, its client
        // request and the response stay on one thread.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot() as! ProxyFloor
            try await command.run()
        } catch {
            exit(withError: error)
        }
    }

    func validate() throws {
        guard target.hasPrefix("http://"), !target.dropFirst(7).isEmpty else { throw ValidationError("--target must be http://HOST:PORT") }
    }

    func run() async throws {
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let perLoop = max(1, (connections + loops.count - 1) / loops.count)
        var clients: [ObjectIdentifier: HTTPClient] = [:]
        for loop in loops {
            var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(30)))
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: perLoop)
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.tracing.tracer = nil
            clients[ObjectIdentifier(loop)] = HTTPClient(eventLoopGroup: loop, configuration: configuration)
        }
        let responder = Forwarder(target: target, clients: clients, first: clients[ObjectIdentifier(loops[0])]!)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: listen), serverName: "proxy-floor"),
            onServerRunning: { channel in
                print("listening on \(channel.localAddress?.port ?? 0)")
                fflush(nil)  // all streams: the caller waits for this line in a file
            }
        )
        try await app.runService()
    }
}

struct Forwarder: HTTPResponder {
    typealias Context = BasicRequestContext
    let target: String
    let clients: [ObjectIdentifier: HTTPClient]
    let first: HTTPClient

    /// Headers that describe one hop's connection or framing, set anew on the other hop.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "content-length", "expect"]

    func respond(to request: Request, context: Context) async throws -> Response {
        let client = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { clients[ObjectIdentifier($0)] } ?? first
        var outbound = HTTPClientRequest(url: target + request.uri.description)
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        // The client's Host, which its signature covers (HTTP/1.1's Host is the request's authority here).
        if let authority = request.head.authority { outbound.headers.add(name: "host", value: authority) }
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        let body = try await request.body.collect(upTo: 64 << 20)
        if body.readableBytes > 0 || request.method == .put || request.method == .post {
            outbound.body = .bytes(body)
        }
        let answer = try await client.execute(outbound, timeout: .seconds(30))
        var headers = HTTPFields()
        for (name, value) in answer.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let payload = try await answer.body.collect(upTo: 64 << 20)
        if request.method == .head {
            if let length = answer.headers.first(name: "content-length") { headers[.contentLength] = length }
            return Response(status: .init(code: Int(answer.status.code)), headers: headers)
        }
        headers[.contentLength] = "\(payload.readableBytes)"
        return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: payload))
    }
}
