import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import NIOHTTP1
import NIOPosix
import PolicyEngine
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// What `/metrics` tells an operator beyond request counts: refusals, writes short of their
/// copies, the replication queue, breakers, the policy set in force, and each S3 backend's
/// requests.
@Suite("Operational metrics")
struct OperationalMetricsTests {
    /// The lines of `/metrics` whose series name is `name`.
    static func series(_ text: String, _ name: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
    }

    func scrape(_ gw: TestGateway) async throws -> String {
        let text = Mutex("")
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                text.withLock { $0 = r.body.text }
            }
        }
        return text.withLock { $0 }
    }

    /// Classified objects in Finland; two copies, acknowledged after one.
    static func writeTwoCopiesQuorumOne(_ dir: String) throws {
        try PolicyReloadTests.writePolicies(dir, residency: "match: { tags: { classification: \"*\" } }\nallow: { countries: [FI] }",
                                            name: "finland", replication: "copies: 2\nwriteQuorum: 1", replicationName: "two-copies")
    }

    @Test func refusalsShortWritesTheQueueBreakersAndThePolicySetAreExposed() async throws {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try Self.writeTwoCopiesQuorumOne(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/docs", method: .put, headers: gw.signed("PUT", "/docs")) { _ in }
            // Untagged: no residency policy matches, twice.
            for key in ["a", "b"] {
                try await client.execute(uri: "/docs/\(key)", method: .put, headers: gw.signed("PUT", "/docs/\(key)", body: [1]),
                                         body: ByteBuffer(bytes: [1])) { r in
                    #expect(r.status == .forbidden)
                }
            }
            // Two zones down: one copy is written and acknowledged, the other is left to a sync job.
            gw.state.setHealth("FI-HEL-UC-1", false)
            gw.state.setHealth("FI-HEL-HZ-1", false)
            let headers = [("x-amz-tagging", "classification=internal")]
            var signed = gw.signed("PUT", "/docs/c", body: [2], headers: headers)
            signed[HTTPField.Name("x-amz-tagging")!] = "classification=internal"
            try await client.execute(uri: "/docs/c", method: .put, headers: signed, body: ByteBuffer(bytes: [2])) { r in
                #expect(r.status == .ok, "\(r.body.text)")
            }
        }
        let monitor = LateJobMonitor(store: gw.store, registry: gw.state.metricsRegistry, logger: gw.state.logger,
                                     metrics: gw.state.metrics)
        try await monitor.check()

        let text = try await scrape(gw)
        #expect(Self.series(text, "gateway_policy_refusals_total") == [#"gateway_policy_refusals_total{operation="PutObject"} 2"#])
        #expect(Self.series(text, "gateway_writes_below_planned_copies_total") == ["gateway_writes_below_planned_copies_total 1"])
        #expect(Self.series(text, "gateway_replication_jobs").contains(#"gateway_replication_jobs{status="queued"} 1.0"#), "\(text)")
        #expect(Self.series(text, "gateway_replication_jobs").contains(#"gateway_replication_jobs{status="failed"} 0.0"#))
        let breakers = Set(Self.series(text, "gateway_backend_circuit_state"))
        #expect(breakers == [
            #"gateway_backend_circuit_state{zone="FI-HEL-ST-1"} 0.0"#,
            #"gateway_backend_circuit_state{zone="FI-HEL-UC-1"} 2.0"#,
            #"gateway_backend_circuit_state{zone="FI-HEL-HZ-1"} 2.0"#,
        ])
        let hash = gw.state.policyStore.current.hash
        #expect(Self.series(text, "gateway_policy_set_info") == [#"gateway_policy_set_info{hash="\#(hash)"} 1.0"#])
        #expect(Self.series(text, "gateway_metadata_unavailable_total") == ["gateway_metadata_unavailable_total 0"])

        // A breaker that closes, and a reload to another set, show at the next scrape; the old
        // set's series is gone.
        gw.state.setHealth("FI-HEL-UC-1", true)
        try PolicyReloadTests.writePolicies(dir, zone: "FI-HEL-ST-1")
        _ = await gw.state.reloadPolicies(trigger: "test")
        let newHash = gw.state.policyStore.current.hash
        #expect(newHash != hash)
        let again = try await scrape(gw)
        #expect(Self.series(again, "gateway_policy_set_info") == [#"gateway_policy_set_info{hash="\#(newHash)"} 1.0"#])
        #expect(Self.series(again, "gateway_backend_circuit_state").contains(#"gateway_backend_circuit_state{zone="FI-HEL-UC-1"} 0.0"#))
    }

    @Test func refusalsAreCountedPerOperation() {
        let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry())
        metrics.recordRefusal(operation: "PutObjectRetention")
        metrics.recordRefusal(operation: "PutObjectTagging")
        metrics.recordRefusal(operation: "PutObjectTagging")
        let text = metrics.registry.emitToString()
        #expect(Set(Self.series(text, "gateway_policy_refusals_total")) == [
            #"gateway_policy_refusals_total{operation="PutObjectRetention"} 1"#,
            #"gateway_policy_refusals_total{operation="PutObjectTagging"} 2"#,
        ])
    }

    /// An S3 backend counts each request by method and outcome, and times it; a request that
    /// gets no answer is an `error`.
    @Test func backendRequestsAreCountedAndTimedPerZone() async throws {
        let registry = PrometheusCollectorRegistry()
        let server = RecordingS3()
        let app = Application(responder: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var backend = try S3Backend(zone: "FI-HEL-ST-1", endpoint: "http://127.0.0.1:\(port)", bucket: "2025-datatransfer",
                                        region: "us-east-1", accessKey: "AKID", secretKey: "secret", client: Moto.client)
            backend.metrics = BackendRequestMetrics(zone: "FI-HEL-ST-1", registry: registry)
            try await backend.initialize(objectLock: false)
            try await backend.initialize(objectLock: false)
        }
        // Nothing listens there any more.
        let closedPort = try await ManagementAPITests.closedPort()
        var gone = try S3Backend(zone: "FI-HEL-UC-1", endpoint: "http://127.0.0.1:\(closedPort)", bucket: "2025-datatransfer",
                                 region: "us-east-1", accessKey: "AKID", secretKey: "secret", client: Moto.client)
        gone.attempts = 1
        gone.metrics = BackendRequestMetrics(zone: "FI-HEL-UC-1", registry: registry)
        await #expect(throws: BackendError.self) { try await gone.initialize(objectLock: false) }

        let text = registry.emitToString()
        #expect(Set(Self.series(text, "gateway_backend_requests_total")) == [
            #"gateway_backend_requests_total{zone="FI-HEL-ST-1",method="PUT",outcome="2xx"} 2"#,
            #"gateway_backend_requests_total{zone="FI-HEL-UC-1",method="PUT",outcome="error"} 1"#,
        ])
        #expect(Self.series(text, "gateway_backend_request_duration_seconds_count")
            .contains(#"gateway_backend_request_duration_seconds_count{zone="FI-HEL-ST-1",method="PUT"} 2"#), "\(text)")
    }

    /// `config/prometheus-alerts.yaml` is well-formed, every rule has an expression and a
    /// severity, and every metric its expressions name is one the gateway exports.
    @Test func theAlertRulesNameMetricsTheGatewayExports() async throws {
        let path = TestGateway.root + "/config/prometheus-alerts.yaml"
        let loaded = YAMLLoader().load(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        guard case .mapping(let root)? = loaded.documents.first?.root, case .sequence(let groups)? = root["groups"] else {
            Issue.record("no groups")
            return
        }
        var expressions: [String: String] = [:]
        for case .mapping(let group) in groups.items {
            guard case .sequence(let rules)? = group["rules"] else { continue }
            for case .mapping(let rule) in rules.items {
                guard case .scalar(let alert)? = rule["alert"], case .scalar(let expr)? = rule["expr"] else {
                    Issue.record("a rule without alert or expr at \(rule.location)")
                    continue
                }
                guard case .mapping(let labels)? = rule["labels"], case .scalar(let severity)? = labels["severity"] else {
                    Issue.record("\(alert.value) has no severity")
                    continue
                }
                #expect(["critical", "warning", "info"].contains(severity.value))
                expressions[alert.value] = expr.value
            }
        }
        #expect(expressions.count >= 10)

        // What a gateway exports once each metric has been touched.
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        gw.state.metrics.recordRefusal(operation: "PutObject")
        try await LateJobMonitor(store: gw.store, registry: gw.state.metricsRegistry, logger: gw.state.logger,
                                 metrics: gw.state.metrics).check()
        let backendMetrics = BackendRequestMetrics(zone: "FI-HEL-ST-1", registry: gw.state.metricsRegistry)
        backendMetrics.record(method: .GET, status: 200, duration: .milliseconds(1))
        backendMetrics.recordThrottled()
        _ = try await ReplicaVerifier(state: gw.state, rate: 0).verifyOnce()
        gw.state.metrics.recordReplicaLost(zone: "FI-HEL-ST-1")
        gw.state.metrics.recordLogChainCheck(intact: true)
        gw.state.metrics.recordZoneLeftBehind(zone: "FI-HEL-ST-1")
        let text = try await scrape(gw)
        var exported: Set<String> = [S3RequestMetrics.requestsName, S3RequestMetrics.durationName]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            exported.insert(String(line.split(separator: " ")[2]))
        }
        let histogramSuffixes = ["_bucket", "_count", "_sum"]
        for (alert, expr) in expressions {
            for match in expr.matches(of: /gateway_[a-z0-9_]+/) {
                var name = String(match.output)
                if !exported.contains(name), let suffix = histogramSuffixes.first(where: { name.hasSuffix($0) }) {
                    name = String(name.dropLast(suffix.count))
                }
                #expect(exported.contains(name), "\(alert) names \(name), which the gateway does not export")
            }
        }
    }
}
