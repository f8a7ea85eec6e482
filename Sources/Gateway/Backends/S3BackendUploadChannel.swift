import NIOCore
import Synchronization

/// A single-slot hand-off between a writer and the HTTP client's body reader, with
/// back-pressure: `send` returns only once the reader has taken the buffer, so at most one
/// buffer per upload waits in memory.
///
/// The buffers the reader has taken are also kept while they add up to no more than
/// `keepLimit` bytes (they share storage with the buffers sent: nothing is copied). When the
/// request reading the body dies on a connection closed under it, ``rewind()`` hands them to
/// the next reader first, and the body goes out again on another connection without the writer
/// noticing.
final class UploadChannel: Sendable {
    private struct State {
        var pending: ByteBuffer?
        /// The writer waiting for its pending buffer to be taken.
        var sender: CheckedContinuation<Void, any Error>?
        /// The reader waiting for a buffer. One waits only when nothing is ready (no buffer to
        /// deliver again, none pending, not finished).
        var receiver: CheckedContinuation<ByteBuffer?, any Error>?
        var finished = false
        var failure: (any Error)?
        /// Since when the reader has had something to take (a buffer, the end) and not come
        /// for it: the request stopped taking the body. Nil while it has nothing to take.
        var waitingSince: ContinuousClock.Instant?
        /// Whether the reader has come for the body (since the last rewind): the request is on a
        /// connection. Before, it may be waiting for one behind other requests to the provider,
        /// which is not a stall.
        var readerCame = false
        /// When the reader had the end of the body (since the last rewind): the provider has it
        /// all and owes the answer. Nil while the reader has not had it.
        var endDeliveredAt: ContinuousClock.Instant?
        var endDelivered: Bool { endDeliveredAt != nil }
        /// Which reader may take buffers: one from before the last rewind gets an error.
        var epoch = 0
        /// The buffers the reader took, while they add up to no more than `keepLimit` bytes;
        /// nil once they would not.
        var taken: [ByteBuffer]? = []
        var takenBytes = 0
        let keepLimit: Int
        /// Buffers to deliver again after a rewind, before anything pending; the next is last.
        var replay: [ByteBuffer] = []

        /// A failure, else a buffer to deliver again, else the pending buffer (taken, with its
        /// writer), else the end; nil when the reader has to wait.
        fileprivate mutating func ready(epoch: Int) -> Ready? {
            if let failure { return .fail(failure) }
            guard epoch == self.epoch else { return .fail(BackendError(code: .io, message: "upload restarted")) }
            readerCame = true
            if let buffer = replay.popLast() {
                keep(buffer)
                tookSomething()
                return .take(buffer, nil)
            }
            if let buffer = pending {
                pending = nil
                keep(buffer)
                tookSomething()
                defer { sender = nil }
                return .take(buffer, sender)
            }
            guard finished, !endDelivered else { return finished ? .end : nil }
            endDeliveredAt = .now
            tookSomething()
            return .end
        }

        /// Whether the reader has something to take.
        var hasReady: Bool { pending != nil || !replay.isEmpty || (finished && !endDelivered) }

        /// The reader took something: what it has to take now waits from now.
        fileprivate mutating func tookSomething() {
            waitingSince = hasReady ? .now : nil
        }

        /// The writer gave the reader something to take.
        fileprivate mutating func gaveSomething() {
            if waitingSince == nil, hasReady { waitingSince = .now }
        }

        /// Notes a buffer handed to the reader.
        fileprivate mutating func keep(_ buffer: ByteBuffer) {
            guard taken != nil else { return }
            takenBytes += buffer.readableBytes
            if takenBytes > keepLimit {
                taken = nil
            } else {
                taken?.append(buffer)
            }
        }

        /// Drops the pending buffer and takes both waiting sides, to be resumed outside the lock.
        fileprivate mutating func takeWaiters() -> (CheckedContinuation<Void, any Error>?, CheckedContinuation<ByteBuffer?, any Error>?) {
            pending = nil
            defer { (sender, receiver) = (nil, nil) }
            return (sender, receiver)
        }
    }

    private let state: Mutex<State>

    /// `keepLimit`: up to how many bytes taken by a reader ``rewind()`` can deliver again.
    init(keepLimit: Int) {
        state = Mutex(State(keepLimit: keepLimit))
    }

