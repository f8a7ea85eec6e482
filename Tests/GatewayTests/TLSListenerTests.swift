import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@testable import Gateway

/// `GATEWAY_TLS_CERT_FILE` and `GATEWAY_TLS_KEY_FILE`: both listeners serve HTTPS only, with the
/// listeners the gateway runs (``GatewayApp/makeListeners(state:tls:logger:onRunning:)``); bad
/// files stop the start-up.
@Suite("HTTPS listeners")
struct TLSListenerTests {
    /// A gateway whose configuration names the test certificate and key (the certificate file
    /// holds the chain, server then CA), with both listeners running on free ports.
    static func withHTTPSGateway(_ body: (TestGateway, _ s3Port: Int, _ managementPort: Int) async throws -> Void) async throws {
        let chain = try String(contentsOfFile: TLSFixtures.certificateFile, encoding: .utf8)
            + String(contentsOfFile: TLSFixtures.caFile, encoding: .utf8)
        let chainFile = try TLSFixtures.temporaryFile(chain, name: "chain.pem")
        defer { TLSFixtures.remove(chainFile) }
        let gw = try await TestGateway.make { configuration in
            configuration.s3Port = 0
            configuration.managementPort = 0
            configuration.tlsCertificateFile = chainFile
            configuration.tlsKeyFile = TLSFixtures.keyFile
        }
        defer { gw.cleanUp() }
        #expect(gw.state.configuration.scheme == "https")
        let tls = try #require(try GatewayApp.serverTLSConfiguration(gw.state.configuration))
        try await TLSFixtures.running(["s3", "management"], { onRunning in
            let listeners = try GatewayApp.makeListeners(state: gw.state, tls: tls, logger: gw.state.logger) { listener, port in
                onRunning(listener.rawValue, port)
            }
            return [listeners.s3, listeners.management]
        }) { ports in
            try await body(gw, try #require(ports["s3"]), try #require(ports["management"]))
        }
    }

    /// A request signed by the test gateway's credentials for `127.0.0.1:port`.
    static func signed(_ gw: TestGateway, _ method: HTTPMethod, _ url: String, port: Int, target: String,
                       body: [UInt8] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url + target)
        request.method = method
        let host = "127.0.0.1:\(port)"
        request.headers.add(name: "Host", value: host)
        for field in gw.signed(method.rawValue, target, body: body, host: host) {
            request.headers.add(name: field.name.rawName, value: field.value)
        }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        return request
    }

