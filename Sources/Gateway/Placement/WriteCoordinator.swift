import Crypto
import Foundation
import Logging
import Metadata
import NIOCore
import PolicyEngine
import S3Protocol
import SigV4
import Synchronization

/// Streams one body to the plan's zones in parallel and decides, by the write quorum, whether
/// the write stands. Partial copies of a failed write are removed before it reports failure.
struct WriteCoordinator {
    struct Outcome {
        /// Zones that hold a durable copy.
        var written: [String]
        /// Planned zones that did not get a copy (down, or failed during the write).
        var missing: [String]
        var size: Int64
        var md5: Insecure.MD5.Digest
        /// The body's SHA-256, when the caller asked for it (to check a signed payload's hash).
        var sha256: SHA256.Digest?
        /// The S3 checksum of the body, when one was requested.
        var checksum: (algorithm: S3ChecksumAlgorithm, value: [UInt8])?
    }

    let state: GatewayState
    /// Set when a provider asked to slow down during this write (``BackendError/Cause/throttled``).
    let throttled = WriteFlag()

    /// Records that `zone` failed with `error`: in its circuit breaker (which counts only the
    /// provider's failures), and whether the provider asked to slow down.
    func zoneFailed(_ zone: String, _ error: any Error) {
        state.health.recordFailure(zone, error)
        if (error as? BackendError)?.cause == .throttled { throttled.set() }
    }

    /// The error of a write left with fewer zones than its quorum: `503 SlowDown` when a
    /// provider asked to slow down during it (S3's clients then back off before they try
    /// again), else `503 ServiceUnavailable`.
    func quorumFailure(_ message: String) -> S3Error {
        guard throttled.isSet else { return S3Error(.serviceUnavailable, message: message) }
        return S3Error(.slowDown, message: message + "; a provider asked to slow down, retry later")
    }

    /// Writes `body` to the plan's zones. `intent` is recorded while the writers open (a
    /// backend connection, a temporary file), and no byte reaches a writer before it is: a
    /// backend never holds a complete object that no intent names. When the writers cost
    /// nothing to open (``ObjectBackend/writerOpensAtOnce(expectedSize:)``: an S3 backend
    /// gathers a small body) the intent is recorded first, without a task beside it; so is that
    /// of an empty body, which a backend could store as soon as its request starts. A write that
    /// fails after its intent was recorded abandons it.
    func write(
        body: some AsyncSequence<ByteBuffer, any Error>, plan: PlacementPlan, backendKey: String, intent: WriteIntent,
        expectedSize: Int64?, checksum: S3ChecksumAlgorithm?, lock: BackendObjectLock? = nil, sha256: Bool = true,
        logger: Logger
    ) async throws -> Outcome {
        let quorum = plan.writeQuorum
        var writers: [(zone: String, writer: any BackendWriter)]
        if expectedSize == 0 || writersOpenAtOnce(plan: plan, expectedSize: expectedSize) {
            try await state.store.recordIntent(intent)
            writers = await openWriters(plan: plan, backendKey: backendKey, expectedSize: expectedSize, lock: lock, logger: logger)
        } else {
            async let recorded: Void = state.store.recordIntent(intent)
            writers = await openWriters(plan: plan, backendKey: backendKey, expectedSize: expectedSize, lock: lock, logger: logger)
            do {
                try await recorded
            } catch {
                await abort(writers)
                throw error
            }
        }
        do {
            let zones = writers.map { $0.zone }
            guard writers.count >= quorum else {
                await abort(writers)
                throw quorumFailure("only \(writers.count) of the \(quorum) zones the write quorum needs are available")
            }
            let streamed: Outcome
            (writers, streamed) = try await stream(body, to: writers, quorum: quorum, expectedSize: expectedSize,
                                                   checksum: checksum, sha256: sha256, logger: logger)
            let finished = await finish(writers, quorum: quorum, logger: logger)
            if finished.count < quorum {
                for (zone, _) in writers where finished.contains(zone) {
                    try? await state.backends[zone]?.delete(key: backendKey)
                }
                throw quorumFailure("only \(finished.count) copies became durable; the write quorum is \(quorum)")
            }
            let planned = plan.zones.map(\.code)
            let missing = Array((planned + zones).filter { !finished.contains($0) }.uniqued().prefix(max(0, plan.copies - finished.count)))
            var outcome = streamed
            (outcome.written, outcome.missing) = (finished, missing)
            return outcome
        } catch {
            try? await state.store.abandonIntent(storageId: intent.storageId)
            throw error
        }
    }

