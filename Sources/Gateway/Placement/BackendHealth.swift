import Foundation
import Logging
import Synchronization

/// The circuit breakers of all backends, shared by the write path, the read path, the
/// replication worker and the health prober. Breaker changes are logged.
final class BackendHealth: Sendable {
    struct Snapshot: Sendable, Hashable {
        var state: CircuitBreaker.State
        var consecutiveFailures: Int
    }

    private let breakers: Mutex<[String: CircuitBreaker]>
    private let logger: Logger

    init(zones: some Sequence<String>, configuration: CircuitBreaker.Configuration = .init(), logger: Logger) {
        self.breakers = Mutex(Dictionary(uniqueKeysWithValues: zones.map { ($0, CircuitBreaker(configuration: configuration)) }))
        self.logger = logger
    }

    /// Whether requests may go to the zone now (false for a zone without a backend).
    func isAvailable(_ zone: String, now: Date = Date()) -> Bool {
        update(zone) { $0.allowsRequest(now: now) } ?? false
    }

    func recordSuccess(_ zone: String) {
        update(zone) { $0.recordSuccess() }
    }

    /// Counts `error` against the zone when it says the backend is unwell: a missing object
    /// or a refused overwrite is an answer, not a failure; cancellation says nothing, nor does
    /// a failure of the gateway's own making (``BackendError/Cause``: a client that paused its
    /// download, every connection to the provider busy).
    func recordFailure(_ zone: String, _ error: any Error, now: Date = Date()) {
        guard Self.isBackendFailure(error) else { return }
        update(zone) { $0.recordFailure(now: now) }
    }

    func recordProbe(_ zone: String, healthy: Bool) {
        update(zone) { healthy ? $0.recordProbeSuccess() : $0.recordProbeFailure() }
    }

    /// Opens the zone's breaker until it is seen to work (`healthy == false`), or closes it.
    func force(_ zone: String, healthy: Bool) {
        update(zone) { healthy ? $0.recordSuccess() : $0.trip() }
    }

    var snapshot: [String: Snapshot] {
        breakers.withLock { table in table.mapValues { Snapshot(state: $0.state, consecutiveFailures: $0.consecutiveFailures) } }
    }

    static func isBackendFailure(_ error: any Error) -> Bool {
        if error is CancellationError { return false }
        if let backend = error as? BackendError {
            guard backend.cause == .provider else { return false }
            switch backend.code {
            case .notFound, .alreadyExists: return false
            case .unavailable, .io: return true
            }
        }
        return true
    }

    @discardableResult
    private func update<T: Sendable>(_ zone: String, _ body: (inout CircuitBreaker) -> T) -> T? {
        let (result, change) = breakers.withLock { table -> (T?, (CircuitBreaker.State, CircuitBreaker.State)?) in
            guard var breaker = table[zone] else { return (nil, nil) }
            let before = breaker.state
            let result = body(&breaker)
            table[zone] = breaker
            return (result, before == breaker.state ? nil : (before, breaker.state))
        }
        if let (from, to) = change {
            logger.notice("backend circuit breaker changed", metadata: [
                "zone": "\(zone)", "breaker.from": "\(from.rawValue)", "breaker.to": "\(to.rawValue)",
            ])
        }
        return result
    }
}
