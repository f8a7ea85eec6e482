import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import PolicyEngine
import Testing

@testable import Gateway

/// Reloading the policies of a running gateway: new writes follow the new set, a broken set
/// is refused and the one in force stays (fail closed).
@Suite("Policy reload, router level")
struct PolicyReloadTests {
    /// A policy directory in the test's temporary folder: every object in Finland, one copy,
    /// only in `zone`, versioned.
    static func writePolicies(_ dir: String, zone: String) throws {
        try writePolicies(dir, residency: "match: {}\nallow: { countries: [FI], zones: [\(zone)] }", name: "single-zone")
    }

    /// A policy directory with one residency policy (`residency`: its spec, one line each) and
    /// one replication policy for every object (`replication`: its spec after `match: {}`; by
    /// default one copy, versioned, named `one-copy`).
    static func writePolicies(_ dir: String, residency: String, name: String,
                              replication: String = "copies: 1\nversioning: enabled", replicationName: String = "one-copy") throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func indented(_ text: String) -> String { text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") }
        try """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata: { name: \(name) }
        spec:
        \(indented(residency))
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata: { name: \(replicationName) }
        spec:
          match: {}
        \(indented(replication))
        """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    }

    static func makeGateway(zone: String = "FI-HEL-ST-1",
                            configure: (inout GatewayConfiguration) -> Void = { _ in }) async throws -> (TestGateway, String) {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try writePolicies(dir, zone: zone)
        let gw = try await TestGateway.make(policies: dir, configure: configure)
        return (gw, dir)
    }

    struct JSONReply {
        var status: HTTPResponse.Status
        var object: [String: Any]

        var diagnostics: [[String: Any]] { object["diagnostics"] as? [[String: Any]] ?? [] }
    }

