import Foundation
import Logging
import Metadata
import Prometheus
import Synchronization

/// Watches sync jobs past their version's `replicationDeadline`: each one is logged once (per
/// gateway process) and counted, and a gauge shows how many are late right now.
///
/// `/metrics`: `gateway_replication_jobs_late` (gauge, unfinished jobs past their deadline)
/// and `gateway_replication_jobs_late_total` (counter, late jobs seen by this process).
final class LateJobMonitor: Sendable {
    private let store: any MetadataStore
    private let logger: Logger
    private let lateNow: Gauge
    private let lateSeen: Counter
    /// Ids of jobs already reported, pruned to those still late.
    private let reported = Mutex<Set<Int64>>([])
    /// How many late jobs one check reads (the gauge counts all of them).
    let batchSize: Int
    /// Told the queue's counts at each check (`gateway_replication_jobs{status}`).
    let metrics: GatewayMetrics?

    init(store: any MetadataStore, registry: PrometheusCollectorRegistry, logger: Logger, batchSize: Int = 500,
         metrics: GatewayMetrics? = nil) {
        self.store = store
        self.metrics = metrics
        self.batchSize = batchSize
        self.logger = logger
        self.lateNow = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "replication", metricName: "jobs", unitName: "late",
            helpText: "Unfinished sync jobs past their replication deadline"))
        self.lateSeen = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "gateway", subsystem: "replication", metricName: "jobs_late", unitName: "total",
            helpText: "Sync jobs seen past their replication deadline"))
    }

    /// Checks the queue; returns the jobs that became late since the last check.
    @discardableResult
    func check(now: Date = Date()) async throws -> [SyncJob] {
        let late = try await store.lateJobs(now: now, limit: batchSize)
        let counts = try await store.jobCounts(now: now)
        lateNow.set(Int64(counts.late))
        metrics?.recordJobCounts(counts)
        let fresh = reported.withLock { seen -> [SyncJob] in
            let fresh = late.filter { !seen.contains($0.id) }
            // Only ids still late are kept; a page shorter than the batch holds all of them.
            if late.count < batchSize { seen = Set(late.map(\.id)) } else { seen.formUnion(late.map(\.id)) }
            return fresh
        }
        for job in fresh {
            lateSeen.increment()
            logger.error("replication job is late", metadata: [
                "job": "\(job.id)", "kind": "\(job.kind.rawValue)", "zone": "\(job.zone)",
                "s3.bucket": "\(job.bucket)", "s3.key": "\(job.key)", "status": "\(job.status.rawValue)",
                "attempts": "\(job.attempts)", "deadline": "\(job.deadline.map { "\($0)" } ?? "-")",
                "error": "\(job.lastError ?? "-")",
            ])
        }
        return fresh
    }
}
