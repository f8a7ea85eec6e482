import NIOCore
import Synchronization

/// A single-slot hand-off between a writer and the HTTP client's body reader, with
/// back-pressure: `send` returns only once the reader has taken the buffer, so at most one
/// buffer per upload waits in memory.
final class UploadChannel: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private struct State {
        var pending: ByteBuffer?
        /// The writer waiting for its pending buffer to be taken.
        var sender: CheckedContinuation<Void, any Error>?
        /// The reader waiting for a buffer.
        var receiver: CheckedContinuation<ByteBuffer?, any Error>?
        var finished = false
        var failure: (any Error)?
        /// The request reading the body failed but the upload goes on (it will be sent again):
        /// buffers are taken from the writer and dropped.
        var discarding = false
        /// Waiting in ``waitUntilFinished()``.
        var finishWaiter: CheckedContinuation<Void, any Error>?

        /// A failure, else the pending buffer (taken, with its writer), else the end; nil when
        /// the reader has to wait.
        fileprivate mutating func ready() -> Ready? {
            if let failure { return .fail(failure) }
            if let buffer = pending {
                pending = nil
                defer { sender = nil }
                return .take(buffer, sender)
            }
            return finished ? .end : nil
        }

        /// Drops the pending buffer and takes both waiting sides, to be resumed outside the lock.
        fileprivate mutating func takeWaiters() -> (CheckedContinuation<Void, any Error>?, CheckedContinuation<ByteBuffer?, any Error>?) {
            pending = nil
            defer { (sender, receiver) = (nil, nil) }
            return (sender, receiver)
        }
    }

    private let state = Mutex(State())

    init() {}

    /// Hands `buffer` to the reader; returns when it has been taken.
    func send(_ buffer: ByteBuffer) async throws {
        // A reader already waiting takes the buffer at once, and the writer goes on without
        // suspending (a continuation resumed at once still goes through the executor's queue).
        let waiting: Result<CheckedContinuation<ByteBuffer?, any Error>?, any Error>? = state.withLock { s in
            if let failure = s.failure { return .failure(failure) }
            if s.finished { return .failure(BackendError(code: .io, message: "write after finish")) }
            if s.discarding { return .success(nil) }
            guard let receiver = s.receiver else { return nil }
            s.receiver = nil
            return .success(receiver)
        }
        if let waiting {
            try waiting.get()?.resume(returning: buffer)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Action { case fail(any Error), handOver(CheckedContinuation<ByteBuffer?, any Error>), dropped, wait }
            let action: Action = state.withLock { s in
                if let failure = s.failure { return .fail(failure) }
                if s.finished { return .fail(BackendError(code: .io, message: "write after finish")) }
                if s.discarding { return .dropped }
                if let receiver = s.receiver {
                    s.receiver = nil
                    return .handOver(receiver)
                }
                s.pending = buffer
                s.sender = continuation
                return .wait
            }
            switch action {
            case .fail(let error): continuation.resume(throwing: error)
            case .handOver(let receiver):
                receiver.resume(returning: buffer)
                continuation.resume()
            case .dropped: continuation.resume()
            case .wait: break
            }
        }
    }

    /// Ends the body: the reader gets nil once the pending buffer is taken.
    func finish() {
        let (receiver, waiter): (CheckedContinuation<ByteBuffer?, any Error>?, CheckedContinuation<Void, any Error>?) = state.withLock { s in
            s.finished = true
            let waiter = s.finishWaiter
            s.finishWaiter = nil
            guard s.pending == nil else { return (nil, waiter) }
            let r = s.receiver
            s.receiver = nil
            return (r, waiter)
        }
        receiver?.resume(returning: nil)
        waiter?.resume()
    }

    /// The reading request failed, and the body will be sent again from a copy: from now on
    /// the writer's buffers are taken and dropped, so that the writer can finish its body.
    func discard() {
        let (sender, receiver) = state.withLock { s in
            s.discarding = true
            return s.takeWaiters()
        }
        sender?.resume()
        receiver?.resume(throwing: BackendError(code: .io, message: "upload restarted"))
    }

    /// Returns once the writer has ended the body; throws if the upload fails first.
    func waitUntilFinished() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result: Result<Void, any Error>? = state.withLock { s in
                if let failure = s.failure { return .failure(failure) }
                if s.finished { return .success(()) }
                s.finishWaiter = continuation
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Fails both sides (the upload failed or was aborted).
    func fail(_ error: any Error) {
        let (sender, receiver, waiter) = state.withLock { s in
            if s.failure == nil { s.failure = error }
            let (sender, receiver) = s.takeWaiters()
            defer { s.finishWaiter = nil }
            return (sender, receiver, s.finishWaiter)
        }
        sender?.resume(throwing: error)
        receiver?.resume(throwing: error)
        waiter?.resume(throwing: error)
    }

    /// The reader's side: the next buffer, nil at the end. What is ready already (a pending
    /// buffer, the end, a failure) is returned without suspending.
    func receive() async throws -> ByteBuffer? {
        if let ready = state.withLock({ $0.ready() }) { return try Self.deliver(ready) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            let ready: Ready? = state.withLock { s in
                if let ready = s.ready() { return ready }
                s.receiver = continuation
                return nil
            }
            guard let ready else { return }
            continuation.resume(with: Result { try Self.deliver(ready) })
        }
    }

    /// What the reader can have without waiting.
    fileprivate enum Ready {
        case fail(any Error)
        /// The pending buffer, and the writer waiting for it to be taken.
        case take(ByteBuffer, CheckedContinuation<Void, any Error>?)
        case end
    }

    /// Releases the writer of a taken buffer; returns the buffer (nil at the end) or throws.
    private static func deliver(_ ready: Ready) throws -> ByteBuffer? {
        switch ready {
        case .fail(let error):
            throw error
        case .take(let buffer, let sender):
            sender?.resume()
            return buffer
        case .end:
            return nil
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let channel: UploadChannel
        mutating func next() async throws -> ByteBuffer? { try await channel.receive() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: self) }
}
