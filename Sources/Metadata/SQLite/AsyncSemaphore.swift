import Foundation

/// A FIFO counting semaphore for tasks: the single SQLite writer (1 permit) and the reader pool.
final class AsyncSemaphore: @unchecked Sendable {
    private let lock = NSLock()
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        self.permits = permits
    }

    func wait() async {
        // Always through a continuation, even with a free permit: the task then passes through
        // its executor's queue, so a loop of transactions (which run on the caller's thread)
        // gives way to other tasks at every one. Taking a free permit directly starved the WAL
        // checkpointer under four tasks committing in a loop.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = lock.withLock {
                if permits > 0 {
                    permits -= 1
                    return true
                }
                waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    func signal() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if waiters.isEmpty {
                permits += 1
                return nil
            }
            return waiters.removeFirst()
        }
        next?.resume()
    }

    /// Whether a task is waiting for a permit (one will take it after the holder).
    var hasWaiters: Bool {
        lock.withLock { !waiters.isEmpty }
    }

    func withPermit<Result>(_ body: () async throws -> Result) async throws -> Result {
        await wait()
        defer { signal() }
        return try await body()
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}