    /// A management API call, its JSON body decoded.
    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String,
                     token: String? = nil) async throws -> JSONReply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let (status, data) = try await client.execute(uri: path, method: method, headers: headers) { r in
            (r.status, Data(r.body.readableBytesView))
        }
        return JSONReply(status: status, object: try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
    }

    /// Whether the zone's folder holds a copy of `bucket/key`.
    static func holds(_ gw: TestGateway, _ zone: String, _ bucket: String, _ key: String) -> Bool {
        gw.files(in: zone).contains { $0.hasPrefix(WriteIntent.backendKey(bucket: bucket, key: key, storageId: "")) }
    }

    @Test func newWritesFollowTheReloadedSetAndOldVersionsKeepTheirHash() async throws {
        let (gw, dir) = try await Self.makeGateway(zone: "FI-HEL-ST-1")
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let oldHash = gw.state.policies.policySetHash
        try await gw.withClient { client in try await gw.withManagementClient { admin in
            #expect(try await gw.send(client, .put, "/data").status == .ok)
            let put = try await gw.send(client, .put, "/data/a.txt", body: Array("one".utf8))
            #expect(put.status == .ok)
            let firstVersion = try #require(put.headers[HTTPField.Name("x-amz-version-id")!])
            #expect(Self.holds(gw, "FI-HEL-ST-1", "data", "a.txt"))
            #expect(!Self.holds(gw, "FI-HEL-HZ-1", "data", "a.txt"))

            try Self.writePolicies(dir, zone: "FI-HEL-HZ-1")
            let reload = try await Self.call(admin, .post, "/api/policies/reload")
            #expect(reload.status == .ok)
            #expect(reload.object["reloaded"] as? Bool == true)
            #expect(reload.object["previousHash"] as? String == oldHash)
            let newHash = try #require(reload.object["policySetHash"] as? String)
            #expect(newHash != oldHash)
            #expect(gw.state.policies.policySetHash == newHash)
            #expect(reload.diagnostics.allSatisfy { $0["severity"] as? String != "error" })

            #expect(try await gw.send(client, .put, "/data/b.txt", body: Array("two".utf8)).status == .ok)
            #expect(try await gw.send(client, .put, "/data/a.txt", body: Array("one, again".utf8)).status == .ok)
            // The version written before the reload is still read from where it was placed.
            let old = try await gw.send(client, .get, "/data/a.txt?versionId=\(firstVersion)")
            #expect(old.status == .ok)
            #expect(old.body == "one")
            #expect(Self.holds(gw, "FI-HEL-HZ-1", "data", "b.txt"))
            #expect(!Self.holds(gw, "FI-HEL-ST-1", "data", "b.txt"))
            // a.txt: the first version stays in Spacetime, the new one goes to Hetzner.
            #expect(gw.files(in: "FI-HEL-ST-1").filter { $0.hasPrefix(WriteIntent.backendKey(bucket: "data", key: "a.txt", storageId: "")) }.count == 1)
            #expect(gw.files(in: "FI-HEL-HZ-1").filter { $0.hasPrefix(WriteIntent.backendKey(bucket: "data", key: "a.txt", storageId: "")) }.count == 1)

            let first = try #require(try await gw.store.version(bucket: "data", key: "a.txt", versionId: firstVersion))
            #expect(first.placement.policySetHash == oldHash)
            #expect(first.placement.plannedZones == ["FI-HEL-ST-1"])
            let latest = try #require(try await gw.store.latestVersion(bucket: "data", key: "a.txt"))
            #expect(latest.versionId != firstVersion)
            #expect(latest.placement.policySetHash == newHash)
            #expect(latest.placement.plannedZones == ["FI-HEL-HZ-1"])
            #expect(try await gw.store.latestVersion(bucket: "data", key: "b.txt")?.placement.policySetHash == newHash)
            // Both sets are recorded in the metadata store, as at start-up.
            let recorded = Set(try await gw.store.listPolicySets().map(\.hash))
            #expect(recorded.isSuperset(of: [oldHash, newHash]))

            let current = try await Self.call(admin, .get, "/api/policies")
            #expect(current.status == .ok)
            #expect(current.object["policySetHash"] as? String == newHash)
            #expect(current.object["residencyPolicies"] as? [String] == ["single-zone"])
            #expect(current.object["replicationPolicies"] as? [String] == ["one-copy"])
            #expect((current.object["counts"] as? [String: Any])?["residencyPolicies"] as? Int == 1)
            #expect(current.object["loadedAt"] is String)
        } }
    }

    @Test func aBrokenSetIsRefusedAndTheOldOneStaysInForce() async throws {
        let (gw, dir) = try await Self.makeGateway(zone: "FI-HEL-ST-1")
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let oldHash = gw.state.policies.policySetHash
        try await gw.withClient { client in try await gw.withManagementClient { admin in
            // A typo (keyprefixes) on line 5.
            try """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata: { name: single-zone }
            spec:
              match: { keyprefixes: ["a/"] }
              allow: { countries: [FI], zones: [FI-HEL-HZ-1] }
            """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
            let reload = try await Self.call(admin, .post, "/api/policies/reload")
            #expect(reload.status == .unprocessableContent)
            #expect(reload.object["reloaded"] as? Bool == false)
            #expect(reload.object["policySetHash"] as? String == oldHash)
            #expect(reload.object["previousHash"] as? String == oldHash)
            let error = try #require(reload.diagnostics.first { $0["code"] as? String == "unknown-field" })
            #expect(error["severity"] as? String == "error")
            #expect(error["location"] as? String == dir + "/p.yaml:5:12", "\(error)")
            #expect((error["message"] as? String)?.contains("keyprefixes") == true)
            #expect(gw.state.policies.policySetHash == oldHash)

            // An emptied directory is refused too: never an empty set.
            try FileManager.default.removeItem(atPath: dir + "/p.yaml")
            let empty = try await Self.call(admin, .post, "/api/policies/reload")
            #expect(empty.status == .unprocessableContent)
            #expect(empty.diagnostics.contains { $0["code"] as? String == "no-residency-policy" })
            #expect(gw.state.policies.policySetHash == oldHash)

            // Writes are still placed by the set in force.
            #expect(try await gw.send(client, .put, "/data").status == .ok)
            #expect(try await gw.send(client, .put, "/data/c.txt", body: Array("three".utf8)).status == .ok)
            #expect(Self.holds(gw, "FI-HEL-ST-1", "data", "c.txt"))
            #expect(!Self.holds(gw, "FI-HEL-HZ-1", "data", "c.txt"))
            #expect(try await gw.store.latestVersion(bucket: "data", key: "c.txt")?.placement.policySetHash == oldHash)

            let metrics = try await admin.execute(uri: "/metrics", method: .get) { $0.body.text }
            #expect(metrics.contains(#"gateway_policy_reloads_total{result="refused"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"gateway_policy_reloads_total{result="applied"} 0"#), "\(metrics)")
        } }
    }

    @Test func reloadNeedsTheAdminToken() async throws {
        let (gw, dir) = try await Self.makeGateway { $0.adminToken = "let-me-in" }
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let oldHash = gw.state.policies.policySetHash
        try Self.writePolicies(dir, zone: "FI-HEL-HZ-1")
        try await gw.withManagementClient { admin in
            #expect(try await Self.call(admin, .post, "/api/policies/reload").status == .unauthorized)
            #expect(try await Self.call(admin, .post, "/api/policies/reload", token: "wrong").status == .unauthorized)
            #expect(try await Self.call(admin, .get, "/api/policies").status == .unauthorized)
            #expect(gw.state.policies.policySetHash == oldHash)
            let reload = try await Self.call(admin, .post, "/api/policies/reload", token: "let-me-in")
            #expect(reload.status == .ok)
            #expect(gw.state.policies.policySetHash != oldHash)
            let current = try await Self.call(admin, .get, "/api/policies", token: "let-me-in")
            #expect(current.object["policySetHash"] as? String == gw.state.policies.policySetHash)
        }
    }

    @Test func sighupReloads() async throws {
        let (gw, dir) = try await Self.makeGateway(zone: "FI-HEL-ST-1")
        defer { gw.cleanUp(); try? FileManager.default.removeItem(atPath: dir) }
        let oldHash = gw.state.policies.policySetHash
        let (trapped, trappedContinuation) = AsyncStream.makeStream(of: Void.self)
        let service = Task {
            try await PolicyReloadService(state: gw.state, onTrapped: { trappedContinuation.finish() }).run()
        }
        defer { service.cancel() }
        // Only once the service traps SIGHUP: before, the signal would end the test process.
        for await _ in trapped {}
        try Self.writePolicies(dir, zone: "FI-HEL-HZ-1")
        kill(getpid(), SIGHUP)
        var waited = 0
        while gw.state.policies.policySetHash == oldHash, waited < 100 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        #expect(gw.state.policies.policySetHash != oldHash)
        #expect(gw.state.policies.plan(for: .init(bucket: "data", key: "x", tags: [:])).zones.map(\.code) == ["FI-HEL-HZ-1"])
    }
}
