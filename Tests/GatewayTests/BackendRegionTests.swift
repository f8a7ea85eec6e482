import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Gateway

/// An S3 endpoint that records each request it gets and answers 200.
struct RecordingS3: HTTPResponder {
    typealias Context = BasicRequestContext

    struct Recorded: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var headers: HTTPFields
        var body: String
    }

    final class Log: Sendable {
        let requests = Mutex<[Recorded]>([])
    }

    let log = Log()

    var recorded: [Recorded] { log.requests.withLock { $0 } }

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        log.requests.withLock { $0.append(Recorded(method: request.method, path: request.uri.path, headers: request.headers,
                                                body: String(buffer: body))) }
        return Response(status: .ok, headers: [.contentLength: "0"])
    }
}

/// The backends file's `region` signs requests; the physical bucket is created with the
/// `location_constraint` (by default the region; none for us-east-1 or when set to "").
@Suite("Backend regions and CreateBucket's LocationConstraint")
struct BackendRegionTests {
    @Test func theLocationConstraintDefaultsToTheRegion() {
        #expect(BackendRegion(name: "hel1").locationConstraint == "hel1")
        #expect(BackendRegion(name: "eu-north-1").locationConstraint == "eu-north-1")
        #expect(BackendRegion(name: "us-east-1").locationConstraint == nil)
        #expect(BackendRegion(name: "europe-1", locationConstraint: "").locationConstraint == nil)
        #expect(BackendRegion(name: "hel1", locationConstraint: "EU").locationConstraint == "EU")
        #expect(BackendRegion(name: "eu-west-1", locationConstraint: "us-east-1").locationConstraint == nil)
    }

    @Test func theBackendsFileNamesTheRegionAndTheConstraint() throws {
        let parsed = try BackendsConfigTests.parse("""
            {"spacetime": {"zone_code": "FI-HEL-ST-1", "region": "hel1", "endpoint": "https://hel1.your-objectstorage.com"},
             "upcloud": {"zone_code": "FI-HEL-UC-1", "region": "europe-1", "location_constraint": "",
                         "endpoint": "https://f969k.upcloudobjects.com"},
             "hetzner": {"zone_code": "FI-HEL-HZ-1", "endpoint": "https://s3c.tns.cx"}}
            """)
        let regions = Dictionary(uniqueKeysWithValues: parsed.map { ($0.name, $0.region) })
        #expect(regions["spacetime"] == BackendRegion(name: "hel1"))
        #expect(regions["spacetime"]?.locationConstraint == "hel1")
        #expect(regions["upcloud"]?.name == "europe-1")
        #expect(regions["upcloud"]?.locationConstraint == nil)
        #expect(regions["hetzner"]?.name == "us-east-1")
        #expect(regions["hetzner"]?.locationConstraint == nil)
        // The gateway builds its S3 backends with both.
        let backends = try GatewayApp.makeBackends(parsed, configuration: GatewayConfiguration(),
                                                   httpClients: BackendHTTPClients(Moto.client))
        let spacetime = try #require(backends["FI-HEL-ST-1"] as? S3Backend)
        #expect(spacetime.region == "hel1" && spacetime.locationConstraint == "hel1")
        let upcloud = try #require(backends["FI-HEL-UC-1"] as? S3Backend)
        #expect(upcloud.region == "europe-1" && upcloud.locationConstraint == nil)
    }

    /// The example backends file uses the providers' real signing regions (the catalog's
    /// `region_id`), not the original service's `FI-HEL`.
    @Test func theExampleConfigurationUsesRealRegions() throws {
        let text = try String(contentsOfFile: TestGateway.root + "/config/s3_backends.example.json", encoding: .utf8)
        let parsed = try BackendsConfigTests.parse(text, environment: [
            "SPACETIME_ACCESS_KEY": "a", "SPACETIME_SECRET_KEY": "s", "UPCLOUD_ACCESS_KEY": "a", "UPCLOUD_SECRET_KEY": "s",
            "HETZNER_ACCESS_KEY": "a", "HETZNER_SECRET_KEY": "s",
        ])
        let byZone = Dictionary(uniqueKeysWithValues: parsed.map { ($0.zoneCode, $0.region) })
        // providers_flat.csv: FI-HEL-ST-1 is Hetzner's hel1 endpoint, FI-HEL-UC-1 UpCloud's
        // europe-1; FI-HEL-HZ-1 has no known region id, so it signs for us-east-1.
        #expect(byZone["FI-HEL-ST-1"] == BackendRegion(name: "hel1"))
        #expect(byZone["FI-HEL-UC-1"] == BackendRegion(name: "europe-1", locationConstraint: ""))
        #expect(byZone["FI-HEL-HZ-1"] == BackendRegion(name: "us-east-1"))
    }

    /// CreateBucket as the backend sends it, for a region and constraint.
    func createBucket(region: BackendRegion, objectLock: Bool = false) async throws -> RecordingS3.Recorded {
        let server = RecordingS3()
        let app = Application(responder: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let backend = try S3Backend(zone: "FI-HEL-ST-1", endpoint: "http://127.0.0.1:\(port)", bucket: "2025-datatransfer",
                                        region: region, accessKey: "AKID", secretKey: "secret", client: Moto.client)
            try await backend.initialize(objectLock: objectLock)
        }
        #expect(server.recorded.count == 1)
        return try #require(server.recorded.first)
    }

    static let configuration = #"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#

    @Test func createBucketSendsTheLocationConstraint() async throws {
        let request = try await createBucket(region: BackendRegion(name: "hel1"))
        #expect(request.method == .put)
        #expect(request.path == "/2025-datatransfer")
        #expect(request.body == Self.configuration + "<LocationConstraint>hel1</LocationConstraint></CreateBucketConfiguration>")
        let authorization = try #require(request.headers[.authorization])
        #expect(authorization.contains("/hel1/s3/aws4_request"), "\(authorization)")
        // The body is signed.
        #expect(request.headers[HTTPField.Name("x-amz-content-sha256")!] == sha256Hex(Array(request.body.utf8)))
        #expect(request.headers[HTTPField.Name("x-amz-bucket-object-lock-enabled")!] == nil)
    }

    @Test func createBucketWithAnExplicitConstraint() async throws {
        let request = try await createBucket(region: BackendRegion(name: "eu-central-1", locationConstraint: "EU"), objectLock: true)
        #expect(request.body == Self.configuration + "<LocationConstraint>EU</LocationConstraint></CreateBucketConfiguration>")
        #expect(try #require(request.headers[.authorization]).contains("/eu-central-1/s3/aws4_request"))
        #expect(request.headers[HTTPField.Name("x-amz-bucket-object-lock-enabled")!] == "true")
    }

    @Test func createBucketSendsNoConfigurationForUSEast1OrAnEmptyConstraint() async throws {
        for region in [BackendRegion(name: "us-east-1"), BackendRegion(name: "europe-1", locationConstraint: "")] {
            let request = try await createBucket(region: region)
            #expect(request.body.isEmpty, "\(region)")
            #expect(try #require(request.headers[.authorization]).contains("/\(region.name)/s3/aws4_request"))
            #expect(request.headers[HTTPField.Name("x-amz-content-sha256")!] == sha256Hex([]))
        }
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
