import AsyncHTTPClient
import Foundation
import Metadata
import NIOHTTP1
import Prometheus
import Synchronization

/// The gateway's operational metrics beyond the S3 request counts (``S3RequestMetrics``): what
/// an operator alerts on. They live in the state's registry, so `/metrics` shows them whether or
/// not swift-metrics was bootstrapped (tests run many gateways in one process).
///
/// - `gateway_policy_refusals_total{operation}`: writes and retags refused by the policies
///   (403, nothing stored).
/// - `gateway_writes_below_planned_copies_total`: writes acknowledged with fewer copies than
///   planned (the write quorum was met; sync jobs make the rest).
/// - `gateway_writes_zones_left_behind_total{zone}`: zones a write went on without, after its
///   quorum had the bytes, because they took longer than the straggler grace.
/// - `gateway_metadata_unavailable_total`: S3 requests answered 503 because the metadata store
///   could not be reached.
/// - `gateway_replication_jobs{status}`: sync jobs queued, running and failed, as the
///   replication worker last counted them.
/// - `gateway_backend_circuit_state{zone}`: 0 closed, 1 half-open, 2 open; read when scraped.
/// - `gateway_policy_set_info{hash}`: 1 for the policy set in force; read when scraped, so
///   instances whose sets differ show different hashes.
/// - `gateway_verify_replicas_checked_total`, `gateway_verify_replicas_lost_total{zone}`,
///   `gateway_verify_versions_without_copy_total` and
///   `gateway_verify_last_pass_timestamp_seconds`: what ``ReplicaVerifier`` found.
/// - `gateway_drift_copies{state}`: copies outside the policies in force at the last
///   remediation pass (``DriftRemediator``), `outside` in all and of those `held` by Object
///   Lock and `unplaceable`; `gateway_remediation_copies_total{action}`: copies `queued` in
///   allowed zones and drifted copies `retired` by the passes.
///
/// - `gateway_log_sealed_entries`: the operations log's hash chain head (``LogSealer``);
///   `gateway_log_chain_intact`: what the last check of the whole chain found (``LogChainChecker``).
///
/// Backend requests are counted per zone by ``BackendRequestMetrics``.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let writesBelowPlannedCopies: Counter
    private let metadataUnavailable: Counter
    private let refusals: LabeledCounters
    private let jobs: (queued: Gauge, running: Gauge, failed: Gauge)
    private let breakers = Mutex<[String: Gauge]>([:])
    private let policySet = Mutex<(hash: String, gauge: Gauge)?>(nil)
    private let replicasVerified: Counter
    private let replicasLost: LabeledCounters
    private let versionsWithoutCopy: Counter
    private let drift: (outside: Gauge, held: Gauge, unplaceable: Gauge)
    private let logSealed: Gauge
    /// Made at the first check, so that no check yet is no series.
    private let logChainIntact = Mutex<Gauge?>(nil)
    private let remediated: LabeledCounters
    private let zonesLeftBehind: LabeledCounters
    private let readsResumed: LabeledCounters
    /// Made at the end of the first pass, so that no pass yet is no series (not the epoch).
    private let lastVerification = Mutex<Gauge?>(nil)

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        writesBelowPlannedCopies = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "writes", metricName: "below_planned_copies", unitName: "total",
            helpText: "Writes acknowledged with fewer copies than their plan (sync jobs make the rest)"))
        metadataUnavailable = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "metadata", metricName: "unavailable", unitName: "total",
            helpText: "S3 requests answered 503 because the metadata store was unavailable"))
        replicasVerified = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "verify", metricName: "replicas_checked", unitName: "total",
            helpText: "Replicas whose copy verification looked for in their zone"))
        versionsWithoutCopy = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "verify", metricName: "versions_without_copy", unitName: "total",
            helpText: "Versions that verification left with no complete copy in any zone"))
        refusals = LabeledCounters(registry: registry, label: "operation", descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "policy", metricName: "refusals", unitName: "total",
            helpText: "Writes and retags refused by the policies"))
        replicasLost = LabeledCounters(registry: registry, label: "zone", descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "verify", metricName: "replicas_lost", unitName: "total",
            helpText: "Replicas verification found missing or of another size in their zone"))
        logSealed = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "log", metricName: "sealed_entries", unitName: "",
            helpText: "Entries of the operations log in the hash chain (the head's sequence number)"))
        let driftDescriptor = MetricNameDescriptor(
            namespace: "gateway", subsystem: "drift", metricName: "copies", unitName: "",
            helpText: "Copies outside the policies in force at the last remediation pass (held: under Object Lock)")
        drift = (registry.makeGauge(descriptor: driftDescriptor, labels: [("state", "outside")]),
                 registry.makeGauge(descriptor: driftDescriptor, labels: [("state", "held")]),
                 registry.makeGauge(descriptor: driftDescriptor, labels: [("state", "unplaceable")]))
        remediated = LabeledCounters(registry: registry, label: "action", descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "remediation", metricName: "copies", unitName: "total",
            helpText: "Copies queued in allowed zones and drifted copies retired by remediation passes"))
        zonesLeftBehind = LabeledCounters(registry: registry, label: "zone", descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "writes", metricName: "zones_left_behind", unitName: "total",
            helpText: "Zones a write went on without once its quorum had its bytes and they took longer than the straggler grace"))
        readsResumed = LabeledCounters(registry: registry, label: "zone", descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "reads", metricName: "resumed", unitName: "total",
            helpText: "Reads that broke off part-way and went on from another replica, by the zone that took over"))
        let jobsDescriptor = MetricNameDescriptor(namespace: "gateway", subsystem: "replication", metricName: "jobs",
                                                  unitName: "", helpText: "Sync jobs by status")
        jobs = (registry.makeGauge(descriptor: jobsDescriptor, labels: [("status", "queued")]),
                registry.makeGauge(descriptor: jobsDescriptor, labels: [("status", "running")]),
                registry.makeGauge(descriptor: jobsDescriptor, labels: [("status", "failed")]))
    }

    /// Counts a write acknowledged with fewer copies than planned.
    func recordWriteBelowPlannedCopies() { writesBelowPlannedCopies.increment() }

    /// Counts a zone that a write left behind (``WriteCoordinator``): the replication worker makes its copy.
    func recordZoneLeftBehind(zone: String) { zonesLeftBehind.increment(zone) }

    /// Counts a read that broke off part-way and went on from `zone` (``ResumingRead``): another
    /// replica's, or the same one after the client paused its download.
    func recordReadResumed(zone: String) { readsResumed.increment(zone) }

    /// Counts an S3 request answered 503 because the metadata store was unavailable.
    func recordMetadataUnavailable() { metadataUnavailable.increment() }

    /// Counts a write or retag the policies refused.
    func recordRefusal(operation: String) { refusals.increment(operation) }

    func recordReplicaVerified() { replicasVerified.increment() }

    /// What a remediation pass found and did.
    func recordRemediation(_ report: DriftRemediation.Report) {
        drift.outside.set(Double(report.copiesOutside))
        drift.held.set(Double(report.copiesHeld))
        drift.unplaceable.set(Double(report.copiesUnplaceable))
        remediated.increment("queued", by: report.copiesQueued)
        remediated.increment("retired", by: report.copiesRetired)
    }

    func recordVersionWithoutCopy() { versionsWithoutCopy.increment() }

    func recordReplicaLost(zone: String) { replicasLost.increment(zone) }

    func recordVerificationPass(at date: Date) {
        gauge(lastVerification, MetricNameDescriptor(
            namespace: "gateway", subsystem: "verify", metricName: "last_pass", unitName: "timestamp_seconds",
            helpText: "When the last verification pass over every replica ended (Unix time)"))
            .set(date.timeIntervalSince1970)
    }

    /// The result of a check of the whole chain: 1 intact, 0 changed.
    func recordLogChainCheck(intact: Bool) {
        gauge(logChainIntact, MetricNameDescriptor(
            namespace: "gateway", subsystem: "log", metricName: "chain_intact", unitName: "",
            helpText: "1 when the last check of the operations log's hash chain found it intact, 0 when it was changed"))
            .set(Double(intact ? 1 : 0))
    }

    /// The gauge in `slot`, made at its first use: until something is recorded there is no
    /// series (an alert on its value or age does not fire on a new gateway).
    private func gauge(_ slot: borrowing Mutex<Gauge?>, _ descriptor: @autoclosure () -> MetricNameDescriptor) -> Gauge {
        slot.withLock { gauge in
            if let gauge { return gauge }
            let made = registry.makeGauge(descriptor: descriptor())
            gauge = made
            return made
        }
    }

    /// The chain's head after a sealing batch.
    func recordLogSealed(_ head: LogSeal) {
        logSealed.set(Double(head.sequence))
    }

    func recordJobCounts(_ counts: SyncJobCounts) {
        jobs.queued.set(Int64(counts.queued))
        jobs.running.set(Int64(counts.running))
        jobs.failed.set(Int64(counts.failed))
    }

    /// Sets the gauges that are read when `/metrics` is scraped: each zone's breaker and the
    /// hash of the policy set in force.
    func refresh(breakers snapshot: [String: BackendHealth.Snapshot], policySetHash: String) {
        breakers.withLock { gauges in
            for (zone, breaker) in snapshot {
                let gauge = gauges[zone] ?? registry.makeGauge(
                    descriptor: MetricNameDescriptor(namespace: "gateway", subsystem: "backend", metricName: "circuit",
                                                     unitName: "state",
                                                     helpText: "Circuit breaker of the zone: 0 closed, 1 half-open, 2 open"),
                    labels: [("zone", zone)])
                gauges[zone] = gauge
                gauge.set(Self.value(of: breaker.state))
            }
        }
        policySet.withLock { current in
            guard current?.hash != policySetHash else { return }
            if let old = current { registry.unregisterGauge(old.gauge) }
            let gauge = registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "gateway", subsystem: "policy", metricName: "set",
                                                 unitName: "info", helpText: "The policy set in force (its hash)"),
                labels: [("hash", policySetHash)])
            gauge.set(Int64(1))
            current = (policySetHash, gauge)
        }
    }

    static func value(of state: CircuitBreaker.State) -> Int64 {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}