    /// Streams `body` once to every writer in parallel while digesting it. A writer that fails
    /// drops out; fewer than `quorum` left, a body of the wrong length, or a body `check`
    /// refuses (it sees the digests before any writer is finished) aborts every writer and
    /// throws. Returns the writers still standing and the digests (`written` = their zones).
    func stream(
        _ body: some AsyncSequence<ByteBuffer, any Error>, to writers: [(zone: String, writer: any BackendWriter)],
        quorum: Int, expectedSize: Int64?, checksum: S3ChecksumAlgorithm?, sha256: Bool,
        check: (Outcome) throws -> Void = { _ in }, logger: Logger
    ) async throws -> (writers: [(zone: String, writer: any BackendWriter)], outcome: Outcome) {
        var writers = writers
        var md5 = Insecure.MD5()
        // Callers that check no digest against it pass `sha256: false`: an UNSIGNED or
        // aws-chunked body (whose chunks carry their own signatures) would pay for it on every
        // byte for nothing.
        var sha = sha256 ? SHA256() : nil
        var size: Int64 = 0
        var checksumHasher = checksum.map { S3ChecksumHasher($0) }
        do {
            for try await chunk in body {
                size += Int64(chunk.readableBytes)
                chunk.withUnsafeReadableBytes {
                    md5.update(bufferPointer: $0)
                    sha?.update(bufferPointer: $0)
                    checksumHasher?.update($0)
                }
                writers = await writeChunk(chunk, to: writers, quorum: quorum, logger: logger)
                if writers.count < quorum {
                    throw quorumFailure("zones failed during the write; fewer than the write quorum (\(quorum)) remain")
                }
            }
            if let expectedSize, expectedSize != size {
                throw S3Error(.incompleteBody, message: "the body has \(size) bytes; Content-Length said \(expectedSize)")
            }
            let outcome = Outcome(written: writers.map(\.zone), missing: [], size: size, md5: md5.finalize(), sha256: sha?.finalize(),
                                  checksum: checksumHasher.flatMap { h in h.algorithm.map { ($0, h.finalize()) } })
            try check(outcome)
            return (writers, outcome)
        } catch {
            await abort(writers)
            throw error
        }
    }

    /// Whether opening the writer does nothing in every zone a write of `plan` may reach.
    func writersOpenAtOnce(plan: PlacementPlan, expectedSize: Int64?) -> Bool {
        // The zones of `intentZones(for:)`, without building the list.
        plan.zones.allSatisfy { state.backends[$0.code]?.writerOpensAtOnce(expectedSize: expectedSize) == true }
            && plan.candidates.allSatisfy { state.backends[$0.code]?.writerOpensAtOnce(expectedSize: expectedSize) ?? true }
    }

    /// The zones a write of `plan` may reach, for its write intent: the planned zones, then
    /// every candidate with a backend that could replace a zone that is down. The reconciler
    /// deletes a crashed write's objects in all of them.
    func intentZones(for plan: PlacementPlan) -> [String] {
        var zones: [String] = []
        zones.reserveCapacity(plan.zones.count + plan.candidates.count)
        for zone in plan.zones where !zones.contains(zone.code) { zones.append(zone.code) }
        for zone in plan.candidates where state.backends[zone.code] != nil && !zones.contains(zone.code) { zones.append(zone.code) }
        return zones
    }

    /// The Object Lock a zone's copy carries: only where the catalog says the zone supports it
    /// (the backend then applies it if its bucket was created with Object Lock).
    func lockFor(_ zone: String, _ lock: BackendObjectLock?) -> BackendObjectLock? {
        guard let lock, state.policies.catalog.zone(zone)?.has("object_lock") == true else { return nil }
        return lock
    }

    /// Writers for the plan's zones, chosen by ``startInChosenZones(plan:logger:start:stop:)``.
    private func openWriters(plan: PlacementPlan, backendKey: String, expectedSize: Int64?, lock: BackendObjectLock?,
                             logger: Logger) async -> [(zone: String, writer: any BackendWriter)] {
        await startInChosenZones(plan: plan, logger: logger) { zone, backend in
            try await backend.makeWriter(key: backendKey, expectedSize: expectedSize, lock: lockFor(zone, lock))
        } stop: { _, writer in
            await writer.abort()
        }.map { (zone: $0.zone, writer: $0.started) }
    }