    /// Hands `buffer` to the reader; returns when it has been taken.
    func send(_ buffer: ByteBuffer) async throws {
        // A reader already waiting takes the buffer at once, and the writer goes on without
        // suspending (a continuation resumed at once still goes through the executor's queue).
        let waiting: Result<CheckedContinuation<ByteBuffer?, any Error>, any Error>? = state.withLock { s in
            if let failure = s.failure { return .failure(failure) }
            if s.finished { return .failure(BackendError(code: .io, message: "write after finish")) }
            guard let receiver = s.receiver else { return nil }
            s.receiver = nil
            s.keep(buffer)
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
                    s.keep(buffer)
                    return .handOver(receiver)
                }
                s.pending = buffer
                s.sender = continuation
                s.gaveSomething()
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
            guard s.pending == nil, let receiver = s.receiver else {
                s.gaveSomething()
                return nil
            }
            s.receiver = nil
            s.endDeliveredAt = .now
            return receiver
        }
        receiver?.resume(returning: nil)
    }

    /// The request reading the body failed before the provider answered, and the body is to be
    /// sent again: the next reader (a new iterator) gets the buffers taken so far again, then
    /// the rest; the old reader gets an error. Returns false, and changes nothing, when those
    /// buffers were more than `keepLimit` bytes (no longer kept) or the channel failed.
    func rewind() -> Bool {
        let (rewound, stale): (Bool, CheckedContinuation<ByteBuffer?, any Error>?) = state.withLock { s in
            guard s.failure == nil, let taken = s.taken else { return (false, nil) }
            s.epoch += 1
            // A rewind while buffers are still being delivered again: the taken ones come first.
            s.replay += taken.reversed()
            (s.taken, s.takenBytes) = ([], 0)
            (s.endDeliveredAt, s.readerCame) = (nil, false)
            s.gaveSomething()
            defer { s.receiver = nil }
            return (true, s.receiver)
        }
        stale?.resume(throwing: BackendError(code: .io, message: "upload restarted"))
        return rewound
    }

    /// Fails both sides (the upload failed or was aborted).
    func fail(_ error: any Error) {
        let (sender, receiver) = state.withLock { s in
            if s.failure == nil { s.failure = error }
            return s.takeWaiters()
        }
        sender?.resume(throwing: error)
        receiver?.resume(throwing: error)
    }

    /// The reader's side: the next buffer, nil at the end. What is ready already (a buffer, the
    /// end, a failure) is returned without suspending. `epoch`: the reader's, from before any
    /// rewind that followed (nil: the current reader).
    func receive(epoch: Int? = nil) async throws -> ByteBuffer? {
        if let ready = state.withLock({ $0.ready(epoch: epoch ?? $0.epoch) }) { return try Self.deliver(ready) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            let ready: Ready? = state.withLock { s in
                if let ready = s.ready(epoch: epoch ?? s.epoch) { return ready }
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
        /// A buffer, and the writer waiting for it to be taken (none for one delivered again).
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

    /// How a request stopped making progress (``stall(longerThan:now:)``).
    enum Stall: Equatable {
        /// It left something ready for it (a buffer, the end of the body) untaken: the
        /// provider stopped reading the body.
        case body
        /// It took the whole body and has had no answer: the provider stopped answering.
        case answer
    }

    /// How the request has made no progress for longer than `limit`, if it has not: see
    /// ``Stall``. The time a request waits for a connection (behind the other requests to the
    /// provider, once the connections to it are all busy: ``ConnectionLoad``) does not count;
    /// connecting has the client's own connect timeout.
    func stall(longerThan limit: Duration, now: ContinuousClock.Instant = .now) -> Stall? {
        state.withLock { s in
            guard s.failure == nil, s.readerCame else { return nil }
            if let since = s.waitingSince, now - since > limit { return .body }
            if let end = s.endDeliveredAt, now - end > limit { return .answer }
            return nil
        }
    }

    /// How many times the channel was rewound.
    var rewinds: Int { state.withLock { $0.epoch } }

    /// The body for one request. Each request gets its own, made before it is sent: a request
    /// may start reading only after the next one has been made, and it must then get an error,
    /// not buffers.
    func reader() -> Reader { Reader(channel: self, epoch: state.withLock { $0.epoch }) }

    struct Reader: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let channel: UploadChannel
        let epoch: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            let channel: UploadChannel
            let epoch: Int
            mutating func next() async throws -> ByteBuffer? { try await channel.receive(epoch: epoch) }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: channel, epoch: epoch) }
    }
}