/// A counter with one label, its series made the first time a value of the label is counted.
final class LabeledCounters: Sendable {
    let registry: PrometheusCollectorRegistry
    let label: String
    /// The descriptor's full name and help (the descriptor itself is not `Sendable`).
    let name: String
    let help: String
    private let counters = Mutex<[String: Counter]>([:])

    init(registry: PrometheusCollectorRegistry, label: String, descriptor: MetricNameDescriptor) {
        self.registry = registry
        self.label = label
        self.name = descriptor.name
        self.help = descriptor.helpText ?? ""
    }

    func increment(_ value: String, by amount: Int = 1) {
        let counter = counters.withLock { counters in
            if let counter = counters[value] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "", subsystem: "", metricName: name, unitName: "", helpText: help),
                labels: [(label, value)])
            counters[value] = counter
            return counter
        }
        counter.increment(by: Int64(amount))
    }
}

/// One S3 backend's requests: `gateway_backend_requests_total{zone,method,outcome}` (outcome
/// `2xx`…`5xx` by the status, or `error` when no response came: connection refused, reset,
/// timed out) and `gateway_backend_request_duration_seconds{zone,method}`, the time until the
/// response head (for a streamed GET, before its body; for a PUT, after the body was sent).
/// Handles are made once per method and outcome and kept.
final class BackendRequestMetrics: Sendable {
    let zone: String
    let registry: PrometheusCollectorRegistry
    private struct Key: Hashable {
        var method: String
        var outcome: String
    }
    private let counters = Mutex<[Key: Counter]>([:])
    private let durations = Mutex<[String: DurationHistogram]>([:])
    private let throttles = Mutex<Counter?>(nil)

    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]

    init(zone: String, registry: PrometheusCollectorRegistry) {
        self.zone = zone
        self.registry = registry
    }

    /// Counts an answer asking the gateway to slow down (`503 SlowDown`, `429`):
    /// `gateway_backend_throttled_total{zone}`.
    func recordThrottled() {
        let counter = throttles.withLock { made in
            if let made { return made }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "gateway", subsystem: "backend", metricName: "throttled",
                                                 unitName: "total", helpText: "Answers of the S3 backends asking to slow down"),
                labels: [("zone", zone)])
            made = counter
            return counter
        }
        counter.increment()
    }

    /// Records a request that got a response with `status`, or none (`status` nil).
    func record(method: HTTPMethod, status: UInt?, duration: Duration) {
        let method = method.rawValue
        let outcome = status.map { "\(min(5, max(1, $0 / 100)))xx" } ?? "error"
        let key = Key(method: method, outcome: outcome)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "gateway", subsystem: "backend", metricName: "requests",
                                                 unitName: "total", helpText: "Requests to the S3 backends"),
                labels: [("zone", zone), ("method", method), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
        let histogram = durations.withLock { durations in
            if let histogram = durations[method] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "gateway", subsystem: "backend", metricName: "request_duration",
                                                 unitName: "seconds",
                                                 helpText: "Time until a backend's response head"),
                labels: [("zone", zone), ("method", method)], buckets: Self.buckets)
            durations[method] = histogram
            return histogram
        }
        counter.increment()
        histogram.record(duration)
    }
}
