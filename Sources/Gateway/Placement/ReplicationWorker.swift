import Crypto
import Foundation
import Logging
import Metadata
import NIOCore
import PolicyEngine
import SigV4
import ServiceLifecycle
import Synchronization

/// Works off the sync-job queue: copies missing replicas from a complete one (`replicate`),
/// removes copies that are no longer wanted (`delete`) and aborts backend multipart uploads
/// left by an abort or a completion (`abortUpload`). Jobs are leased, so several
/// workers (or gateway instances) can share the queue.
struct ReplicationWorker: Service {
    let state: GatewayState
    let workerId: String
    /// Pause between polls when the queue is empty.
    var idleInterval: Duration = .seconds(1)
    var batchSize = 16
    var leaseSeconds = 60
    /// After this many failed attempts a job fails for good (its replica becomes `failed`).
    var maxAttempts = 10
    /// How often jobs past their replication deadline are looked for.
    var lateCheckInterval: TimeInterval = 30
    /// Copies larger than this go through the target's multipart API (S3 takes at most 5 GiB
    /// in a single PUT), in parts of at least `multipartPartSize`.
    var multipartThreshold: Int64 = 5 * 1024 * 1024 * 1024
    var multipartPartSize: Int64 = 64 * 1024 * 1024
    let lateJobs: LateJobMonitor
    /// Zones whose provider asked this worker to slow down, and until when it leaves them be.
    let throttles = ZoneThrottles()

