import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing

@testable import Gateway

/// `Tests/Fixtures/tls`: a test CA and a certificate it signed for `localhost` and `127.0.0.1`
/// (see the README there).
enum TLSFixtures {
    static let directory = TestGateway.root + "/Tests/Fixtures/tls"
    static let caFile = directory + "/ca.pem"
    static let certificateFile = directory + "/server.pem"
    static let keyFile = directory + "/server.key.pem"

    /// A client configuration that trusts the test CA alone.
    static func trustingTheTestCA() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        return tls
    }

    /// A client configuration with `tls` (nil: the system's trust roots) that gives up on the
    /// first connection that fails: the client's default retries it until the connect timeout.
    static func failingFast(_ tls: TLSConfiguration? = nil) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// A file in a new temporary folder holding `text`.
    static func temporaryFile(_ text: String, name: String = "file.pem") throws -> String {
        let directory = NSTemporaryDirectory() + "gateway-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Removes a file made by ``temporaryFile(_:name:)`` with its folder.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    /// Runs the services that `make` returns until `body` returns; `make` is given the function
    /// its listeners call with their name and port once they listen, and `body` the ports of
    /// the `listeners` named.
    static func running<T>(_ listeners: Set<String>,
                           _ make: (@escaping @Sendable (String, Int) -> Void) throws -> [any Service],
                           _ body: ([String: Int]) async throws -> T) async throws -> T {
        let (events, continuation) = AsyncStream.makeStream(of: (String, Int).self)
        let services = try make { name, port in continuation.yield((name, port)) }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var ports: [String: Int] = [:]
            for await (name, port) in events {
                ports[name] = port
                if Set(ports.keys) == listeners { break }
            }
            do {
                guard Set(ports.keys) == listeners else {
                    throw ListenerMissing(description: "listening: \(ports.keys.sorted()), expected \(listeners.sorted())")
                }
                let value = try await body(ports)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    struct ListenerMissing: Error, CustomStringConvertible { var description: String }
}

/// An S3 endpoint that keeps objects in memory: PUT stores the body (with an MD5 ETag), GET and
/// HEAD answer it, DELETE forgets it; a request for a bucket gets 200. Counts the requests.
struct InMemoryS3: HTTPResponder {
    typealias Context = BasicRequestContext

    final class Objects: Sendable {
        let state = Mutex<(objects: [String: ByteBuffer], requests: Int)>(([:], 0))
    }

    let store = Objects()

    var objects: [String: ByteBuffer] { store.state.withLock { $0.objects } }
    var requests: Int { store.state.withLock { $0.requests } }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let body = try await request.body.collect(upTo: 16 << 20)
        let isBucket = path.split(separator: "/").count <= 1
        let stored = store.state.withLock { state -> ByteBuffer? in
            state.requests += 1
            if isBucket { return nil }
            switch request.method {
            case .put: state.objects[path] = body
            case .delete: state.objects[path] = nil
            default: break
            }
            return state.objects[path]
        }
        if isBucket || request.method == .put || request.method == .delete {
            let etag = stored.map { "\"" + Insecure.MD5.hash(data: Array($0.readableBytesView)).map { String(format: "%02x", $0) }.joined() + "\"" }
            var headers: HTTPFields = [.contentLength: "0"]
            if let etag { headers[.eTag] = etag }
            return Response(status: request.method == .delete ? .noContent : .ok, headers: headers)
        }
        guard let stored else { return Response(status: .notFound, headers: [.contentLength: "0"]) }
        let headers: HTTPFields = [.contentLength: "\(stored.readableBytes)"]
        if request.method == .head { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: stored))
    }
}
