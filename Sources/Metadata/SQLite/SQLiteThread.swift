import Foundation

/// A task executor backed by one dedicated thread: each SQLite connection has its own.
///
/// A transaction runs its whole body here (`withTaskExecutorPreference`), and the body's
/// statements call libsqlite3 synchronously on this thread. A transaction therefore costs two
/// thread hand-offs (in and out) instead of several per statement, and the blocking calls
/// (page reads, a checkpoint's fsync, `synchronous = FULL` commits) never occupy a thread of
/// the cooperative pool that serves requests.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var exited = false

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        condition.lock()
        if exited {
            condition.unlock()
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(UnownedJob(job))
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs already queued ran. Jobs enqueued later still run on
    /// a thread of the global executor, so nothing waiting on this executor is ever lost.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                exited = true
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
