import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import PolicyEngine
import Testing

@testable import Gateway

/// The management port's JSON endpoints and their admin token.
@Suite("Management API, router level")
struct ManagementAPITests {
    struct Reply {
        var status: HTTPResponse.Status
        var object: [String: Any]
    }

    /// A management call, its JSON body decoded.
    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String,
                     authorization: String? = nil) async throws -> Reply {
        var headers = HTTPFields()
        if let authorization { headers[.authorization] = authorization }
        let (status, data) = try await client.execute(uri: path, method: method, headers: headers) { r in
            (r.status, Data(r.body.readableBytesView))
        }
        return Reply(status: status, object: try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
    }

    /// Each operations-log entry says where its copies went: zone, provider, country, city.
    @Test func theOperationsLogNamesTheProvidersAndCountriesOfTheZones() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            let created = try await gw.send(client, .put, "/hr-data").status
            let written = try await gw.send(client, .put, "/hr-data/personal/a.txt", body: Array("x".utf8)).status
            #expect([created, written] == [.ok, .ok])
        }
        try await gw.withManagementClient { admin in
            let reply = try await Self.call(admin, .get, "/api/operations/log?operation=PutObject")
            let entries = try #require(reply.object["entries"] as? [[String: Any]])
            let entry = try #require(entries.first)
            let zones = try #require(entry["zones"] as? [String])
            let locations = try #require(entry["locations"] as? [[String: Any]])
            #expect(!zones.isEmpty)
            #expect(locations.map { $0["zone"] as? String } == zones)
            for location in locations {
                let code = try #require(location["zone"] as? String)
                let zone = try #require(gw.state.policies.catalog.zone(code))
                #expect(location["provider"] as? String == zone.providerName)
                #expect(location["country"] as? String == zone.countryCode)
                #expect(location["city"] as? String == zone.city)
            }
        }
    }

    // MARK: Admin token

    /// docker-compose passes `GATEWAY_ADMIN_TOKEN: ${GATEWAY_ADMIN_TOKEN:-}`, so an unset token
    /// arrives as "": that is no token, not a token nobody can send.
    @Test func anEmptyAdminTokenIsNoToken() async throws {
        let gw = try await TestGateway.make { $0.adminToken = "" }
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            for path in ["/backends", "/providers", "/bucket-config", "/api/policies", "/api/operations/log"] {
                #expect(try await Self.call(client, .get, path).status == .ok, "\(path)")
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { $0.status }
            #expect(metrics == .ok)
        }
    }

    @Test func theAdminTokenMustMatchExactly() async throws {
        let gw = try await TestGateway.make { $0.adminToken = "s3cret-token" }
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            for authorization in [nil, "", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-tokenX",
                                  "bearer s3cret-token", "Basic s3cret-token", "s3cret-token"] as [String?] {
                let reply = try await Self.call(client, .get, "/backends", authorization: authorization)
                #expect(reply.status == .unauthorized, "\(authorization ?? "no header")")
                #expect(reply.object["error"] as? String == "unauthorized")
            }
            #expect(try await Self.call(client, .get, "/backends", authorization: "Bearer s3cret-token").status == .ok)
            // /health needs no token.
            #expect(try await Self.call(client, .get, "/health").status == .ok)
        }
    }

    @Test func bearerComparison() {
        #expect(ManagementResponder.authorizes("Bearer abc", token: "abc"))
        #expect(!ManagementResponder.authorizes("Bearer abd", token: "abc"))
        #expect(!ManagementResponder.authorizes("Bearer abcd", token: "abc"))
        #expect(!ManagementResponder.authorizes(nil, token: "abc"))
        #expect(!ManagementResponder.authorizes("", token: "abc"))
    }

    // MARK: Optional settings

    @Test func emptyOptionalSettingsAreUnset() {
        let environment = ["GATEWAY_ADMIN_TOKEN": "", "GATEWAY_DOMAIN": "s3.example", "GATEWAY_CREDENTIALS_FILE": ""]
        #expect(GatewayCommand.setting(nil, "GATEWAY_ADMIN_TOKEN", environment: environment) == nil)
        #expect(GatewayCommand.setting(nil, "GATEWAY_CREDENTIALS_FILE", environment: environment) == nil)
        #expect(GatewayCommand.setting(nil, "GATEWAY_ACCESS_KEY", environment: environment) == nil)
        #expect(GatewayCommand.setting(nil, "GATEWAY_DOMAIN", environment: environment) == "s3.example")
        #expect(GatewayCommand.setting("", "GATEWAY_DOMAIN", environment: environment) == nil)
        #expect(GatewayCommand.setting("flag.example", "GATEWAY_DOMAIN", environment: environment) == "flag.example")
    }

    @Test func emptyKeysAreUnsetAndHalfAPrincipalIsRefused() throws {
        var configuration = GatewayConfiguration()
        configuration.accessKey = ""
        configuration.secretKey = ""
        configuration.credentialsFile = ""
        let fallback = try CredentialStore.load(configuration) { _ in Issue.record("no file to read"); return "" }
        #expect(fallback.usesDefault)
        #expect(fallback.principal(CredentialStore.defaultAccessKey) != nil)
        #expect(fallback.principal("") == nil)

        configuration.accessKey = "only-the-access-key"
        #expect(throws: BackendsConfigError.self) { try CredentialStore.load(configuration) { _ in "" } }
        configuration.accessKey = nil
        configuration.secretKey = "only-the-secret"
        #expect(throws: BackendsConfigError.self) { try CredentialStore.load(configuration) { _ in "" } }
        configuration.accessKey = "ak"
        let pair = try CredentialStore.load(configuration) { _ in "" }
        #expect(!pair.usesDefault)
        #expect(pair.principal("ak")?.secretKey == "only-the-secret")
    }

    /// An empty GATEWAY_DOMAIN does not turn a Host ending in a dot into a bucket name.
    @Test func anEmptyDomainIsNoDomain() throws {
        let head = HTTPRequest(method: .put, scheme: "http", authority: "docs.", path: "/")
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        let call = try S3Call.parse(request, prefix: "", domain: "")
        #expect(call.bucket == nil)
        #expect(try S3Call.parse(request, prefix: "", domain: nil).bucket == nil)
    }

    // MARK: Physical bucket

    @Test func bucketConfigNamesThePhysicalBucketAndItsZones() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            let reply = try await Self.call(client, .get, "/bucket-config")
            #expect(reply.status == .ok)
            #expect(reply.object["physical_bucket"] as? String == "2025-datatransfer")
            #expect(reply.object["key_layout"] as? String == "<logical-bucket>/<key>.<storage-id>")
            #expect(reply.object["zones"] as? [String] == TestGateway.zones.sorted())
            let buckets = try #require(reply.object["zone_buckets"] as? [String: String])
            #expect(buckets == Dictionary(uniqueKeysWithValues: TestGateway.zones.map { ($0, "2025-datatransfer") }))
            #expect(reply.object["policy_set_hash"] as? String == gw.state.policies.policySetHash)
        }
    }

    @Test func initializeBucketCreatesThePhysicalBucketInEveryZoneAndCanBeRepeated() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let bucketFolders = TestGateway.zones.map { gw.directory + "/zones/" + $0 + "/2025-datatransfer" }
        // Start-up created them; remove them to see the endpoint create them.
        for folder in bucketFolders { try FileManager.default.removeItem(atPath: folder) }
        try await gw.withManagementClient { client in
            let first = try await Self.call(client, .post, "/initialize-bucket")
            #expect(first.status == .ok)
            #expect(first.object["bucket"] as? String == "2025-datatransfer")
            #expect(first.object["zones"] as? [String: String] == Dictionary(uniqueKeysWithValues: TestGateway.zones.map { ($0, "created") }))
            #expect(first.object["failed"] as? [String] == [])
            for folder in bucketFolders {
                var isDirectory: ObjCBool = false
                #expect(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue, "\(folder)")
            }
        }
        // An object written now survives a second initialisation.
        let body = Array("kept".utf8)
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            #expect(try await gw.put(client, "/docs/a.txt", body).status == .ok)
        }
        let stored = TestGateway.zones.flatMap { gw.files(in: $0) }
        #expect(!stored.isEmpty)
        try await gw.withManagementClient { client in
            let second = try await Self.call(client, .post, "/initialize-bucket")
            #expect(second.status == .ok)
            #expect(second.object["zones"] as? [String: String] == Dictionary(uniqueKeysWithValues: TestGateway.zones.map { ($0, "created") }))
        }
        #expect(TestGateway.zones.flatMap { gw.files(in: $0) } == stored)
        try await gw.withClient { client in
            let get = try await gw.send(client, .get, "/docs/a.txt")
            #expect(get.bytes == body)
        }
    }

    /// A zone whose S3 endpoint does not answer: the other zones get their bucket, the answer
    /// (503, so that `curl -f` fails) names the zone that did not.
    @Test func initializeBucketSaysWhichZoneIsDown() async throws {
        let made = try await TestGateway.make()
        defer { made.cleanUp() }
        var down = try S3Backend(zone: "FI-HEL-HZ-1", endpoint: "http://127.0.0.1:\(try await Self.closedPort())",
                                 bucket: "2025-datatransfer", region: "us-east-1", accessKey: "k", secretKey: "s",
                                 client: Moto.client)
        down.attempts = 1
        let gw = made.replacing(["FI-HEL-HZ-1": down])
        try await gw.withManagementClient { client in
            let reply = try await Self.call(client, .post, "/initialize-bucket")
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.object["failed"] as? [String] == ["FI-HEL-HZ-1"])
            let zones = try #require(reply.object["zones"] as? [String: String])
            #expect(zones["FI-HEL-ST-1"] == "created")
            #expect(zones["FI-HEL-UC-1"] == "created")
            #expect(zones["FI-HEL-HZ-1"]?.hasPrefix("failed: ") == true, "\(zones)")
            #expect(zones["FI-HEL-HZ-1"]?.contains("FI-HEL-HZ-1") == true, "\(zones)")
        }
    }

    /// A loopback port that nothing listens on (bound, then closed).
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}