    init(state: GatewayState, workerId: String = "worker-" + UUID().uuidString.lowercased()) {
        self.state = state
        self.workerId = workerId
        self.lateJobs = LateJobMonitor(store: state.store, registry: state.metricsRegistry, logger: state.logger,
                                       metrics: state.metrics)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            var nextLateCheck = Date().addingTimeInterval(lateCheckInterval)
            while !Task.isCancelled {
                var claimed = 0
                do {
                    claimed = try await iterate().claimed
                } catch is CancellationError {
                    return
                } catch {
                    state.logger.warning("replication worker: claiming jobs failed", metadata: ["error": "\(error)"])
                }
                if Date() >= nextLateCheck {
                    nextLateCheck = Date().addingTimeInterval(lateCheckInterval)
                    do {
                        try await lateJobs.check()
                    } catch {
                        state.logger.warning("replication worker: checking for late jobs failed", metadata: ["error": "\(error)"])
                    }
                }
                if claimed == 0 { try? await Task.sleep(for: idleInterval) }
            }
        }
    }

    /// One pass over the due jobs; returns how many were completed.
    @discardableResult
    func runOnce(now: Date = Date()) async throws -> Int {
        try await iterate(now: now).completed
    }

    func iterate(now: Date = Date()) async throws -> (claimed: Int, completed: Int) {
        // Jobs for zones known to be down stay queued (not leased and left to expire), so they
        // run as soon as the zone is back, here or on another gateway.
        // So do jobs for zones whose provider asked to slow down, until their pause is over.
        let down = Set(state.backends.keys.filter { !state.isHealthy($0) }).union(throttles.paused(at: now))
        let jobs = try await state.store.claimJobs(worker: workerId, limit: batchSize, now: now, leaseSeconds: leaseSeconds,
                                                   skippingZones: down)
        if jobs.isEmpty { return (0, 0) }
        let completed = await withTaskGroup(of: Bool.self) { group in
            for job in jobs { group.addTask { await process(job, now: now) } }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        return (jobs.count, completed)
    }

    /// Backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s, ... at most 30 min.
    static func backoff(attempts: Int) -> TimeInterval {
        min(5 * pow(2, Double(max(0, attempts))), 1800)
    }

    private func process(_ job: SyncJob, now: Date) async -> Bool {
        guard let target = state.backends[job.zone] else {
            await fail(job, "zone \(job.zone) has no enabled backend", permanent: job.kind == .replicate)
            return false
        }
        // A down zone is not an attempt: the job's lease runs out and it is claimed again later.
        guard state.isHealthy(job.zone) else { return false }
        do {
            switch job.kind {
            case .replicate:
                let etag = try await replicate(job, to: target, now: now)
                try await state.store.completeJob(id: job.id, etag: etag, now: Date())
            case .delete:
                try await target.delete(key: job.backendKey)
                try await state.store.completeJob(id: job.id, etag: nil, now: Date())
            case .abortUpload:
                try await WriteCoordinator(state: state).runAbortJob(job)
            }
            throttles.recordSuccess(job.zone)
            return true
        } catch let error as Throttled {
            await postpone(job, error, now: now)
        } catch let error as BackendError where error.cause == .throttled {
            // The target's provider (the sources' are told apart in `replicate`).
            await postpone(job, Throttled(zone: job.zone, message: error.message, retryAfter: error.retryAfter), now: now)
        } catch let error as BackendError where error.cause == .connectionsBusy {
            // Every connection to a provider stayed busy with other requests: the gateway's
            // doing, not the provider's, so not an attempt either (nor a pause of the zone).
            await requeue(job, reason: error.message, until: now.addingTimeInterval(Self.busyConnectionsDelay), now: now)
        } catch let error as PermanentFailure {
            await fail(job, error.message, permanent: true)
        } catch {
            await fail(job, "\(error)", permanent: false)
        }
        return false
    }

    private struct PermanentFailure: Error { var message: String }

    /// A provider asked to slow down: `zone` is the one it serves, `retryAfter` the wait it
    /// asked for, if it said. `asked` is false where the job did not reach it at all, its zone
    /// being paused from an earlier answer.
    struct Throttled: Error {
        var zone: String
        var message: String
        var retryAfter: TimeInterval?
        var asked = true
    }

    /// How long a job waits after every connection to a provider stayed busy.
    static let busyConnectionsDelay: TimeInterval = 5

    /// Puts a job whose provider asked to slow down back in the queue for after the zone's
    /// pause, without counting an attempt: the provider is up, only busy, and a job that waits
    /// for it must not use up the attempts that tell a broken copy from a slow one.
    private func postpone(_ job: SyncJob, _ throttled: Throttled, now: Date) async {
        let until = throttled.asked ? throttles.record(throttled.zone, now: now, retryAfter: throttled.retryAfter)
            : throttles.pause(of: throttled.zone) ?? now.addingTimeInterval(ZoneThrottles.firstPause)
        await requeue(job, reason: "\(throttled.zone): \(throttled.message)", until: until, now: now)
    }

    /// Puts a job back in the queue until `until` without counting an attempt.
    private func requeue(_ job: SyncJob, reason: String, until: Date, now: Date) async {
        state.logger.info("sync job postponed", metadata: [
            "job": "\(job.id)", "kind": "\(job.kind.rawValue)", "zone": "\(job.zone)", "key": "\(job.key)",
            "retry": "\(until)", "reason": "\(reason)",
        ])
        do {
            _ = try await state.store.deferJob(id: job.id, worker: workerId, reason: reason, until: until, now: now)
        } catch {
            state.logger.warning("sync job: postponing failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Copies the version's bytes to the job's zone; returns the copy's backend ETag when known.
    private func replicate(_ job: SyncJob, to target: any ObjectBackend, now: Date) async throws -> String? {
        guard let version = try await state.store.version(storageId: job.storageId) else {
            throw PermanentFailure(message: "version \(job.storageId) no longer exists")
        }
        // Fail closed: a copy is made only where the policies in force allow the object now,
        // whatever was planned when the job was queued.
        guard state.currentPlacement(of: version).allowed.contains(job.zone) else {
            throw PermanentFailure(message: "the policies in force (\(state.policies.policySetHash)) do not allow zone "
                + "\(job.zone) for this object; no copy is made there")
        }
        // Already there (an earlier attempt copied it but could not record it, or a write left
        // this zone behind after its request had gone out)? The copy may lack its Object Lock
        // (applied after the PUT), so that is applied again.
        if let existing = try await target.size(of: job.backendKey) {
            if existing == version.size {
                guard let s3 = target as? S3Backend else { return nil }
                if let lock = WriteCoordinator(state: state).lockFor(
                       job.zone, BackendObjectLock(retention: version.retention, legalHold: version.legalHold)),
                   try await s3.bucketHasObjectLock() {
                    try await s3.apply(lock, to: job.backendKey)
                }
                return try await s3.etag(of: job.backendKey)
            }
            try await target.delete(key: job.backendKey)
        }
        let replicas = try await state.store.replicas(storageId: job.storageId)
            .filter { $0.status == .complete && $0.zone != job.zone }
        let order = [job.sourceZone].compactMap { $0 } + version.placement.plannedZones
        let sources = replicas.sorted {
            (order.firstIndex(of: $0.zone) ?? Int.max) < (order.firstIndex(of: $1.zone) ?? Int.max)
        }
        guard !sources.isEmpty else { throw PermanentFailure(message: "no complete replica to copy from") }
        var lastError: (any Error)?
        let paused = throttles.paused(at: now)
        for source in sources where state.isHealthy(source.zone) && !paused.contains(source.zone) {
            guard let backend = state.backends[source.zone] else { continue }
            let stream: BackendReadStream
            do {
                stream = try await backend.read(key: source.backendKey, range: nil)
            } catch let error as BackendError where error.cause == .throttled {
                lastError = Throttled(zone: source.zone, message: error.message, retryAfter: error.retryAfter)
                continue
            } catch {
                state.health.recordFailure(source.zone, error)
                lastError = error
                continue
            }
            let writer: any BackendWriter
            do {
                let lock = WriteCoordinator(state: state).lockFor(
                    job.zone, BackendObjectLock(retention: version.retention, legalHold: version.legalHold))
                if version.size > multipartThreshold {
                    writer = MultipartBackendWriter(
                        backend: target, key: job.backendKey, size: version.size,
                        partSize: MultipartBackendWriter.partSize(for: version.size, minimum: multipartPartSize), lock: lock)
                } else {
                    writer = try await target.makeWriter(key: job.backendKey, expectedSize: version.size, lock: lock)
                }
            } catch {
                state.health.recordFailure(job.zone, error)
                throw error
            }
            var etag: String?
            // The copy is checked against the version's MD5 when its ETag is one (not multipart).
            let expectedMD5 = Self.plainMD5(version.etag)
            var md5 = Insecure.MD5()
            do {
                var copied: Int64 = 0
                for try await chunk in stream {
                    copied += Int64(chunk.readableBytes)
                    if expectedMD5 != nil { chunk.withUnsafeReadableBytes { md5.update(bufferPointer: $0) } }
                    try await writer.write(chunk)
                }
                guard copied == version.size else {
                    throw BackendError(code: .io, message: "\(source.zone) gave \(copied) bytes; the version has \(version.size)")
                }
                if let expectedMD5, Array(md5.finalize()).hexString != expectedMD5 {
                    throw BackendError(code: .io, message: "the copy read from \(source.zone) does not match the version's MD5")
                }
                if let s3 = writer as? any S3ObjectWriter {
                    etag = try await s3.finishReturningETag()
                } else if let multipart = writer as? MultipartBackendWriter {
                    try await multipart.finish()
                    etag = multipart.etag
                } else {
                    try await writer.finish()
                }
            } catch {
                await writer.abort()
                throw error
            }
            let stored = try await target.size(of: job.backendKey)
            guard stored == version.size else {
                try? await target.delete(key: job.backendKey)
                throw BackendError(code: .io, message: "\(job.zone) holds \(stored.map(String.init) ?? "nothing") bytes after the copy; expected \(version.size)")
            }
            state.health.recordSuccess(job.zone)
            return etag
        }
        if lastError == nil, let busy = sources.first(where: { paused.contains($0.zone) && state.isHealthy($0.zone) }) {
            lastError = Throttled(zone: busy.zone, message: "its provider asked to slow down", asked: false)
        }
        throw lastError ?? BackendError(code: .unavailable, message: "no healthy zone holds a complete replica")
    }

    /// The lowercase hex MD5 in a single-part ETag, nil for multipart ("...-N") ETags.
    static func plainMD5(_ etag: String) -> String? {
        let hex = etag.trimmingQuotes().lowercased()
        guard hex.utf8.count == 32, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return hex
    }

    private func fail(_ job: SyncJob, _ message: String, permanent: Bool) async {
        let now = Date()
        let giveUp = permanent || job.attempts + 1 >= maxAttempts
        let retryAt = giveUp ? nil : now.addingTimeInterval(Self.backoff(attempts: job.attempts))
        state.logger.warning("sync job failed", metadata: [
            "job": "\(job.id)", "kind": "\(job.kind.rawValue)", "zone": "\(job.zone)", "key": "\(job.key)",
            "attempts": "\(job.attempts + 1)", "retry": "\(retryAt.map { "\($0)" } ?? "never")", "error": "\(message)",
        ])
        do {
            _ = try await state.store.failJob(id: job.id, error: message, retryAt: retryAt, now: now)
        } catch {
            state.logger.warning("sync job: recording the failure failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }
}

/// Probes every backend every few seconds and records its health, from the end of start-up:
/// before that a zone's bucket may not exist yet, and its probe would fail. Each zone is probed
/// on its own schedule, so a provider that stopped answering (whose probe and repair attempt
/// wait for their timeouts) does not hold up the probes of the others.
struct HealthProber: Service {
    let state: GatewayState
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            await withTaskGroup(of: Void.self) { group in
                for (zone, backend) in state.backends {
                    group.addTask {
                        while !Task.isCancelled {
                            await probe(zone, backend)
                            try? await Task.sleep(for: interval)
                        }
                    }
                }
            }
        }
    }

    /// Probes every zone once, together.
    func probeOnce() async {
        await withTaskGroup(of: Void.self) { group in
            for (zone, backend) in state.backends {
                group.addTask { await probe(zone, backend) }
            }
        }
    }

    func probe(_ zone: String, _ backend: any ObjectBackend) async {
        // Recorded at once, so writes and reads stop using a zone that went away without
        // waiting for the repair attempt below. Breaker changes are logged by BackendHealth.
        let healthy = await backend.probe()
        state.health.recordProbe(zone, healthy: healthy)
        // The physical bucket may be missing because the zone was down at start-up.
        if !healthy, backend is S3Backend, (try? await backend.initialize(objectLock: state.zoneHasObjectLock(zone))) != nil,
           await backend.probe() {
            state.health.recordProbe(zone, healthy: true)
        }
    }
}

/// Zones whose provider answered the replication worker `503 SlowDown` (or `429`), each with a
/// pause that doubles from 1 s up to a minute while the provider goes on asking (or is as long
/// as its `Retry-After` asked, when that is longer), and ends with its first success. The
/// worker claims no job for a paused zone, nor reads from it.
final class ZoneThrottles: Sendable {
    private let pauses = Mutex<[String: (until: Date, streak: Int)]>([:])
    static let firstPause: TimeInterval = 1
    static let longestPause: TimeInterval = 60

    /// Records a throttled request at `now`, whose answer asked for `retryAfter` seconds if it
    /// said; returns the end of the zone's pause. Answers to requests that went out before the
    /// pause began (the other jobs of one batch) do not shorten or double it, but one may
    /// lengthen it to its `Retry-After`.
    func record(_ zone: String, now: Date, retryAfter: TimeInterval? = nil) -> Date {
        pauses.withLock { pauses in
            let asked = retryAfter.map { now.addingTimeInterval($0) } ?? now
            if let pause = pauses[zone], pause.until > now {
                pauses[zone]?.until = max(pause.until, asked)
                return pauses[zone]!.until
            }
            let streak = (pauses[zone]?.streak ?? 0) + 1
            let backoff = now.addingTimeInterval(min(Self.firstPause * pow(2, Double(streak - 1)), Self.longestPause))
            pauses[zone] = (max(backoff, asked), streak)
            return pauses[zone]!.until
        }
    }

    func recordSuccess(_ zone: String) {
        pauses.withLock { _ = $0.removeValue(forKey: zone) }
    }

    /// The end of the zone's pause, if it has one.
    func pause(of zone: String) -> Date? {
        pauses.withLock { $0[zone]?.until }
    }

    /// The zones still paused at `now`.
    func paused(at now: Date) -> Set<String> {
        pauses.withLock { Set($0.filter { $0.value.until > now }.keys) }
    }
}
