import Foundation
import Logging
import Metadata
import ServiceLifecycle
import Synchronization

/// Checks, pass after pass, that every complete replica is still in its zone: a HEAD of its
/// backend key (a `stat` in a local-disk zone) must find an object of the recorded size.
/// Copies can vanish behind the gateway's back (removed in a provider's console, lost by the
/// provider, a bucket emptied by hand); the write path and the sync jobs never look again.
///
/// A copy that is missing or of another size makes its replica `pending` again, with the
/// finding as its error (``MetadataStore/markReplicaLost(storageId:zone:reason:now:)``), and a
/// new copy from a good one is queued at once, in that zone or another the plan allows (or, if
/// that fails, by the reconciler's next pass). A version
/// left without any complete copy is logged as an error: its data is gone from every zone.
/// A zone that does not answer, or whose breaker is open, is skipped for the pass, not judged.
///
/// The walk goes through the replicas in (storage id, zone) order at no more than `rate`
/// replicas a second, so a pass over many objects spreads its HEADs out. Instances that share
/// a metadata store share the work: a pass is due `interval` after the last one ended, on any
/// instance, and the one that claims it (``MetadataStore/claimServiceRun(name:holder:now:lease:interval:)``)
/// holds a lease it renews while it walks; if it dies, the lease runs out and another takes over.
struct ReplicaVerifier: Service {
    struct Report: Sendable, Hashable {
        /// Replicas whose zone answered.
        var checked = 0
        /// Replicas found missing or of another size, and marked for a new copy.
        var lost = 0
        /// Versions left with no complete copy in any zone by this pass.
        var withoutCopy = 0
        /// Replicas not judged: their zone did not answer or its breaker is open.
        var skipped = 0
    }

    let state: GatewayState
    /// Time from the end of one pass (on any instance) to the start of the next.
    var interval: Duration = .seconds(86_400)
    /// The first look for a due pass comes this long after start-up (at most `interval`).
    var firstDelay: Duration = .seconds(600)
    /// Replicas checked per second at most; 0 or less means no limit.
    var rate: Double = 20
    var batchSize = 100
    /// How often an instance looks whether a pass is due (at most `interval`).
    var checkEvery: Duration = .seconds(600)
    /// How long a claimed pass is this instance's without a renewal; renewed at a third of it.
    var lease: TimeInterval = 600
    /// This instance's name in `service_runs`.
    var holder = "verifier-" + GatewayState.newStorageId()

    static let runName = "replica-verification"

    func run() async throws {
        await SharedServiceRun.loop(state: state, firstDelay: min(firstDelay, interval), checkEvery: min(checkEvery, interval),
                                    failure: "replica verification pass failed") {
            let started = ContinuousClock.now
            guard let report = try await runIfDue() else { return }
            state.logger.notice("replica verification pass", metadata: [
                "verify.checked": "\(report.checked)", "verify.lost": "\(report.lost)",
                "verify.without_copy": "\(report.withoutCopy)", "verify.skipped": "\(report.skipped)",
                "verify.seconds": "\((ContinuousClock.now - started).components.seconds)",
            ])
        }
    }

    /// A pass, when one is due for all instances sharing the store and this one claims it;
    /// nil when it is not due or another instance runs it.
    func runIfDue(now: @escaping @Sendable () -> Date = { Date() }) async throws -> Report? {
        let run = SharedServiceRun(store: state.store, name: Self.runName, holder: holder, lease: lease, interval: interval)
        return try await run.runIfDue(now: now) { renew in try await verifyOnce(now: now, renew: renew) }
    }

    /// One pass over every complete replica. `renew` is called before each replica (a
    /// ``SharedServiceRun``'s renews the lease when a third of it has passed); what it throws
    /// ends the pass.
    func verifyOnce(now: @Sendable () -> Date = { Date() },
                    renew: @Sendable () async throws -> Void = {}) async throws -> Report {
        var report = Report()
        var cursor: ReplicaCursor?
        let started = ContinuousClock.now
        var looked = 0
        while true {
            let page = try await state.store.completeReplicas(after: cursor, limit: batchSize)
            for replica in page {
                try await renew()
                try Task.checkCancellation()
                if rate > 0 {
                    // Paced from the start of the pass: a slow answer is not made up for by a burst.
                    let due = started + .seconds(Double(looked) / rate)
                    if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                }
                looked += 1
                try await verify(replica, now: now(), report: &report)
            }
            guard page.count == batchSize, let last = page.last else { break }
            cursor = ReplicaCursor(last)
        }
        let ended = now()
        state.metrics.recordVerificationPass(at: ended)
        state.verification.record(report, endedAt: ended)
        return report
    }

    private func verify(_ replica: Replica, now: Date, report: inout Report) async throws {
        // A zone no longer configured is the reconciler's and the policies' business.
        guard let backend = state.backends[replica.zone] else { return }
        guard state.isHealthy(replica.zone) else {
            report.skipped += 1
            return
        }
        let found: Int64?
        do {
            found = try await backend.size(of: replica.backendKey)
        } catch let error as BackendError where error.code == .notFound {
            found = nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            report.skipped += 1
            return
        }
        report.checked += 1
        state.metrics.recordReplicaVerified()
        if found == replica.size { return }
        let reason = found.map { "verification found \($0) bytes in the zone; \(replica.size) were written" }
            ?? "verification found no object in the zone"
        guard try await state.store.markReplicaLost(storageId: replica.storageId, zone: replica.zone, reason: reason, now: now) else {
            return  // deleted or changed meanwhile
        }
        report.lost += 1
        state.metrics.recordReplicaLost(zone: replica.zone)
        let remaining = try await state.store.replicas(storageId: replica.storageId).filter { $0.status == .complete }
        let version = try await state.store.version(storageId: replica.storageId)
        let metadata: Logger.Metadata = [
            "zone": "\(replica.zone)", "backend.key": "\(replica.backendKey)", "storage.id": "\(replica.storageId)",
            "s3.bucket": "\(version?.bucket ?? "-")", "s3.key": "\(version?.key ?? "-")",
            "s3.version_id": "\(version?.versionId ?? "-")", "reason": "\(reason)",
            "complete_copies": "\(remaining.count)",
        ]
        if remaining.isEmpty {
            report.withoutCopy += 1
            state.metrics.recordVersionWithoutCopy()
            state.logger.error("replica lost and no complete copy is left: the object's data is gone from every zone",
                               metadata: metadata)
        } else {
            state.logger.error("replica lost; a new copy will be made from another zone", metadata: metadata)
            // Queued now rather than at the reconciler's next pass: the zone it was lost from
            // first (it just answered), then the plan's other zones.
            // Only where the policies in force allow the object now (fail closed).
            if let version {
                let current = state.currentPlacement(of: version)
                let zones = current.repairZones(preferring: [replica.zone] + version.placement.plannedZones,
                                                backends: Set(state.backends.keys))
                _ = try await state.store.requeueReplicas(storageId: version.storageId, zones: zones,
                                                          copies: version.placement.requiredCopies,
                                                          counting: current.allowed, now: now)
            }
        }
    }
}

/// The last verification pass of this instance, for `/health`.
final class VerificationStatus: Sendable {
    private let last = Mutex<(report: ReplicaVerifier.Report, endedAt: Date)?>(nil)

    func record(_ report: ReplicaVerifier.Report, endedAt: Date) {
        last.withLock { $0 = (report, endedAt) }
    }

    var lastPass: (report: ReplicaVerifier.Report, endedAt: Date)? { last.withLock { $0 } }
}
