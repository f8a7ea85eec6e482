import Synchronization

/// Timers and sleeps that one shared task ends, in place of a task sleeping in `Task.sleep`
/// each, for the deadlines that every PostgreSQL call starts and almost always cancels (see
/// ``Deadline`` and ``PostgresEngine/withConnectionDeadline(_:_:)``).
///
/// On Linux each `Task.sleep` is a Dispatch timer, and a cancelled one stays in Dispatch's
/// queue until it would have fired: with two deadlines of seconds per call, Dispatch's timer
/// threads took a fifth of the gateway's CPU on PostgreSQL. Here a timer is an entry in a
/// table, removed when it is cancelled, and a single task wakes every ``tick`` while any entry
/// is pending and ends the ones that are due. A timer fires no earlier than asked and at most
/// about one tick later (later still when the machine is short of CPU: then every due timer
/// fires together, which the callers must allow for).
final class CoarseSleeper: Sendable {
    /// The sleeper of the PostgreSQL deadlines.
    static let shared = CoarseSleeper(tick: .milliseconds(20))

    /// A scheduled action, to cancel it.
    struct Timer: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private enum Wake {
        case sleep(CheckedContinuation<Void, any Error>)
        case action(TaskPriority, @Sendable () -> Void)
    }

    private struct Entry {
        var until: ContinuousClock.Instant
        var wake: Wake
    }

    private struct State {
        var nextID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        /// Sleeps cancelled before they were entered in the table.
        var cancelled: Set<UInt64> = []
        var ticking = false

        mutating func makeID() -> UInt64 {
            nextID &+= 1
            return nextID
        }

        /// Enters `entry`; true if the ticker must be started.
        mutating func insert(_ id: UInt64, _ entry: Entry) -> Bool {
            entries[id] = entry
            defer { ticking = true }
            return !ticking
        }
    }

    let tick: Duration
    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = tick
    }

    /// How many timers and sleeps are pending.
    var pending: Int { state.withLock { $0.entries.count } }

    /// Runs `action` in a task of its own once `delay` has passed, unless ``cancel(_:)`` comes
    /// first. The task has the priority of the task that scheduled it, so that it queues behind
    /// the work it bounds when the machine is short of CPU: a deadline that fired straight from
    /// the ticker could end a call whose task had not yet had a thread to run on.
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Timer {
        let until = ContinuousClock.now + delay
        let priority = Task.currentPriority
        let (id, startTicker) = state.withLock { s -> (UInt64, Bool) in
            let id = s.makeID()
            return (id, s.insert(id, Entry(until: until, wake: .action(priority, action))))
        }
        if startTicker { startTicking() }
        return Timer(id: id)
    }

    /// Removes a scheduled action; false if it has already run (or is running).
    @discardableResult
    func cancel(_ timer: Timer) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: timer.id) != nil }
    }

    /// Returns after `duration`; throws `CancellationError` as soon as the task is cancelled.
    func sleep(for duration: Duration) async throws {
        let until = ContinuousClock.now + duration
        let id = state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (cancelled, startTicker) = state.withLock { s -> (Bool, Bool) in
                    if s.cancelled.remove(id) != nil { return (true, false) }
                    return (false, s.insert(id, Entry(until: until, wake: .sleep(continuation))))
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else if startTicker {
                    startTicking()
                }
            }
        } onCancel: {
            let entry = state.withLock { s -> Entry? in
                if let entry = s.entries.removeValue(forKey: id) { return entry }
                s.cancelled.insert(id)
                return nil
            }
            if case .sleep(let continuation) = entry?.wake { continuation.resume(throwing: CancellationError()) }
        }
        // A sleep cancelled before it was entered leaves its mark only until here.
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    private func startTicking() {
        Task.detached { await self.runTicker() }
    }

    /// Ends the sleeps and starts the actions that are due, every tick, until none is pending.
    private func runTicker() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, more) = state.withLock { s -> ([Wake], Bool) in
                let ids = s.entries.compactMap { $0.value.until <= now ? $0.key : nil }
                let due = ids.compactMap { s.entries.removeValue(forKey: $0)?.wake }
                if s.entries.isEmpty { s.ticking = false }
                return (due, s.ticking)
            }
            for wake in due {
                switch wake {
                case .sleep(let continuation): continuation.resume()
                case .action(let priority, let action): Task(priority: priority) { action() }
                }
            }
            if !more { return }
        }
    }
}