    /// Hands `chunk` to every writer; returns those that took it (see ``together(_:quorum:step:logger:_:)``).
    func writeChunk(_ chunk: ByteBuffer, to writers: [(zone: String, writer: any BackendWriter)], quorum: Int,
                    logger: Logger) async -> [(zone: String, writer: any BackendWriter)] {
        let ok = await together(writers, quorum: quorum, step: "write", logger: logger) { try await $0.write(chunk) }
        return writers.enumerated().filter { ok.contains($0.offset) }.map(\.element)
    }

    /// Makes every writer's copy durable; returns the zones whose copies are, in the writers' order.
    func finish(_ writers: [(zone: String, writer: any BackendWriter)], quorum: Int, logger: Logger) async -> [String] {
        let ok = await together(writers, quorum: quorum, step: "finish", logger: logger) { try await $0.finish() }
        for (i, w) in writers.enumerated() where ok.contains(i) { state.health.recordSuccess(w.zone) }
        return writers.enumerated().filter { ok.contains($0.offset) }.map(\.element.zone)
    }

    /// Runs `step` for every writer at once; returns the indices of the writers it succeeded for.
    /// A writer it fails for is aborted, and its zone's failure recorded.
    ///
    /// Once `quorum` writers are done with the step, the others get the straggler grace
    /// (``GatewayConfiguration/stragglerGrace``, or as long as the quorum took if that is
    /// longer); a writer still busy then is cancelled, aborted and left behind, so that a
    /// provider that stopped answering holds the write up for the grace, not for the HTTP
    /// client's timeouts. Its zone is not counted as failed (it may only be slow; the health
    /// probes judge that), and its copy is made later like a failed zone's.
    func together(_ writers: [(zone: String, writer: any BackendWriter)], quorum: Int, step: String, logger: Logger,
                  _ body: @escaping @Sendable (any BackendWriter) async throws -> Void) async -> Set<Int> {
        if writers.count == 1 {
            // Nothing to wait for beside it: inline, without a child task.
            do {
                try await body(writers[0].writer)
                return [0]
            } catch {
                logger.warning("backend \(step) failed", metadata: ["zone": "\(writers[0].zone)", "error": "\(error)"])
                zoneFailed(writers[0].zone, error)
                await writers[0].writer.abort()
                return []
            }
        }
        let grace = Duration.seconds(state.configuration.stragglerGrace)
        let cutOff = WriteFlag()
        return await withTaskGroup(of: Step.self) { group in
            for (i, w) in writers.enumerated() {
                group.addTask {
                    do {
                        try await body(w.writer)
                        return .done(i, true)
                    } catch {
                        if cutOff.isSet {
                            logger.warning("zone left behind: it took longer than the straggler grace; the replication worker makes its copy",
                                           metadata: ["zone": "\(w.zone)", "step": "\(step)"])
                            state.metrics.recordZoneLeftBehind(zone: w.zone)
                        } else {
                            logger.warning("backend \(step) failed", metadata: ["zone": "\(w.zone)", "error": "\(error)"])
                            zoneFailed(w.zone, error)
                        }
                        await w.writer.abort()
                        return .done(i, false)
                    }
                }
            }
            let started = ContinuousClock.now
            var ok = Set<Int>()
            var pending = writers.count
            var timing = false
            while pending > 0, let result = await group.next() {
                switch result {
                case .done(let i, let success):
                    pending -= 1
                    if success { ok.insert(i) }
                    if !timing, pending > 0, ok.count >= quorum {
                        timing = true
                        let wait = max(grace, ContinuousClock.now - started)
                        group.addTask {
                            try? await Task.sleep(for: wait)
                            return .graceOver
                        }
                    }
                case .graceOver:
                    if pending > 0, !Task.isCancelled {
                        cutOff.set()
                        group.cancelAll()
                    }
                }
            }
            // The timer, when every writer was done before it.
            group.cancelAll()
            return ok
        }
    }

    private enum Step: Sendable {
        case done(Int, Bool)
        case graceOver
    }

    func abort(_ writers: [(zone: String, writer: any BackendWriter)]) async {
        await withTaskGroup(of: Void.self) { group in
            for w in writers { group.addTask { await w.writer.abort() } }
        }
    }
}

/// Whether a step's stragglers were cancelled by ``WriteCoordinator/together(_:quorum:step:logger:_:)``.
final class WriteFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String { Hex.encode(self) }
}