    /// `/health` over a new connection from a client that trusts `roots` alone: true when the
    /// handshake passes.
    static func healthAnswers(port: Int, trusting roots: String) async throws -> Bool {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(roots))
        return try await HTTPClient.withHTTPClient(configuration: TLSFixtures.failingFast(tls)) { client in
            do {
                let health = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"),
                                                      timeout: .seconds(10))
                return health.status == .ok
            } catch {
                return false
            }
        }
    }

    /// A renewed certificate is served to new connections once the files are read again (what
    /// SIGHUP does); a pair that does not pass leaves the one in use.
    @Test func aRenewedCertificateIsServedAfterAReload() async throws {
        let certificateFile = try TLSFixtures.temporaryFile(try String(contentsOfFile: TLSFixtures.certificateFile, encoding: .utf8),
                                                            name: "cert.pem")
        defer { TLSFixtures.remove(certificateFile) }
        let keyFile = (certificateFile as NSString).deletingLastPathComponent + "/key.pem"
        try FileManager.default.copyItem(atPath: TLSFixtures.keyFile, toPath: keyFile)
        let gw = try await TestGateway.make { configuration in
            configuration.tlsCertificateFile = certificateFile
            configuration.tlsKeyFile = keyFile
        }
        defer { gw.cleanUp() }
        let (tls, reloader) = try #require(try GatewayApp.reloadableServerTLS(gw.state.configuration))
        let renewed = TLSFixtures.directory + "/renewed.pem"
        try await TLSFixtures.running(["management"], { onRunning in
            let listeners = try GatewayApp.makeListeners(state: gw.state, tls: tls, logger: gw.state.logger) { listener, port in
                if listener == .management { onRunning(listener.rawValue, port) }
            }
            return [listeners.s3, listeners.management]
        }) { ports in
            let port = try #require(ports["management"])
            #expect(try await Self.healthAnswers(port: port, trusting: TLSFixtures.caFile))
            #expect(try await !Self.healthAnswers(port: port, trusting: renewed))

            // The renewed pair replaces the files, then the reload.
            try FileManager.default.removeItem(atPath: certificateFile)
            try FileManager.default.removeItem(atPath: keyFile)
            try FileManager.default.copyItem(atPath: renewed, toPath: certificateFile)
            try FileManager.default.copyItem(atPath: TLSFixtures.directory + "/renewed.key.pem", toPath: keyFile)
            #expect(reloader.reload(logger: gw.state.logger))
            #expect(try await Self.healthAnswers(port: port, trusting: renewed))
            #expect(try await !Self.healthAnswers(port: port, trusting: TLSFixtures.caFile))

            // A certificate whose key is another's is refused; the renewed pair stays.
            try FileManager.default.removeItem(atPath: certificateFile)
            try FileManager.default.copyItem(atPath: TLSFixtures.certificateFile, toPath: certificateFile)
            #expect(!reloader.reload(logger: gw.state.logger))
            #expect(try await Self.healthAnswers(port: port, trusting: renewed))
        }
    }

    @Test func signedPutAndGetAndHealthAnswerOverHTTPS() async throws {
        try await Self.withHTTPSGateway { gw, s3Port, managementPort in
            let configuration = HTTPClient.Configuration(tlsConfiguration: try TLSFixtures.trustingTheTestCA())
            try await HTTPClient.withHTTPClient(configuration: configuration) { client in
                let url = "https://127.0.0.1:\(s3Port)"
                let bucket = try await client.execute(Self.signed(gw, .PUT, url, port: s3Port, target: "/tls-data"),
                                                      timeout: .seconds(10))
                #expect(bucket.status == .ok)
                let body = Array("sent and kept encrypted in transit".utf8)
                let put = try await client.execute(Self.signed(gw, .PUT, url, port: s3Port, target: "/tls-data/docs/a.txt", body: body),
                                                   timeout: .seconds(10))
                #expect(put.status == .ok)
                let get = try await client.execute(Self.signed(gw, .GET, url, port: s3Port, target: "/tls-data/docs/a.txt"),
                                                   timeout: .seconds(10))
                #expect(get.status == .ok)
                #expect(Array(try await get.body.collect(upTo: 1 << 20).readableBytesView) == body)

                let health = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(managementPort)/health"),
                                                      timeout: .seconds(10))
                #expect(health.status == .ok)
                let status = try JSONSerialization.jsonObject(with: Data(try await health.body.collect(upTo: 1 << 20).readableBytesView))
                #expect((status as? [String: Any])?["status"] as? String == "healthy")
            }
        }
    }

    /// The HTTP/1.1 set-up of the plain listeners applies inside TLS: a header section over
    /// S3's 8 KiB gets S3's RequestHeaderSectionTooLarge (``HeaderSectionLimitHandler``).
    @Test func theHeaderSectionLimitAppliesOverHTTPS() async throws {
        try await Self.withHTTPSGateway { gw, s3Port, _ in
            let configuration = HTTPClient.Configuration(tlsConfiguration: try TLSFixtures.trustingTheTestCA())
            try await HTTPClient.withHTTPClient(configuration: configuration) { client in
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(s3Port)/tls-data/k")
                request.headers.add(name: "x-amz-meta-big", value: String(repeating: "a", count: 9 * 1024))
                let response = try await client.execute(request, timeout: .seconds(10))
                #expect(response.status == .badRequest)
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                #expect(text.contains("<Code>RequestHeaderSectionTooLarge</Code>"), "\(text)")
            }
        }
    }

    @Test func plainHTTPGetsNoHTTPAnswer() async throws {
        try await Self.withHTTPSGateway { _, s3Port, managementPort in
            try await HTTPClient.withHTTPClient(configuration: TLSFixtures.failingFast()) { client in
                for port in [s3Port, managementPort] {
                    await #expect(throws: (any Error).self, "port \(port)") {
                        _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(10))
                    }
                }
            }
        }
    }

    @Test func aClientThatDoesNotTrustTheCAFailsTheHandshake() async throws {
        try await Self.withHTTPSGateway { _, s3Port, managementPort in
            // The system's trust roots, which do not hold the test CA.
            try await HTTPClient.withHTTPClient(configuration: TLSFixtures.failingFast()) { client in
                for port in [s3Port, managementPort] {
                    let error = await #expect(throws: (any Error).self) {
                        _ = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(10))
                    }
                    #expect(error is NIOSSLError, "\(String(describing: error))")
                }
            }
        }
    }

    @Test func tlsBelowVersion1_2IsRefused() async throws {
        try await Self.withHTTPSGateway { _, s3Port, _ in
            var tls = try TLSFixtures.trustingTheTestCA()
            tls.minimumTLSVersion = .tlsv1
            tls.maximumTLSVersion = .tlsv11
            try await HTTPClient.withHTTPClient(configuration: TLSFixtures.failingFast(tls)) { client in
                let error = await #expect(throws: (any Error).self) {
                    _ = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(s3Port)/health"), timeout: .seconds(10))
                }
                #expect(error is NIOSSLError, "\(String(describing: error))")
            }
        }
    }

    // MARK: Settings that stop the start-up

    static func tlsError(certificate: String?, key: String?) -> String? {
        var configuration = GatewayConfiguration()
        configuration.tlsCertificateFile = certificate
        configuration.tlsKeyFile = key
        do {
            _ = try GatewayApp.serverTLSConfiguration(configuration)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func noFilesServePlainHTTPAndBothServeHTTPS() throws {
        #expect(try GatewayApp.serverTLSConfiguration(GatewayConfiguration()) == nil)
        #expect(GatewayConfiguration().scheme == "http")
        var configuration = GatewayConfiguration()
        configuration.tlsCertificateFile = TLSFixtures.certificateFile
        configuration.tlsKeyFile = TLSFixtures.keyFile
        let tls = try #require(try GatewayApp.serverTLSConfiguration(configuration))
        #expect(tls.minimumTLSVersion == .tlsv12)
        #expect(tls.certificateChain.count == 1)
    }

    @Test func aCertificateWithoutAKeyOrAKeyWithoutACertificateStopsTheStartUp() throws {
        let noKey = try #require(Self.tlsError(certificate: TLSFixtures.certificateFile, key: nil))
        #expect(noKey.contains("GATEWAY_TLS_KEY_FILE is not set") && noKey.contains(TLSFixtures.certificateFile), "\(noKey)")
        let noCertificate = try #require(Self.tlsError(certificate: nil, key: TLSFixtures.keyFile))
        #expect(noCertificate.contains("GATEWAY_TLS_CERT_FILE is not set") && noCertificate.contains(TLSFixtures.keyFile), "\(noCertificate)")
        // The command line refuses it before anything starts (`GatewayCommandTests`).
    }

    @Test func aMissingFileStopsTheStartUp() throws {
        let missing = NSTemporaryDirectory() + "gateway-tls-missing-" + UUID().uuidString + ".pem"
        let certificate = try #require(Self.tlsError(certificate: missing, key: TLSFixtures.keyFile))
        #expect(certificate.hasPrefix("GATEWAY_TLS_CERT_FILE: cannot read \(missing)"), "\(certificate)")
        let key = try #require(Self.tlsError(certificate: TLSFixtures.certificateFile, key: missing))
        #expect(key.hasPrefix("GATEWAY_TLS_KEY_FILE: cannot read \(missing)"), "\(key)")
    }

    @Test func filesWithoutPEMStopTheStartUp() throws {
        let garbage = try TLSFixtures.temporaryFile("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        let text = try TLSFixtures.temporaryFile("just some text\n")
        defer { TLSFixtures.remove(garbage); TLSFixtures.remove(text) }
        for file in [garbage, text] {
            let certificate = try #require(Self.tlsError(certificate: file, key: TLSFixtures.keyFile))
            #expect(certificate.hasPrefix("GATEWAY_TLS_CERT_FILE \(file) "), "\(certificate)")
            let key = try #require(Self.tlsError(certificate: TLSFixtures.certificateFile, key: file))
            #expect(key.hasPrefix("GATEWAY_TLS_KEY_FILE \(file) holds no PEM private key"), "\(key)")
        }
        // Certificate and key swapped.
        let swapped = try #require(Self.tlsError(certificate: TLSFixtures.keyFile, key: TLSFixtures.certificateFile))
        #expect(swapped.hasPrefix("GATEWAY_TLS_CERT_FILE \(TLSFixtures.keyFile) "), "\(swapped)")
    }

    @Test func aKeyThatIsNotTheCertificatesStopsTheStartUp() throws {
        let other = try TLSFixtures.temporaryFile(P256.Signing.PrivateKey().pemRepresentation, name: "other.key.pem")
        defer { TLSFixtures.remove(other) }
        let error = try #require(Self.tlsError(certificate: TLSFixtures.certificateFile, key: other))
        #expect(error.hasPrefix("GATEWAY_TLS_KEY_FILE \(other) is not the key of the first certificate in GATEWAY_TLS_CERT_FILE \(TLSFixtures.certificateFile)"),
                "\(error)")
        // A chain with the CA first: the key is not the first certificate's.
        let chain = try String(contentsOfFile: TLSFixtures.caFile, encoding: .utf8)
            + String(contentsOfFile: TLSFixtures.certificateFile, encoding: .utf8)
        let reversed = try TLSFixtures.temporaryFile(chain, name: "chain.pem")
        defer { TLSFixtures.remove(reversed) }
        let reversedError = try #require(Self.tlsError(certificate: reversed, key: TLSFixtures.keyFile))
        #expect(reversedError.contains("is not the key of the first certificate"), "\(reversedError)")
    }
}
