import Synchronization
import Testing

@testable import Metadata

@Suite("Coarse sleeper")
struct CoarseSleeperTests {
    @Test func aSleepEndsNoEarlierThanAsked() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(10))
        let started = ContinuousClock.now
        try await sleeper.sleep(for: .milliseconds(50))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        #expect(sleeper.pending == 0)
    }

    /// A cancelled sleep throws at once (not when it would have ended) and leaves nothing behind.
    @Test func aCancelledSleepThrowsAndIsRemoved() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(10))
        let task = Task { try await sleeper.sleep(for: .seconds(3600)) }
        while sleeper.pending == 0 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(sleeper.pending == 0)
        // Cancelled before it starts.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await sleeper.sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(sleeper.pending == 0)
    }

    /// Many sleeps at once, of different lengths: all end, and the ticker stops; a later sleep
    /// starts it again.
    @Test func concurrentSleepsAllEnd() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(5))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask { try await sleeper.sleep(for: .milliseconds(i % 40)) }
            }
            try await group.waitForAll()
        }
        #expect(sleeper.pending == 0)
        try await sleeper.sleep(for: .milliseconds(15))
        #expect(sleeper.pending == 0)
    }
}

@Suite("Coarse sleeper timers")
struct CoarseSleeperTimerTests {
    /// A scheduled action runs once, no earlier than asked; a cancelled one never runs.
    @Test func anActionRunsOnceUnlessCancelled() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(5))
        let ran = Mutex<[String]>([])
        let started = ContinuousClock.now
        let ranAt = Mutex<ContinuousClock.Instant?>(nil)
        _ = sleeper.schedule(after: .milliseconds(30)) {
            ran.withLock { $0.append("kept") }
            ranAt.withLock { $0 = ContinuousClock.now }
        }
        let cancelled = sleeper.schedule(after: .milliseconds(10)) { ran.withLock { $0.append("cancelled") } }
        #expect(sleeper.cancel(cancelled))
        #expect(!sleeper.cancel(cancelled), "a timer is removed once")
        for _ in 0..<400 where ran.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(ran.withLock { $0 } == ["kept"])
        #expect(sleeper.pending == 0)
        let at = try #require(ranAt.withLock { $0 })
        #expect(at - started >= .milliseconds(30))
    }

    /// An action may schedule another (a wait checked again) and cancel timers, on the ticker.
    @Test func anActionCanScheduleAndCancel() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(5))
        let count = Mutex(0)
        @Sendable func again() {
            _ = sleeper.schedule(after: .milliseconds(5)) {
                let n = count.withLock { n -> Int in
                    n += 1
                    return n
                }
                if n < 3 { again() }
            }
        }
        again()
        let other = sleeper.schedule(after: .seconds(3600)) {}
        _ = sleeper.schedule(after: .milliseconds(5)) { sleeper.cancel(other) }
        // Each action runs in a task of its own, which schedules the next one.
        for _ in 0..<400 where count.withLock({ $0 }) < 3 || sleeper.pending > 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(count.withLock { $0 } == 3)
        #expect(sleeper.pending == 0)
    }
}
