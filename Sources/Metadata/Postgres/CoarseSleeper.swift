import Synchronization

/// Sleeps that one shared task ends, in place of `Task.sleep`, for the deadlines that every
/// PostgreSQL call starts and almost always cancels (see ``Deadline`` and
/// ``PostgresEngine/withConnectionDeadline(_:)``).
///
/// On Linux each `Task.sleep` is a Dispatch timer, and a cancelled one stays in Dispatch's
/// queue until it would have fired: with two deadlines of seconds per call, Dispatch's timer
/// threads took a fifth of the gateway's CPU on PostgreSQL. Here a sleep is an entry in a
/// table, removed when it is cancelled, and a single task wakes every ``tick`` while any sleep
/// is pending and ends the ones that are due. A sleep ends no earlier than asked and at most
/// about one tick later.
final class CoarseSleeper: Sendable {
    /// The sleeper of the PostgreSQL deadlines.
    static let shared = CoarseSleeper(tick: .milliseconds(20))

    private struct Sleeper {
        var until: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nextID: UInt64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
        /// Sleeps cancelled before they were entered in the table.
        var cancelled: Set<UInt64> = []
        var ticking = false
    }

    let tick: Duration
    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = tick
    }

    /// How many sleeps are pending.
    var pending: Int { state.withLock { $0.sleepers.count } }

    /// Returns after `duration`; throws `CancellationError` as soon as the task is cancelled.
    func sleep(for duration: Duration) async throws {
        let until = ContinuousClock.now + duration
        let id = state.withLock { s in
            s.nextID &+= 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (cancelled, startTicker) = state.withLock { s -> (Bool, Bool) in
                    if s.cancelled.remove(id) != nil { return (true, false) }
                    s.sleepers[id] = Sleeper(until: until, continuation: continuation)
                    defer { s.ticking = true }
                    return (false, !s.ticking)
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else if startTicker {
                    Task.detached { await self.runTicker() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let sleeper = s.sleepers.removeValue(forKey: id) { return sleeper }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        // A sleep cancelled before it was entered leaves its mark only until here.
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Ends the sleeps that are due, every tick, until none is pending.
    private func runTicker() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, more) = state.withLock { s -> ([CheckedContinuation<Void, any Error>], Bool) in
                let ids = s.sleepers.compactMap { $0.value.until <= now ? $0.key : nil }
                let due = ids.compactMap { s.sleepers.removeValue(forKey: $0)?.continuation }
                if s.sleepers.isEmpty { s.ticking = false }
                return (due, s.ticking)
            }
            for continuation in due { continuation.resume() }
            if !more { return }
        }
    }
}
