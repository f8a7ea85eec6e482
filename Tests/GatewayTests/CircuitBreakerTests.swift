import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metadata
import NIOCore
import Synchronization
import Testing

@testable import Gateway

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    @Test func consecutiveFailuresOpenThenATrialCloses() {
        var b = CircuitBreaker(configuration: .init(failureThreshold: 3, openDuration: 10))
        let first = b.allowsRequest(now: t0)
        #expect(first && b.state == .closed)
        b.recordFailure(now: t0)
        b.recordFailure(now: t0)
        b.recordSuccess()
        b.recordFailure(now: t0)
        b.recordFailure(now: t0)
        // A success in between resets the count: two failures in a row do not open it.
        #expect(b.state == .closed && b.consecutiveFailures == 2)
        b.recordFailure(now: t0)
        #expect(b.state == .open && b.consecutiveFailures == 3)
        let early = b.allowsRequest(now: t0.addingTimeInterval(9))
        #expect(!early)
        // After openDuration one trial goes through; its failure opens it again.
        let trial = b.allowsRequest(now: t0.addingTimeInterval(10))
        #expect(trial && b.state == .halfOpen)
        b.recordFailure(now: t0.addingTimeInterval(10))
        #expect(b.state == .open)
        let refused = b.allowsRequest(now: t0.addingTimeInterval(19))
        let second = b.allowsRequest(now: t0.addingTimeInterval(20))
        #expect(!refused && second && b.state == .halfOpen)
        b.recordSuccess()
        #expect(b.state == .closed && b.consecutiveFailures == 0)
    }

    @Test func probesOpenUntilTheZoneAnswers() {
        var b = CircuitBreaker(configuration: .init(failureThreshold: 3, openDuration: 10))
        b.recordProbeFailure()
        #expect(b.state == .open)
        // A zone that does not answer probes stays open however long it waits.
        let waited = b.allowsRequest(now: t0.addingTimeInterval(3600))
        #expect(!waited)
        b.recordProbeSuccess()
        let afterProbe = b.allowsRequest(now: t0)
        #expect(b.state == .halfOpen && afterProbe)
        b.recordSuccess()
        #expect(b.state == .closed)
        // A probe success does not hide failing requests.
        b.recordFailure(now: t0)
        b.recordProbeSuccess()
        #expect(b.consecutiveFailures == 1)
        b.trip()
        let tripped = b.allowsRequest(now: t0.addingTimeInterval(3600))
        #expect(b.state == .open && !tripped)
    }

    @Test func onlyBackendFailuresCount() {
        let health = BackendHealth(zones: ["Z"], configuration: .init(failureThreshold: 1, openDuration: 10), logger: Logger(label: "test"))
        health.recordFailure("Z", BackendError(code: .notFound, message: "missing"))
        health.recordFailure("Z", BackendError(code: .alreadyExists, message: "exists"))
        health.recordFailure("Z", CancellationError())
        #expect(health.isAvailable("Z"))
        health.recordFailure("Z", BackendError(code: .io, message: "disk full"))
        #expect(!health.isAvailable("Z"))
        #expect(health.snapshot["Z"] == BackendHealth.Snapshot(state: .open, consecutiveFailures: 1))
        #expect(!health.isAvailable("unknown zone"))
    }

    @Test func writesSkipAFailingZoneForTheNextCandidateAndTheBreakerOpens() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/skip.txt"
        let planned = gw.planned("data", key)
        #expect(planned == ["FI-HEL-ST-1", "FI-HEL-UC-1"])
        let flaky = FlakyBackend(gw.state.backends["FI-HEL-ST-1"]!)
        flaky.set(failWrites: true)
        let degraded = gw.replacing(["FI-HEL-ST-1": flaky])
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "data")
            for i in 0..<3 {
                let body = Array("attempt \(i)".utf8)
                #expect(try await degraded.put(client, "/data/\(key)", body).status == .ok)
                let r = try await degraded.get(client, "/data/\(key)")
                #expect(Array(r.body.readableBytesView) == body)
                // Both copies exist, the failed zone replaced by the next candidate of the plan.
                #expect(r.header("x-gateway-replicas") == "FI-HEL-UC-1=COMPLETED,FI-HEL-HZ-1=COMPLETED")
                #expect(r.header("x-amz-replication-status") == "COMPLETED")
            }
        }
        #expect(flaky.writesStarted == 3)
        #expect(gw.files(in: "FI-HEL-ST-1").isEmpty)
        #expect(gw.files(in: "FI-HEL-UC-1").count == 3 && gw.files(in: "FI-HEL-HZ-1").count == 3)
        #expect(degraded.state.health.snapshot["FI-HEL-ST-1"] == BackendHealth.Snapshot(state: .open, consecutiveFailures: 3))
        try await degraded.withClient { client in
            let r = try await degraded.put(client, "/data/\(key)", Array("open".utf8))
            #expect(r.status == .ok)
        }
        // Open: the zone was not even tried.
        #expect(flaky.writesStarted == 3)
        try await degraded.withManagementClient { client in
            try await client.execute(uri: "/backends", method: .get) { r in
                let text = r.body.text
                #expect(text.contains("\"circuit_breaker\": \"open\""), "\(text)")
                #expect(text.contains("\"consecutive_failures\": 3"), "\(text)")
            }
        }
        // The zone answers probes again: half-open, and the next write that reaches it closes it.
        flaky.set(failWrites: false)
        await HealthProber(state: degraded.state).probeOnce()
        #expect(degraded.state.health.snapshot["FI-HEL-ST-1"]?.state == .halfOpen)
        try await degraded.withClient { client in
            #expect(try await degraded.put(client, "/data/\(key)", Array("back".utf8)).status == .ok)
            let r = try await degraded.get(client, "/data/\(key)", method: .head)
            #expect(r.header("x-gateway-replicas") == "FI-HEL-ST-1=COMPLETED,FI-HEL-UC-1=COMPLETED")
        }
        #expect(degraded.state.health.snapshot["FI-HEL-ST-1"] == BackendHealth.Snapshot(state: .closed, consecutiveFailures: 0))
        try await degraded.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.body.text.contains("\"circuitBreakers\""))
                #expect(!r.body.text.contains("\"open\""))
            }
        }
    }

    /// The prober waits for start-up, which creates the zones' buckets: a probe before that
    /// finds no bucket and would open every breaker of a new deployment for a moment. `/health`
    /// probes then too, but does not record what it finds.
    @Test func noProbeBeforeStartUpCounts() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let probed = FlakyBackend(gw.state.backends["FI-HEL-ST-1"]!)
        let starting = gw.replacing(["FI-HEL-ST-1": probed], started: false)
        probed.set(failProbes: true)
        try await starting.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.body.text.contains("\"starting\""), "\(r.body.text)")
            }
        }
        #expect(starting.state.health.snapshot["FI-HEL-ST-1"]?.state == .closed, "a probe before start-up was recorded")
        #expect(probed.probes == 1)
        probed.set(failProbes: false)
        let probesBefore = probed.probes
        let prober = Task { try await HealthProber(state: starting.state, interval: .milliseconds(10)).run() }
        defer { prober.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(probed.probes == probesBefore, "the prober probed before start-up")
        starting.state.startup.open()
        for _ in 0..<1000 where probed.probes == probesBefore { try await Task.sleep(for: .milliseconds(10)) }
        #expect(probed.probes > probesBefore)
        #expect(starting.state.health.snapshot["FI-HEL-ST-1"]?.state == .closed)
        // Once started, a failed probe of `/health` counts.
        prober.cancel()
        try await prober.value
        probed.set(failProbes: true)
        try await starting.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { _ in }
        }
        #expect(starting.state.health.snapshot["FI-HEL-ST-1"]?.state == .open)
    }

    /// Each zone is probed on its own schedule: one whose probe takes long (a provider that
    /// stopped answering waits for the probe's timeout) does not hold up the others'.
    @Test func aZoneThatDoesNotAnswerDoesNotHoldUpTheOthersProbes() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        var probed: [String: FlakyBackend] = [:]
        for zone in TestGateway.zones { probed[zone] = FlakyBackend(gw.state.backends[zone]!) }
        probed["FI-HEL-ST-1"]!.probeDelay.withLock { $0 = .seconds(5) }
        let prober = gw.replacing(probed)
        let running = Task { try await HealthProber(state: prober.state, interval: .milliseconds(10)).run() }
        for _ in 0..<200 where probed["FI-HEL-UC-1"]!.probes < 5 || probed["FI-HEL-HZ-1"]!.probes < 5 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(probed["FI-HEL-ST-1"]!.probes == 1)
        #expect(probed["FI-HEL-UC-1"]!.probes >= 5 && probed["FI-HEL-HZ-1"]!.probes >= 5,
                "\(probed.mapValues(\.probes))")
        running.cancel()
        try await running.value
    }

    /// `/health` probes the zones together: three zones that each take a while to answer cost
    /// that while once, not three times (a load balancer's health check would give up first).
    /// Each probe answers only once all three are in flight (or after 20 s, when they are not):
    /// probes one after the other would never all be.
    @Test func healthProbesTheZonesTogether() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let inFlight = Mutex((now: 0, most: 0))
        let gate: @Sendable () async -> Void = {
            inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            for _ in 0..<2000 where inFlight.withLock({ $0.most }) < TestGateway.zones.count {
                try? await Task.sleep(for: .milliseconds(10))
            }
            inFlight.withLock { $0.now -= 1 }
        }
        var slow: [String: any ObjectBackend] = [:]
        for zone in TestGateway.zones {
            let backend = FlakyBackend(gw.state.backends[zone]!)
            backend.probeGate.withLock { $0 = gate }
            slow[zone] = backend
        }
        let degraded = gw.replacing(slow)
        try await degraded.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .ok)
                for zone in TestGateway.zones { #expect(r.body.text.contains("\"\(zone)\": \"ok\""), "\(r.body.text)") }
            }
        }
        #expect(inFlight.withLock { $0.most } == TestGateway.zones.count, "the zones' probes were not all in flight at once")
    }

    @Test func writeFailsWithoutQuorumWhenTheOnlyEligibleZonesFail() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        // Personal data: two Finnish providers, quorum 2; with two zones failing only one is left.
        let st = FlakyBackend(gw.state.backends["FI-HEL-ST-1"]!)
        let uc = FlakyBackend(gw.state.backends["FI-HEL-UC-1"]!)
        st.set(failWrites: true)
        uc.set(failWrites: true)
        let degraded = gw.replacing(["FI-HEL-ST-1": st, "FI-HEL-UC-1": uc])
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "hr-data")
            let r = try await degraded.put(client, "/hr-data/personal/x.txt", Array("x".utf8))
            #expect(r.status == .serviceUnavailable)
            #expect(r.errorCode == "ServiceUnavailable")
        }
        for zone in TestGateway.zones { #expect(gw.files(in: zone).isEmpty) }
        #expect(try await gw.store.latestVersion(bucket: "hr-data", key: "personal/x.txt") == nil)
        #expect(try await gw.store.staleIntents(olderThan: Date().addingTimeInterval(1), limit: 10).isEmpty)
    }
}
