import AsyncHTTPClient
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
