import Synchronization

/// A bound on how long a caller waits for work that may never finish.
enum Deadline {
    /// Lets the work of ``detached(_:error:onTimeout:settle:_:)`` end its call early.
    struct Control: Sendable {
        fileprivate let end: @Sendable (any Error) -> Void

        /// Resumes the caller with `error` now, and cancels the work's task.
        func fail(_ error: some Error & Sendable) {
            end(error)
        }
    }

    /// Runs `operation` in a task of its own and returns its result, or throws `error` once
    /// `timeout` has passed. On timeout (or when the caller is cancelled, or the operation calls
    /// ``Control/fail(_:)``) the operation's task is cancelled but not waited for, so a call
    /// stuck in a library cannot hold its caller. The timeout is a timer of
    /// ``CoarseSleeper/shared``, not a task, and counts from when the operation's task starts.
    ///
    /// `onTimeout`, when given, runs once the timeout has won, to free what the stuck operation
    /// holds (a connection: closing it makes the operation fail). The caller is then resumed as
    /// soon as the operation has ended, but after `settle` at the latest: its next call finds
    /// what was freed back in place, and a call stuck for good still cannot hold it long.
    ///
    /// `stalled`, when given, is asked every `every` while the operation runs whether it can
    /// still finish; once it says no, the call ends as if the timeout had passed (`onTimeout`,
    /// then the settle wait), without waiting out the rest of `timeout`. A call that is over
    /// within `every` never asks it.
    static func detached<Result: Sendable>(
        _ timeout: Duration, error: some Error & Sendable,
        onTimeout: (@Sendable () -> Void)? = nil, settle: Duration = .milliseconds(500),
        stalled: (every: Duration, check: @Sendable () -> Bool)? = nil,
        _ operation: @escaping @Sendable (Control) async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        let control = Control { race.finish(.failure($0)) }
        let expire: @Sendable () -> Void = {
            guard let onTimeout else {
                race.finish(.failure(error))
                return
            }
            guard race.expire() else { return }
            onTimeout()
            Task {
                await race.waitForWorkEnd(upTo: settle)
                race.finish(.failure(error))
            }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    // The timeout counts from here, when the work has a thread to run on: on a
                    // machine short of CPU a task can wait seconds for one, and that wait says
                    // nothing about the database.
                    if let stalled {
                        Self.watch(race, until: ContinuousClock.now + timeout, every: stalled.every,
                                   stalled: stalled.check, expire: expire)
                    } else {
                        race.attach(timer: CoarseSleeper.shared.schedule(after: timeout, expire))
                    }
                    let outcome: Swift.Result<Result, any Error>
                    do { outcome = .success(try await operation(control)) } catch { outcome = .failure(error) }
                    race.workEnded(outcome)
                }
                race.attach(work: work)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// Arms the timer of a call with a `stalled` check: it fires every `every` (the last time
    /// at `deadline`) and ends the call once the deadline has passed or the check fails.
    private static func watch<Result>(
        _ race: Race<Result>, until deadline: ContinuousClock.Instant, every: Duration,
        stalled: @escaping @Sendable () -> Bool, expire: @escaping @Sendable () -> Void
    ) {
        let now = ContinuousClock.now
        race.attach(timer: CoarseSleeper.shared.schedule(after: min(every, max(deadline - now, .zero))) {
            if ContinuousClock.now >= deadline || stalled() {
                expire()
            } else {
                watch(race, until: deadline, every: every, stalled: stalled, expire: expire)
            }
        })
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
        var timer: CoarseSleeper.Timer?
        /// The timer has won; the caller is resumed with its error after the settle wait.
        var expiring = false
        var workEnded = false
        var settleWaiter: CheckedContinuation<Void, Never>?
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

    func attach(timer: CoarseSleeper.Timer) {
        let finished = state.withLock { state -> Bool in
            state.timer = timer
            return state.outcome != nil
        }
        if finished { CoarseSleeper.shared.cancel(timer) }
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
        let (expiring, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            state.workEnded = true
            defer { state.settleWaiter = nil }
            return (state.expiring, state.settleWaiter)
        }
        if expiring {
            waiter?.resume()
        } else {
            finish(outcome)
        }
    }

    /// Returns once the work has ended, or after `limit`.
    func waitForWorkEnd(upTo limit: Duration) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state -> Bool in
                if state.workEnded { return true }
                state.settleWaiter = waiter
                return false
            }
            if ended {
                waiter.resume()
                return
            }
            _ = CoarseSleeper.shared.schedule(after: limit) {
                let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.settleWaiter = nil }
                    return state.settleWaiter
                }
                waiter?.resume()
            }
        }
    }

    func finish(_ outcome: Swift.Result<Result, any Error>) {
        let (continuation, work, timer) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, Task<Void, Never>?, CoarseSleeper.Timer?) in
            guard state.outcome == nil else { return (nil, nil, nil) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        continuation?.resume(with: outcome)
        work?.cancel()
        if let timer { CoarseSleeper.shared.cancel(timer) }
    }
}
