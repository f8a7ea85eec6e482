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
    }

    private let state = Mutex(State())

    init() {}

    /// Hands `buffer` to the reader; returns when it has been taken.
    func send(_ buffer: ByteBuffer) async throws {
        // A reader already waiting takes the buffer at once, and the writer goes on without
        // suspending (a continuation resumed at once still goes through the executor's queue).
        let waiting: Result<CheckedContinuation<ByteBuffer?, any Error>, any Error>? = state.withLock { s in
            if let failure = s.failure { return .failure(failure) }
            if s.finished { return .failure(BackendError(code: .io, message: "write after finish")) }
            guard let receiver = s.receiver else { return nil }
            s.receiver = nil
            return .success(receiver)
        }
        if let waiting {
            try waiting.get().resume(returning: buffer)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Action { case fail(any Error), handOver(CheckedContinuation<ByteBuffer?, any Error>), wait }
            let action: Action = state.withLock { s in
                if let failure = s.failure { return .fail(failure) }
                if s.finished { return .fail(BackendError(code: .io, message: "write after finish")) }
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
            case .wait: break
            }
        }
    }

    /// Ends the body: the reader gets nil once the pending buffer is taken.
    func finish() {
        let receiver: CheckedContinuation<ByteBuffer?, any Error>? = state.withLock { s in
            s.finished = true
            guard s.pending == nil else { return nil }
            let r = s.receiver
            s.receiver = nil
            return r
        }
        receiver?.resume(returning: nil)
    }

    /// Fails both sides (the upload failed or was aborted).
    func fail(_ error: any Error) {
        let (sender, receiver): (CheckedContinuation<Void, any Error>?, CheckedContinuation<ByteBuffer?, any Error>?) = state.withLock { s in
            if s.failure == nil { s.failure = error }
            s.pending = nil
            let pair = (s.sender, s.receiver)
            s.sender = nil
            s.receiver = nil
            return pair
        }
        sender?.resume(throwing: error)
        receiver?.resume(throwing: error)
    }

    /// The reader's side: the next buffer, nil at the end.
    func receive() async throws -> ByteBuffer? {
        // A buffer already pending (or the end, or a failure) is returned without suspending.
        enum Ready { case fail(any Error), take(ByteBuffer, CheckedContinuation<Void, any Error>?), end }
        let ready: Ready? = state.withLock { s in
            if let failure = s.failure { return .fail(failure) }
            if let pending = s.pending {
                s.pending = nil
                let sender = s.sender
                s.sender = nil
                return .take(pending, sender)
            }
            return s.finished ? .end : nil
        }
        switch ready {
        case .fail(let error)?: throw error
        case .take(let buffer, let sender)?:
            sender?.resume()
            return buffer
        case .end?: return nil
        case nil: break
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            enum Action { case fail(any Error), take(ByteBuffer, CheckedContinuation<Void, any Error>?), end, wait }
            let action: Action = state.withLock { s in
                if let failure = s.failure { return .fail(failure) }
                if let pending = s.pending {
                    s.pending = nil
                    let sender = s.sender
                    s.sender = nil
                    return .take(pending, sender)
                }
                if s.finished { return .end }
                s.receiver = continuation
                return .wait
            }
            switch action {
            case .fail(let error): continuation.resume(throwing: error)
            case .take(let buffer, let sender):
                continuation.resume(returning: buffer)
                sender?.resume()
            case .end: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let channel: UploadChannel
        mutating func next() async throws -> ByteBuffer? { try await channel.receive() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: self) }
}
