import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metadata
import NIOCore
import SigV4
import Testing

@testable import Gateway

/// A gateway on the embedded default in a temporary folder: SQLite metadata, one local-disk
/// folder per Helsinki zone, the project's catalog and (unless given) example policies.
struct TestGateway {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.path
    }()

    static let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]

    let directory: String
    let state: GatewayState
    let store: SQLiteMetadataStore
    let credentials = SigV4Credentials(accessKeyID: "test-key", secretAccessKey: "test-secret")

    /// `backends` maps zones to S3 endpoints (region us-east-1, any keys); the other zones are folders.
    /// `prepared: false` leaves start-up (``GatewayApp/prepare(_:)``) to the test.
    static func make(policies: String? = nil, backends endpoints: [String: String] = [:],
                     httpClient: HTTPClient? = nil, prepared: Bool = true,
                     configure: (inout GatewayConfiguration) -> Void = { _ in }) async throws -> TestGateway {
        let directory = NSTemporaryDirectory() + "gateway-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var backends: [String] = []
        for zone in zones {
            if let url = endpoints[zone] {
                backends.append("\"\(zone)\": {\"provider\": \"p\", \"zone_code\": \"\(zone)\", \"region\": \"us-east-1\", \"endpoint\": \"\(url)\", \"access_key\": \"moto-key\", \"secret_key\": \"moto-secret\", \"is_primary\": false, \"enabled\": true}")
                continue
            }
            backends.append("\"\(zone)\": {\"provider\": \"p\", \"zone_code\": \"\(zone)\", \"region\": \"FI-HEL\", \"endpoint\": \"file:\(directory)/zones/\(zone)\", \"access_key\": \"\", \"secret_key\": \"\", \"is_primary\": false, \"enabled\": true}")
        }
        let backendsFile = directory + "/backends.json"
        try ("{" + backends.joined(separator: ",") + "}").write(toFile: backendsFile, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration()
        configuration.dataDirectory = directory + "/data"
        configuration.backendsFile = backendsFile
        configuration.providersFile = root + "/providers_flat.csv"
        configuration.policiesDirectory = policies ?? (root + "/policies")
        configuration.accessKey = "test-key"
        configuration.secretKey = "test-secret"
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let store = try await SQLiteMetadataStore.open(configuration: .init(directory: configuration.dataDirectory), logger: logger)
        let state = try GatewayApp.makeState(configuration, store: store, logger: logger,
                                             httpClients: httpClient.map { BackendHTTPClients($0) })
        if prepared { try await GatewayApp.prepare(state) }
        return TestGateway(directory: directory, state: state, store: store)
    }

    /// Runs `body` with a router-level test client of the S3 port.
    func withClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(responder: S3Responder(state: state, prefix: ""), logger: state.logger)
        try await app.test(.router) { client in try await body(client) }
    }

    func withManagementClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(responder: ManagementResponder(state: state), logger: state.logger)
        try await app.test(.router) { client in try await body(client) }
    }

    /// Headers of a SigV4-signed request for `localhost` (the router test client's authority).
    func signed(_ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = [],
                credentials: SigV4Credentials? = nil, date: Date = Date(), host: String = "localhost") -> HTTPFields {
        let signer = SigV4Signer(credentials: credentials ?? self.credentials, region: "us-east-1")
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let request = SigV4SigningRequest(method: method, host: host, encodedPath: String(parts[0]),
                                          encodedQuery: parts.count > 1 ? String(parts[1]) : "",
                                          headers: headers.map { (name: $0.0, value: $0.1) })
        let result = signer.sign(request, payload: .sha256(of: body), date: date)
        var fields = HTTPFields()
        for (name, value) in result.headers where name.lowercased() != "host" {
            fields[HTTPField.Name(name)!] = value
        }
        fields[.authorization] = result.authorization
        return fields
    }

    /// Files stored in a zone's folder (the physical bucket), relative paths.
    func files(in zone: String) -> [String] {
        regularFiles(below: directory + "/zones/" + zone + "/2025-datatransfer")
    }

    /// Regular files below `base`, relative paths, sorted.
    func regularFiles(below base: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: base)
        var result: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(path)
            }
        }
        return result.sorted()
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
}

extension TestResponse {
    /// The `<Code>` of an S3 error body.
    var errorCode: String? {
        let text = String(buffer: body)
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>") else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}
