import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
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
}
