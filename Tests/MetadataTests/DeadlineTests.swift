import Synchronization
import Testing

@testable import Metadata

/// ``Deadline/detached(_:error:onTimeout:settle:stalled:_:)``: the bound on a call that may never
/// finish, and the check that ends a call which can no longer finish before that bound.
@Suite("Deadline")
struct DeadlineTests {
    struct Expired: Error, Equatable {}

    /// Work that returns only once ``open()`` is called, whether or not it is cancelled: a call
    /// stuck in a library.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let open = state.withLock { state -> Bool in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if open { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// A call that ends in time keeps its result, though its check ran (and said it could go on).
    @Test func aCallThatEndsInTimeKeepsItsResult() async throws {
        let checks = Atomic<Int>(0)
        let result = try await Deadline.detached(
            .seconds(30), error: Expired(), onTimeout: { Issue.record("timed out") },
            stalled: (every: .milliseconds(20), check: {
                checks.add(1, ordering: .relaxed)
                return false
            })
        ) { _ in
            // Runs until it has been checked (a timer can fire late on a busy machine).
            for _ in 0..<1000 where checks.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            return 42
        }
        #expect(result == 42)
        #expect(checks.load(ordering: .relaxed) >= 2, "a call longer than the interval is checked")
    }

    /// A call that is over within the interval is never checked.
    @Test func aShortCallIsNeverChecked() async throws {
        let checks = Atomic<Int>(0)
        for i in 0..<50 {
            let result = try await Deadline.detached(
                .seconds(30), error: Expired(),
                stalled: (every: .seconds(5), check: {
                    checks.add(1, ordering: .relaxed)
                    return false
                })
            ) { _ in i }
            #expect(result == i)
        }
        #expect(checks.load(ordering: .relaxed) == 0)
    }

    /// Once the check says the call cannot finish, the call ends with the deadline's error long
    /// before the deadline, `onTimeout` runs once, and the caller waits no longer than the settle
    /// time for the stuck work.
    @Test func aStalledCallEndsBeforeItsDeadline() async throws {
        let gate = Gate()
        defer { gate.open() }
        let stalled = Atomic<Bool>(false)
        let freed = Atomic<Int>(0)
        let clock = ContinuousClock()
        let started = clock.now
        let call = Task {
            try await Deadline.detached(
                .seconds(300), error: Expired(), onTimeout: { freed.add(1, ordering: .relaxed) },
                settle: .milliseconds(200),
                stalled: (every: .milliseconds(50), check: { stalled.load(ordering: .relaxed) })
            ) { _ in
                await gate.wait()
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        stalled.store(true, ordering: .relaxed)
        await #expect(throws: Expired.self) { try await call.value }
        // 0.3 s, then one interval and the settle wait. Loose: a loaded machine running the
        // whole suite at once took 22 s; the deadline would take 300 s.
        #expect(clock.now - started < .seconds(90))
        #expect(clock.now - started >= .milliseconds(300))
        #expect(freed.load(ordering: .relaxed) == 1)
    }

    /// With a check that never fails, the deadline still ends a call that does not finish.
    @Test func theDeadlineStillEndsACallThatIsNeverStalled() async throws {
        let gate = Gate()
        defer { gate.open() }
        let freed = Atomic<Int>(0)
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: Expired.self) {
            _ = try await Deadline.detached(
                .milliseconds(400), error: Expired(), onTimeout: { freed.add(1, ordering: .relaxed) },
                settle: .milliseconds(100),
                stalled: (every: .milliseconds(50), check: { false })
            ) { _ in
                await gate.wait()
                return 1
            }
        }
        #expect(clock.now - started >= .milliseconds(400), "never before the deadline")
        #expect(freed.load(ordering: .relaxed) == 1)
    }
}
