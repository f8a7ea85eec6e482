import Crypto
import Foundation
import Logging
import Metadata
import NIOCore
import PolicyEngine
import S3Protocol
import SigV4

/// Multipart uploads fan out as one backend multipart upload per zone: the upload is created in
/// the zones the plan chooses, every part is streamed once to all of them in parallel, and
/// completion asks each zone holding every part to join its parts itself, so no byte passes
/// through the gateway twice. The write quorum applies at each step.
extension WriteCoordinator {
    /// Runs `start` in the zones the plan chooses. A zone whose breaker is open, or whose start
    /// fails, is replaced by the next zone of the plan's candidate order that keeps the policy's
    /// diversity rules (never a zone outside the eligible set); what was started in a zone that
    /// is no longer chosen is undone with `stop`. Returns the started zones in plan order.
    func startInChosenZones<Started: Sendable>(
        plan: PlacementPlan, logger: Logger,
        start: (String, any ObjectBackend) async throws -> Started,
        stop: (String, Started) async -> Void
    ) async -> [(zone: String, started: Started)] {
        var failed = Set<String>()
        var open: [String: Started] = [:]
        while true {
            let chosen = plan.chooseZones { !failed.contains($0.code) && state.isHealthy($0.code) }.map(\.code)
            var progress = true
            for zone in chosen where open[zone] == nil {
                guard let backend = state.backends[zone] else {
                    failed.insert(zone)
                    progress = false
                    continue
                }
                do {
                    open[zone] = try await start(zone, backend)
                } catch {
                    logger.warning("backend write could not start", metadata: ["zone": "\(zone)", "error": "\(error)"])
                    zoneFailed(zone, error)
                    failed.insert(zone)
                    progress = false
                }
            }
            if progress || chosen.isEmpty {
                // Started zones no longer chosen (a failure changed the choice) are undone.
                for (zone, started) in open where !chosen.contains(zone) { await stop(zone, started) }
                return chosen.compactMap { zone in open[zone].map { (zone: zone, started: $0) } }
            }
        }
    }

    /// CreateMultipartUpload: a backend upload of `backendKey` in each zone the plan chooses.
    /// Returns zone to backend upload id; fewer zones than the write quorum abort what was
    /// started and throw 503.
    func createUploads(plan: PlacementPlan, backendKey: String, logger: Logger) async throws -> [String: String] {
        let started = await startInChosenZones(plan: plan, logger: logger) { _, backend in
            try await backend.createMultipartUpload(key: backendKey)
        } stop: { zone, uploadId in
            try? await state.backends[zone]?.abortMultipartUpload(key: backendKey, uploadId: uploadId)
        }
        guard started.count >= plan.writeQuorum else {
            await abortUploads(Dictionary(uniqueKeysWithValues: started.map { ($0.zone, $0.started) }), backendKey: backendKey)
            throw quorumFailure("only \(started.count) of the \(plan.writeQuorum) zones the write quorum needs are available")
        }
        for zone in started.map(\.zone) { state.health.recordSuccess(zone) }
        return Dictionary(uniqueKeysWithValues: started.map { ($0.zone, $0.started) })
    }

