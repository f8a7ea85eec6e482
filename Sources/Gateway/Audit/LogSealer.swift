import Foundation
import Logging
import Metadata
import ServiceLifecycle

/// Seals the operations log every `interval`: chains the entries written since the last batch
/// (``MetadataStore/sealLog(limit:seal:)``), so that a change to the log afterwards shows in
/// `GET /api/operations/log/verify`. Instances sharing a store may all run it; the store lets
/// one seal at a time. The chain's head is logged (at most every `anchorEvery`) and exported
/// as `gateway_log_sealed_entries`: copies of it kept elsewhere (a log collector) are what a
/// rewritten chain would have to match.
struct LogSealer: Service {
    let state: GatewayState
    let chain: LogChain
    var interval: Duration = .seconds(10)
    var batchSize = 1000
    var anchorEvery: Duration = .seconds(600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            var lastAnchor: ContinuousClock.Instant?
            while !Task.isCancelled {
                do {
                    let batch = try await sealOnce()
                    if let head = batch.head, batch.sealed > 0,
                       lastAnchor.map({ ContinuousClock.now - $0 >= anchorEvery }) ?? true {
                        lastAnchor = .now
                        state.logger.notice("operations log sealed", metadata: [
                            "log.seal.sequence": "\(head.sequence)", "log.seal.id": "\(head.id)", "log.seal.hash": "\(head.hash)",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    state.logger.warning("sealing the operations log failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Seals every entry ready to be sealed, a batch at a time; returns the total and the head.
    @discardableResult
    func sealOnce() async throws -> LogSealBatch {
        let chain = self.chain
        var total = LogSealBatch(sealed: 0, head: nil)
        while true {
            let batch = try await state.store.sealLog(limit: batchSize) { chain.hash(previous: $0, $1) }
            total.sealed += batch.sealed
            total.head = batch.head
            if batch.sealed < batchSize { break }
        }
        if let head = total.head { state.metrics.recordLogSealed(head) }
        return total
    }
}

/// Recomputes the operations log's chain every `interval` (``LogVerification``), one instance
/// of those sharing the store at a time, so that a change to a sealed entry raises an alert
/// without anyone asking: `gateway_log_chain_intact` becomes 0 and the problem is logged as an
/// error.
struct LogChainChecker: Service {
    let state: GatewayState
    let chain: LogChain
    var interval: Duration = .seconds(86_400)
    var firstDelay: Duration = .seconds(300)
    var lease: TimeInterval = 600
    var holder = "log-checker-" + GatewayState.newStorageId()

    static let runName = "log-chain-check"

    func run() async throws {
        await SharedServiceRun.loop(state: state, firstDelay: min(firstDelay, interval), checkEvery: min(.seconds(600), interval),
                                    failure: "checking the operations log's chain failed") { _ = try await runIfDue() }
    }

    func runIfDue(now: @escaping @Sendable () -> Date = { Date() }) async throws -> LogVerification.Report? {
        let run = SharedServiceRun(store: state.store, name: Self.runName, holder: holder, lease: lease, interval: interval)
        return try await run.runIfDue(now: now) { renew in
            let report = try await LogVerification(store: state.store, chain: chain).run(between: renew)
            state.metrics.recordLogChainCheck(intact: report.problem == nil)
            if let problem = report.problem {
                state.logger.error("the operations log was changed after it was sealed", metadata: [
                    "log.seal.sequence": "\(problem.sequence)", "log.id": "\(problem.id.map(String.init) ?? "-")",
                    "problem": "\(problem.what)", "log.checked": "\(report.checked)",
                ])
            } else {
                state.logger.notice("operations log chain checked", metadata: [
                    "log.checked": "\(report.checked)", "log.seal.sequence": "\(report.head?.sequence ?? 0)",
                    "log.seal.hash": "\(report.head?.hash ?? "-")",
                ])
            }
            return report
        }
    }
}
