import Foundation
import Logging
import Metadata
import ServiceLifecycle

/// Repairs what crashes and outages leave behind, every `interval`:
///
/// 1. Write intents older than `grace` that never committed (the gateway died mid-write, or
///    while starting the backend uploads of a CreateMultipartUpload): the intent is claimed
///    first, so that a write still streaming can no longer commit (nor the upload be recorded),
///    then its backend objects and unfinished backend uploads are removed in every zone of the
///    intent, then the claim is marked done.
///    A zone that cannot be reached leaves the intent for the next pass.
/// 2. Temporary files of crashed writes in local-disk zones, untouched for `grace`.
/// 2a. Multipart uploads initiated more than `uploadExpiry` ago and never completed nor
///    aborted: they are aborted (the metadata first, then their backend uploads by
///    `abortUpload` jobs), so abandoned parts do not hold storage in every zone for ever.
/// 3. Committed versions with fewer complete replicas than planned and no copy under way: their
///    missing copies are queued again as sync jobs (replicas that failed for good only after
///    `failedRetryDelay`, so that a failure stays visible for a while).
///
/// Every step is idempotent and safe with several gateways on one database: claims and
/// re-queues are single transactions, and deleting an absent backend object is no error.
struct Reconciler: Service {
    struct Report: Sendable, Hashable {
        /// Intents whose backend objects were deleted in this pass.
        var reclaimedIntents = 0
        /// Intents left for the next pass (a zone did not answer).
        var deferredIntents = 0
        /// Replicate jobs queued for under-replicated versions.
        var requeuedJobs = 0
        /// Temporary files of crashed writes removed from local-disk zones.
        var removedPartials = 0
        /// Abandoned multipart uploads aborted.
        var expiredUploads = 0
    }

