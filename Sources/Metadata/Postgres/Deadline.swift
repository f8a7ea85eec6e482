import NIOCore
import NIOPosix
import Synchronization

/// A bound on how long a caller waits for work that may never finish.
///
/// The timers are tasks scheduled on an event loop (the caller's, when it runs on one), not
/// sleeping Swift tasks: a call that ends in time cancels them for the price of a removal from
/// the loop's queue, where a cancelled `Task.sleep` leaves its Dispatch timer to fire later.
/// Every metadata call has two of them.
enum Deadline {
    /// What a ``Watch`` decides each time it looks.
    enum Verdict: Sendable {
        /// Nothing more to watch.
        case stop
        /// Look again after the interval.
        case again
        /// Fail the call with this error now.
        case fail(any Error & Sendable)
    }

    /// A check made every `interval` while the work runs (for example: has it got a
    /// connection yet?), which can fail the call before its deadline.
    struct Watch: Sendable {
        var interval: Duration
        var check: @Sendable () -> Verdict
    }

    /// Runs `operation` in a task of its own and returns its result, or throws `error` once
    /// `timeout` has passed. On timeout (or when the caller is cancelled, or `watch` fails the
    /// call) the operation's task is cancelled but not waited for, so a call stuck in a library
    /// cannot hold its caller.
    ///
    /// `onTimeout`, when given, runs once the timeout has won, to free what the stuck operation
    /// holds (a connection: closing it makes the operation fail). The caller is then resumed as
    /// soon as the operation has ended, but after `settle` at the latest: its next call finds
    /// what was freed back in place, and a call stuck for good still cannot hold it long.
    static func detached<Result: Sendable>(
        _ timeout: Duration, error: some Error & Sendable,
        onTimeout: (@Sendable () -> Void)? = nil, settle: Duration = .milliseconds(500),
        watch: Watch? = nil,
        _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    let outcome: Swift.Result<Result, any Error>
                    do { outcome = .success(try await operation()) } catch { outcome = .failure(error) }
                    race.workEnded(outcome)
                }
                race.attach(work: work)
                race.schedule(loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                    guard let onTimeout else {
                        race.finish(.failure(error))
                        return
                    }
                    guard race.expire() else { return }
                    onTimeout()
                    race.settle(upTo: settle, on: loop, then: .failure(error))
                })
                if let watch { Self.look(watch, race: race, on: loop) }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    private static func look<Result>(_ watch: Watch, race: Race<Result>, on loop: any EventLoop) {
        race.schedule(loop.scheduleTask(in: .nanoseconds(watch.interval.nanoseconds)) {
            switch watch.check() {
            case .stop: return
            case .again: look(watch, race: race, on: loop)
            case .fail(let error): race.finish(.failure(error))
            }
        })
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for NIO's `TimeAmount`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : whole + attoseconds / 1_000_000_000
    }
}

/// The first of work, timer and cancellation to finish resumes the caller; the others are
/// cancelled. Once the timer has claimed the outcome (``expire()``), the work's own outcome
/// only ends the timer's wait for it.
private final class Race<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var outcome: Swift.Result<Result, any Error>?
        var work: Task<Void, Never>?
        var timers: [Scheduled<Void>] = []
        /// The timer has won; the caller is resumed with its error after the settle wait.
        var expiring = false
        var workEnded = false
        /// While expiring: what resumes the caller once the work has ended.
        var settled: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Result, any Error>) {
        let early = state.withLock { state -> Swift.Result<Result, any Error>? in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(work: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            state.work = work
            return state.outcome != nil
        }
        if finished { work.cancel() }
    }

    /// Keeps a timer, to cancel it when the race ends (at once if it already has).
    func schedule(_ timer: Scheduled<Void>) {
        let finished = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.timers.append(timer)
            return false
        }
        if finished { timer.cancel() }
    }

    /// Claims the outcome for the timer; false if the work or a cancellation came first.
    func expire() -> Bool {
        state.withLock { state -> Bool in
            guard state.outcome == nil, !state.workEnded else { return false }
            state.expiring = true
            return true
        }
    }

    /// The work's outcome: the caller's, unless the timer has claimed it.
    func workEnded(_ outcome: Swift.Result<Result, any Error>) {
        let (expiring, settled) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            state.workEnded = true
            defer { state.settled = nil }
            return (state.expiring, state.settled)
        }
        if expiring {
            settled?()
        } else {
            finish(outcome)
        }
    }

    /// After an expiry: resumes the caller with `outcome` once the work has ended, or after
    /// `limit`.
    func settle(upTo limit: Duration, on loop: any EventLoop, then outcome: Swift.Result<Result, any Error>) {
        let ended = state.withLock { state -> Bool in
            if state.workEnded { return true }
            state.settled = { self.finish(outcome) }
            return false
        }
        if ended {
            finish(outcome)
            return
        }
        loop.scheduleTask(in: .nanoseconds(limit.nanoseconds)) { self.finish(outcome) }
    }

    func finish(_ outcome: Swift.Result<Result, any Error>) {
        let (continuation, work, timers) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, Task<Void, Never>?, [Scheduled<Void>]) in
            guard state.outcome == nil else { return (nil, nil, []) }
            state.outcome = outcome
            state.settled = nil
            defer {
                state.continuation = nil
                state.timers = []
            }
            return (state.continuation, state.work, state.timers)
        }
        continuation?.resume(with: outcome)
        work?.cancel()
        for timer in timers { timer.cancel() }
    }
}
