import Synchronization
import Testing

@testable import Metadata

@Suite("Coarse sleeper")
struct CoarseSleeperTests {
    /// Many timers at once, of different lengths: all fire, once each, and the ticker stops; a
    /// later timer starts it again.
    @Test func manyTimersAllFireAndTheTickerStops() async throws {
        let sleeper = CoarseSleeper(tick: .milliseconds(5))
        let fired = Mutex<[Int]>([])
        for i in 0..<200 {
            _ = sleeper.schedule(after: .milliseconds(i % 40)) { fired.withLock { $0.append(i) } }
        }
        for _ in 0..<400 where fired.withLock({ $0.count }) < 200 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(fired.withLock { $0.sorted() } == Array(0..<200))
        #expect(sleeper.pending == 0)
        let again = Mutex(false)
        _ = sleeper.schedule(after: .milliseconds(15)) { again.withLock { $0 = true } }
        for _ in 0..<400 where !again.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(again.withLock { $0 })
        #expect(sleeper.pending == 0)
    }

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
