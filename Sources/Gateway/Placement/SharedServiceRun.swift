import Foundation
import Logging
import Metadata
import ServiceLifecycle
import Synchronization

/// Background work that the instances sharing a metadata store take turns at: a run is due
/// `interval` after the last one ended on any of them, one instance claims it in
/// `service_runs` (``MetadataStore/claimServiceRun(name:holder:now:lease:interval:)``) and
/// holds it by renewing a lease; if it dies, the lease runs out and another takes over.
struct SharedServiceRun: Sendable {
    let store: any MetadataStore
    /// The work's row in `service_runs`.
    let name: String
    /// This instance's name there.
    let holder: String
    /// How long a claimed run is this instance's without a renewal.
    let lease: TimeInterval
    /// Time from the end of one run to the start of the next.
    let interval: Duration

    struct LeaseLost: Error, CustomStringConvertible {
        let name: String
        var description: String { "another instance took over the \(name) run (this one's lease ran out)" }
    }

    /// Runs `body` when a run is due and this instance claims it; nil when it is not due or
    /// another instance has it. `body` calls `renew` often (between items of its walk): it
    /// renews the lease once a third of it has passed, and throws ``LeaseLost`` when another
    /// instance took the run over, which ends it.
    func runIfDue<Result: Sendable>(
        now: @escaping @Sendable () -> Date,
        _ body: (_ renew: @escaping @Sendable () async throws -> Void) async throws -> Result
    ) async throws -> Result? {
        let (store, name, holder, lease) = (store, name, holder, lease)
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        guard try await store.claimServiceRun(name: name, holder: holder, now: now(), lease: lease, interval: seconds) else {
            return nil
        }
        let renewed = Mutex(ContinuousClock.now)
        let result = try await body {
            guard renewed.withLock({ ContinuousClock.now - $0 >= .seconds(lease / 3) }) else { return }
            guard try await store.renewServiceRun(name: name, holder: holder, now: now(), lease: lease) else {
                throw LeaseLost(name: name)
            }
            renewed.withLock { $0 = .now }
        }
        try await store.finishServiceRun(name: name, holder: holder, now: now())
        return result
    }
}

extension SharedServiceRun {
    /// A service's loop: after start-up and `firstDelay`, `pass` (which runs when a run is
    /// due) every `checkEvery`, until graceful shutdown; a failed pass is logged as `failure`
    /// and the loop goes on.
    static func loop(state: GatewayState, firstDelay: Duration, checkEvery: Duration, failure: String,
                     _ pass: @escaping @Sendable () async throws -> Void) async {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            try? await Task.sleep(for: firstDelay)
            while !Task.isCancelled {
                do {
                    try await pass()
                } catch is CancellationError {
                    return
                } catch {
                    state.logger.warning("\(failure)", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: checkEvery)
            }
        }
    }
}
