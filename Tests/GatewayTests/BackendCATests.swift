import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import NIOSSL
import Testing

@testable import Gateway

/// `GATEWAY_BACKEND_CA_FILE`: an HTTPS backend whose certificate chains to a private CA serves
/// the gateway when the CA file names that CA; without it the handshake fails and the gateway
/// refuses the write (fail closed).
@Suite("HTTPS backends behind a private CA")
struct BackendCATests {
    /// The three zones on one in-memory S3 endpoint served over HTTPS with the test certificate,
    /// in front of it a gateway whose backend clients are made as the gateway makes them
    /// (``BackendHTTPClients``) with `backendCAFile`.
    static func withFrontGateway(backendCAFile: String?, serverMaximumTLS: TLSVersion? = nil,
                                 _ body: (TestGateway, InMemoryS3) async throws -> Void) async throws {
        var serverConfiguration = GatewayConfiguration()
        serverConfiguration.tlsCertificateFile = TLSFixtures.certificateFile
        serverConfiguration.tlsKeyFile = TLSFixtures.keyFile
        var serverTLS = try GatewayApp.serverTLSConfiguration(serverConfiguration)
        if let serverMaximumTLS {
            serverTLS?.minimumTLSVersion = .tlsv1
            serverTLS?.maximumTLSVersion = serverMaximumTLS
        }
        let backend = InMemoryS3()
        try await TLSFixtures.running(["backend"], { onRunning in
            [Application(responder: backend,
                         server: try GatewayApp.makeServer(GatewayApp.httpConfiguration(serverConfiguration), tls: serverTLS),
                         configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                         onServerRunning: { channel in onRunning("backend", channel.localAddress?.port ?? 0) })]
        }) { ports in
            let url = "https://127.0.0.1:\(try #require(ports["backend"]))"
            var frontConfiguration = GatewayConfiguration()
            frontConfiguration.backendCAFile = backendCAFile
            // The backends' client configuration: a handshake that fails fails its request at once.
            let clientConfiguration = S3Backend.clientConfiguration(
                connectionsPerHost: 4, tlsConfiguration: try GatewayApp.backendTLSConfiguration(frontConfiguration))
            try await HTTPClient.withHTTPClient(configuration: clientConfiguration) { client in
                var endpoints: [String: String] = [:]
                for zone in TestGateway.zones { endpoints[zone] = url }
                let gw = try await TestGateway.make(backends: endpoints, httpClient: client) { configuration in
                    configuration.backendCAFile = backendCAFile
                }
                defer { gw.cleanUp() }
                try await body(gw, backend)
            }
        }
    }

    static func put(_ gw: TestGateway, _ client: any TestClientProtocol, _ target: String, body: [UInt8] = []) async throws -> TestResponse {
        try await client.execute(uri: target, method: .put, headers: gw.signed("PUT", target, body: body),
                                 body: body.isEmpty ? nil : ByteBuffer(bytes: body))
    }

    @Test func withTheCAFileTheObjectIsStoredOnTheHTTPSBackend() async throws {
        try await Self.withFrontGateway(backendCAFile: TLSFixtures.caFile) { gw, backend in
            // Start-up created the physical bucket over HTTPS: every zone is up.
            for zone in TestGateway.zones { #expect(gw.state.isHealthy(zone), "\(zone)") }
            let body = Array("kept on premises, reached over TLS".utf8)
            try await gw.withClient { client in
                #expect(try await Self.put(gw, client, "/ca-data").status == .ok)
                let put = try await Self.put(gw, client, "/ca-data/docs/a.txt", body: body)
                #expect(put.status == .ok, "\(String(buffer: put.body))")
                let get = try await client.execute(uri: "/ca-data/docs/a.txt", method: .get,
                                                   headers: gw.signed("GET", "/ca-data/docs/a.txt"))
                #expect(get.status == .ok)
                #expect(Array(get.body.readableBytesView) == body)
            }
            let prefix = "/2025-datatransfer/" + WriteIntent.backendKey(bucket: "ca-data", key: "docs/a.txt", storageId: "")
            let stored = backend.objects.filter { $0.key.hasPrefix(prefix) }
            #expect(stored.count == 1, "\(backend.objects.keys.sorted())")
            #expect(stored.first.map { Array($0.value.readableBytesView) } == body)
        }
    }

    /// Start-up could not create the physical bucket: the zones were marked down. Marked up
    /// again, the write itself meets the handshake that fails, and is refused; no request got
    /// through the handshake.
    static func expectTheWriteRefused(_ gw: TestGateway, _ backend: InMemoryS3) async throws {
        for zone in TestGateway.zones {
            #expect(!gw.state.isHealthy(zone), "\(zone)")
            gw.state.setHealth(zone, true)
        }
        try await gw.withClient { client in
            #expect(try await Self.put(gw, client, "/ca-data").status == .ok)
            let put = try await Self.put(gw, client, "/ca-data/docs/a.txt", body: Array("must not be placed".utf8))
            #expect(put.status == .serviceUnavailable, "\(String(buffer: put.body))")
        }
        #expect(backend.requests == 0)
        #expect(backend.objects.isEmpty)
    }

    @Test func withoutTheCAFileTheWriteIsRefused() async throws {
        try await Self.withFrontGateway(backendCAFile: nil) { gw, backend in
            try await Self.expectTheWriteRefused(gw, backend)
        }
    }

    /// A backend that offers nothing newer than TLS 1.1 is refused like an untrusted one.
    @Test func aBackendBelowTLS12IsRefused() async throws {
        try await Self.withFrontGateway(backendCAFile: TLSFixtures.caFile, serverMaximumTLS: .tlsv11) { gw, backend in
            try await Self.expectTheWriteRefused(gw, backend)
        }
    }

    // MARK: The CA file

    static func caError(_ file: String) -> String? {
        var configuration = GatewayConfiguration()
        configuration.backendCAFile = file
        do {
            _ = try GatewayApp.backendTLSConfiguration(configuration)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theCAFileAddsToTheSystemRoots() throws {
        #expect(try GatewayApp.backendTLSConfiguration(GatewayConfiguration()) == nil)
        var configuration = GatewayConfiguration()
        configuration.backendCAFile = TLSFixtures.caFile
        let tls = try #require(try GatewayApp.backendTLSConfiguration(configuration))
        #expect(tls.trustRoots == .default)
        #expect(tls.additionalTrustRoots == [.certificates(try NIOSSLCertificate.fromPEMFile(TLSFixtures.caFile))])
    }

    @Test func aMissingOrInvalidCAFileStopsTheStartUp() throws {
        let missing = NSTemporaryDirectory() + "gateway-tls-missing-" + UUID().uuidString + ".pem"
        let missingError = try #require(Self.caError(missing))
        #expect(missingError.hasPrefix("GATEWAY_BACKEND_CA_FILE: cannot read \(missing)"), "\(missingError)")
        for content in ["not a certificate\n", ""] {
            let text = try TLSFixtures.temporaryFile(content)
            defer { TLSFixtures.remove(text) }
            let textError = try #require(Self.caError(text))
            #expect(textError.hasPrefix("GATEWAY_BACKEND_CA_FILE \(text) "), "\(textError)")
        }
        let garbage = try TLSFixtures.temporaryFile("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        defer { TLSFixtures.remove(garbage) }
        let garbageError = try #require(Self.caError(garbage))
        #expect(garbageError.hasPrefix("GATEWAY_BACKEND_CA_FILE \(garbage) "), "\(garbageError)")
    }
}
