import Foundation

/// The circuit breaker of one backend, as a state machine without I/O.
///
/// - closed: requests flow; `failureThreshold` consecutive failures (real requests or probes)
///   open it.
/// - open: the zone is skipped by writes (the next candidate of the plan takes its place), by
///   reads (the next replica) and by the replication worker. After `openDuration` it lets
///   trial traffic through (half-open); a successful probe does the same sooner.
/// - half-open: the next success closes it, the next failure opens it again.
///
/// A zone taken down explicitly (``trip()``, e.g. unreachable at start-up) stays open until a
/// probe or request succeeds: only evidence brings it back.
struct CircuitBreaker: Sendable, Hashable {
    enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half-open"
    }

    struct Configuration: Sendable, Hashable {
        /// Consecutive failures that open a closed breaker.
        var failureThreshold = 3
        /// How long an opened breaker refuses traffic before a trial.
        var openDuration: TimeInterval = 15
    }

    let configuration: Configuration
    private(set) var state: State = .closed
    private(set) var consecutiveFailures = 0
    /// When an open breaker lets a trial through; nil while it waits for a success.
    private(set) var openUntil: Date?

    init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Whether a request may go to the backend at `now` (an open breaker whose time is up
    /// becomes half-open).
    mutating func allowsRequest(now: Date) -> Bool {
        switch state {
        case .closed, .halfOpen:
            return true
        case .open:
            guard let openUntil, now >= openUntil else { return false }
            state = .halfOpen
            return true
        }
    }

    /// A request or probe succeeded.
    mutating func recordSuccess() {
        state = .closed
        consecutiveFailures = 0
        openUntil = nil
    }

    /// A request failed in a way that says the backend is unwell.
    mutating func recordFailure(now: Date) {
        consecutiveFailures += 1
        switch state {
        case .closed where consecutiveFailures >= configuration.failureThreshold, .halfOpen:
            open(until: now.addingTimeInterval(configuration.openDuration))
        case .open where openUntil != nil:
            openUntil = now.addingTimeInterval(configuration.openDuration)
        case .closed, .open:
            break
        }
    }

    /// A health probe answered: an open breaker lets trial traffic through at once; the
    /// failure count of real requests is left alone (a backend can answer probes and still
    /// fail writes).
    mutating func recordProbeSuccess() {
        if state == .open { state = .halfOpen }
    }

    /// A health probe failed: the backend does not answer at all, so the breaker opens until a
    /// probe answers again.
    mutating func recordProbeFailure() {
        consecutiveFailures += 1
        open(until: nil)
    }

    /// Opens the breaker until a success (the zone is known to be down).
    mutating func trip() {
        open(until: nil)
    }

    private mutating func open(until: Date?) {
        state = .open
        openUntil = until
    }
}
