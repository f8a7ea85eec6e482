import Synchronization

/// Timers that one shared task fires, in place of a task sleeping in `Task.sleep` each, for the
/// deadlines that every PostgreSQL call starts and almost always cancels (see ``Deadline`` and
/// ``PostgresEngine/withConnectionDeadline(_:_:)``).
///
/// On Linux each `Task.sleep` is a Dispatch timer, and a cancelled one stays in Dispatch's
/// queue until it would have fired: with two deadlines of seconds per call, Dispatch's timer
/// threads took a fifth of the gateway's CPU on PostgreSQL. Here a timer is an entry in a
/// table, removed when it is cancelled, and a single task wakes every ``tick`` while any entry
/// is pending and fires the ones that are due. A timer fires no earlier than asked and at most
/// about one tick later (later still when the machine is short of CPU: then every due timer
/// fires together, which the callers must allow for).
final class CoarseSleeper: Sendable {
    /// The timers of the PostgreSQL deadlines.
    static let shared = CoarseSleeper(tick: .milliseconds(20))

    /// A scheduled action, to cancel it.
    struct Timer: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var until: ContinuousClock.Instant
        var priority: TaskPriority
        var action: @Sendable () -> Void
    }

    private struct State {
        var nextID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var ticking = false
    }

    let tick: Duration
    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = tick
    }

    /// How many timers are pending.
    var pending: Int { state.withLock { $0.entries.count } }

    /// Runs `action` in a task of its own once `delay` has passed, unless ``cancel(_:)`` comes
    /// first. The task has the priority of the task that scheduled it, so that it queues behind
    /// the work it bounds when the machine is short of CPU: a deadline that fired straight from
    /// the ticker could end a call whose task had not yet had a thread to run on.
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Timer {
        let until = ContinuousClock.now + delay
        let priority = Task.currentPriority
        let (id, startTicker) = state.withLock { s -> (UInt64, Bool) in
            s.nextID &+= 1
            s.entries[s.nextID] = Entry(until: until, priority: priority, action: action)
            defer { s.ticking = true }
            return (s.nextID, !s.ticking)
        }
        if startTicker { startTicking() }
        return Timer(id: id)
    }

    /// Removes a scheduled action; false if it has already run (or is running).
    @discardableResult
    func cancel(_ timer: Timer) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: timer.id) != nil }
    }

    private func startTicking() {
        Task.detached { await self.runTicker() }
    }

    /// Starts the actions that are due, every tick, until none is pending.
    private func runTicker() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, more) = state.withLock { s -> ([Entry], Bool) in
                let ids = s.entries.compactMap { $0.value.until <= now ? $0.key : nil }
                let due = ids.compactMap { s.entries.removeValue(forKey: $0) }
                if s.entries.isEmpty { s.ticking = false }
                return (due, s.ticking)
            }
            for entry in due {
                Task(priority: entry.priority) { entry.action() }
            }
            if !more { return }
        }
    }
}