    let state: GatewayState
    var interval: Duration = .seconds(60)
    /// How old an uncommitted intent must be before its write counts as crashed; far longer
    /// than any write takes.
    var grace: TimeInterval = 3600
    /// How long claimed intents are kept after their cleanup (late commits still find them).
    var tombstoneRetention: TimeInterval = 7 * 86400
    /// How long a replica that failed for good is left before it is tried again.
    var failedRetryDelay: TimeInterval = 3600
    /// Age at which an unfinished multipart upload is aborted; nil keeps uploads until the
    /// client completes or aborts them (as S3 does without a lifecycle rule).
    var uploadExpiry: TimeInterval? = 7 * 86400
    var batchSize = 100
    /// Under-replicated versions looked at per pass.
    var maxVersionsPerPass = 10_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do {
                    let report = try await reconcileOnce()
                    if report != Report() {
                        state.logger.info("reconciler pass", metadata: [
                            "reconciler.reclaimed": "\(report.reclaimedIntents)", "reconciler.deferred": "\(report.deferredIntents)",
                            "reconciler.requeued": "\(report.requeuedJobs)", "reconciler.partials": "\(report.removedPartials)",
                            "reconciler.expired_uploads": "\(report.expiredUploads)",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    state.logger.warning("reconciler pass failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// One pass; `now` is the clock the grace period and retry delays are measured with.
    func reconcileOnce(now: Date = Date()) async throws -> Report {
        var report = Report()
        try await reclaimStaleIntents(now: now, report: &report)
        await removeStalePartials(now: now, report: &report)
        try await expireUploads(now: now, report: &report)
        _ = try await state.store.purgeReclaimedIntents(cleanedBefore: now.addingTimeInterval(-tombstoneRetention))
        try await requeueMissingCopies(now: now, report: &report)
        return report
    }

    private func reclaimStaleIntents(now: Date, report: inout Report) async throws {
        let stale = try await state.store.staleIntents(olderThan: now.addingTimeInterval(-grace), limit: batchSize)
        for candidate in stale {
            guard let intent = try await state.store.reclaimIntent(storageId: candidate.storageId, now: now) else { continue }
            var complete = true
            for zone in intent.zones.uniqued() {
                guard let backend = state.backends[zone] else { continue }
                do {
                    try await backend.delete(key: intent.backendKey)
                    // A crashed CreateMultipartUpload leaves backend uploads of the key.
                    try await backend.abortMultipartUploads(key: intent.backendKey)
                } catch {
                    state.health.recordFailure(zone, error)
                    state.logger.warning("reconciler: deleting an uncommitted write failed", metadata: [
                        "zone": "\(zone)", "s3.bucket": "\(intent.bucket)", "s3.key": "\(intent.key)", "error": "\(error)",
                    ])
                    complete = false
                }
            }
            if complete {
                try await state.store.finishReclaim(storageId: intent.storageId, now: now)
                report.reclaimedIntents += 1
                state.logger.notice("reconciler removed an uncommitted write", metadata: [
                    "s3.bucket": "\(intent.bucket)", "s3.key": "\(intent.key)", "storage_id": "\(intent.storageId)",
                    "zones": "\(intent.zones.joined(separator: ","))",
                ])
            } else {
                report.deferredIntents += 1
            }
        }
    }

    /// Local-disk zones: the temporary files of writes that died with their gateway (no
    /// intent names them), once untouched for the grace period. A zone that fails is logged and
    /// tried again next pass.
    private func removeStalePartials(now: Date, report: inout Report) async {
        for (zone, backend) in state.backends.sorted(by: { $0.key < $1.key }) {
            guard let disk = backend as? LocalDiskBackend else { continue }
            do {
                let removed = try await disk.removeStalePartials(notModifiedSince: now.addingTimeInterval(-grace))
                report.removedPartials += removed
                if removed > 0 {
                    state.logger.notice("reconciler removed temporary files of crashed writes",
                                        metadata: ["zone": "\(zone)", "files": "\(removed)"])
                }
            } catch {
                state.logger.warning("reconciler: removing temporary files failed", metadata: ["zone": "\(zone)", "error": "\(error)"])
            }
        }
    }

    /// Aborts uploads older than ``uploadExpiry``. The abort's jobs remove the backend uploads
    /// (the replication worker runs them); an upload completed or aborted meanwhile is skipped.
    private func expireUploads(now: Date, report: inout Report) async throws {
        guard let uploadExpiry else { return }
        let expired = try await state.store.uploads(initiatedBefore: now.addingTimeInterval(-uploadExpiry), limit: batchSize)
        for upload in expired {
            let aborted: AbortedUpload
            do {
                aborted = try await state.store.abortUpload(id: upload.uploadId)
            } catch let error as MetadataError where error.code == .notFound {
                continue
            }
            report.expiredUploads += 1
            _ = try? await state.store.appendLog(OperationLogEntry(
                time: now, requestId: "reconciler", principal: "reconciler", operation: "AbortMultipartUpload",
                bucket: upload.bucket, key: upload.key, httpStatus: 204, zones: aborted.jobs.map(\.zone),
                detail: "upload \(upload.uploadId) expired after \(Int(uploadExpiry)) s, \(aborted.parts.count) parts"))
            state.logger.notice("reconciler aborted an abandoned multipart upload", metadata: [
                "s3.bucket": "\(upload.bucket)", "s3.key": "\(upload.key)", "upload_id": "\(upload.uploadId)",
                "initiated": "\(upload.initiatedAt)",
            ])
        }
    }

    private func requeueMissingCopies(now: Date, report: inout Report) async throws {
        let backendZones = Set(state.backends.keys)
        var after: Int64?
        var seen = 0
        while seen < maxVersionsPerPass {
            let page = try await state.store.underReplicated(afterSequence: after, limit: batchSize)
            for status in page {
                let version = status.version
                // Failed replicas are retried only after a while; they come first, then the
                // planned zones without a replica row (all inside the eligible set).
                let retry = status.replicas.filter { $0.status == .pending || ($0.status == .failed
                    && $0.updatedAt.addingTimeInterval(failedRetryDelay) <= now) }.map(\.zone)
                let blocked = Set(status.replicas.filter { $0.status == .failed || $0.status == .deleting }.map(\.zone))
                    .subtracting(retry)
                // Only where the policies in force allow the object now (fail closed), and
                // only copies there count.
                let current = state.currentPlacement(of: version)
                let zones = current.repairZones(preferring: retry + version.placement.plannedZones, backends: backendZones)
                    .filter { !blocked.contains($0) }
                let jobs = try await state.store.requeueReplicas(
                    storageId: version.storageId, zones: zones, copies: version.placement.requiredCopies,
                    counting: current.allowed, now: now)
                if !jobs.isEmpty {
                    report.requeuedJobs += jobs.count
                    state.logger.notice("reconciler re-queued missing copies", metadata: [
                        "s3.bucket": "\(version.bucket)", "s3.key": "\(version.key)", "s3.version_id": "\(version.versionId)",
                        "zones": "\(jobs.map(\.zone).joined(separator: ","))",
                    ])
                }
            }
            seen += page.count
            guard page.count == batchSize, let last = page.last else { return }
            after = last.version.sequence
        }
    }
}