    /// UploadPart: streams the body once, in parallel, to the part's upload in each zone of
    /// `uploads` (zone to backend upload id) that is up. At least `quorum` zones must take the
    /// whole part, else 503. `check` sees the digests before any zone makes the part durable,
    /// so a refused body (bad digest) never replaces a part already uploaded. A zone that fails
    /// keeps whatever part it held before, which the caller no longer records for it.
    /// Returns the digests (`written`: the zones holding the part) and zone to part ETag.
    func writePart(
        body: some AsyncSequence<ByteBuffer, any Error>, uploads: [String: String], order: [String], backendKey: String,
        partNumber: Int, quorum: Int, expectedSize: Int64?, checksum: S3ChecksumAlgorithm?,
        check: (Outcome) throws -> Void, logger: Logger
    ) async throws -> (outcome: Outcome, etags: [String: String]) {
        let zones = uploads.keys.sorted { (order.firstIndex(of: $0) ?? Int.max, $0) < (order.firstIndex(of: $1) ?? Int.max, $1) }
        var writers: [(zone: String, writer: any BackendWriter)] = []
        var partWriters: [String: any BackendPartWriter] = [:]
        for zone in zones where state.isHealthy(zone) {
            guard let backend = state.backends[zone], let uploadId = uploads[zone] else { continue }
            do {
                let writer = try await backend.makePartWriter(key: backendKey, uploadId: uploadId, partNumber: partNumber,
                                                              expectedSize: expectedSize)
                writers.append((zone, writer))
                partWriters[zone] = writer
            } catch {
                logger.warning("backend part upload could not start", metadata: ["zone": "\(zone)", "error": "\(error)"])
                zoneFailed(zone, error)
            }
        }
        guard writers.count >= quorum else {
            await abort(writers)
            throw quorumFailure("only \(writers.count) of the \(quorum) zones the write quorum needs are available")
        }
        var outcome: Outcome
        (writers, outcome) = try await stream(body, to: writers, quorum: quorum, expectedSize: expectedSize,
                                              checksum: checksum, sha256: true, check: check, logger: logger)
        var etags: [String: String] = [:]
        for zone in await finish(writers, quorum: quorum, logger: logger) {
            do {
                etags[zone] = try await partWriters[zone]!.etag()
            } catch {
                logger.warning("backend part upload has no ETag", metadata: ["zone": "\(zone)", "error": "\(error)"])
            }
        }
        guard etags.count >= quorum else {
            throw quorumFailure("only \(etags.count) copies of the part became durable; the write quorum is \(quorum)")
        }
        outcome.written = zones.filter { etags[$0] != nil }
        return (outcome, etags)
    }

    /// CompleteMultipartUpload: each zone of `uploads` that is up and holds every listed part
    /// joins them itself. Returns zone to the object's backend ETag (nil when unknown) for the
    /// zones that completed; the caller decides by the quorum.
    func completeUploads(
        _ uploads: [String: String], parts: [MultipartPart], backendKey: String, size: Int64,
        lock: BackendObjectLock?, logger: Logger
    ) async -> [String: String?] {
        let zones = uploads.keys.filter { zone in
            state.isHealthy(zone) && parts.allSatisfy { $0.backendETags[zone] != nil }
        }
        return await withTaskGroup(of: (String, String?, Bool).self) { group in
            for zone in zones {
                guard let backend = state.backends[zone], let uploadId = uploads[zone] else { continue }
                let pieces = parts.map { BackendPart(number: $0.partNumber, etag: $0.backendETags[zone]!) }
                let zoneLock = lockFor(zone, lock)
                group.addTask {
                    do {
                        let etag = try await backend.completeMultipartUpload(key: backendKey, uploadId: uploadId, parts: pieces,
                                                                             size: size, lock: zoneLock)
                        state.health.recordSuccess(zone)
                        return (zone, etag, true)
                    } catch {
                        logger.warning("backend CompleteMultipartUpload failed", metadata: ["zone": "\(zone)", "error": "\(error)"])
                        zoneFailed(zone, error)
                        return (zone, nil, false)
                    }
                }
            }
            var done: [String: String?] = [:]
            for await (zone, etag, ok) in group where ok { done[zone] = .some(etag) }
            return done
        }
    }

    /// Aborts backend uploads (zone to upload id), best effort: what fails is left to the
    /// `abortUpload` jobs or the reconciler.
    func abortUploads(_ uploads: [String: String], backendKey: String) async {
        await withTaskGroup(of: Void.self) { group in
            for (zone, uploadId) in uploads {
                guard let backend = state.backends[zone] else { continue }
                group.addTask { try? await backend.abortMultipartUpload(key: backendKey, uploadId: uploadId) }
            }
        }
    }

    /// Runs one `abortUpload` job: aborts the backend upload (`uploadId` when known, else every
    /// unfinished upload of the key) and, when no version owns the job's storage id, deletes an
    /// object an unrecorded completion may have left at the key.
    func runAbortJob(_ job: SyncJob, uploadId: String? = nil) async throws {
        guard let backend = state.backends[job.zone] else {
            throw BackendError(code: .unavailable, message: "zone \(job.zone) has no enabled backend")
        }
        if let uploadId {
            try await backend.abortMultipartUpload(key: job.backendKey, uploadId: uploadId)
        } else {
            try await backend.abortMultipartUploads(key: job.backendKey)
        }
        if try await state.store.version(storageId: job.storageId) == nil {
            try await backend.delete(key: job.backendKey)
        }
        try await state.store.completeJob(id: job.id, etag: nil, now: Date())
    }
}
