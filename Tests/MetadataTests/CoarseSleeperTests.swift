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
