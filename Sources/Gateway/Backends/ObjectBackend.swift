import Foundation
import Metadata
import NIOCore

/// Where a zone's bytes live: a real S3 provider or, for the embedded default, a local folder.
///
/// Keys are write-once: a backend key is never written twice (it includes the version's
/// storage id), so no replica is ever overwritten.
protocol ObjectBackend: Sendable {
    /// The catalog zone this backend serves.
    var zone: String { get }
    /// Starts a write of one object; bytes are pushed with `write` and made durable by `finish`.
    /// `lock` is the version's Object Lock, applied where the backend's bucket has Object Lock
    /// enabled (other backends ignore it).
    func makeWriter(key: String, expectedSize: Int64?, lock: BackendObjectLock?) async throws -> any BackendWriter
    /// Whether ``makeWriter(key:expectedSize:lock:)`` for a body of this size does no work
    /// before the first byte (no connection, no file): a write then records its intent first,
    /// rather than while its writers open.
    func writerOpensAtOnce(expectedSize: Int64?) -> Bool
    /// Streams the object's bytes (all, or the inclusive byte range).
    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream
    /// ``read(key:range:)`` for a reader with another replica to ask: one attempt (a backend
    /// that retries failed requests does not here), and a backend that waits for an answer
    /// waits less, so that the reader moves on to the next replica soon. Without
    /// `waitForConnection`, a backend whose connections are all busy with other requests fails
    /// at once (``BackendError/Cause/connectionsBusy``) rather than wait in line for one: the
    /// reader asks a replica whose provider is free first.
    func readOnce(key: String, range: ClosedRange<Int64>?, waitForConnection: Bool) async throws -> BackendReadStream
    /// Size of the stored object, nil when absent.
    func size(of key: String) async throws -> Int64?
    /// Removes the object; no error when it is already gone.
    func delete(key: String) async throws
    /// A cheap probe for health checks.
    func probe() async -> Bool
    /// Creates the physical bucket (POST /initialize-bucket).
    func initialize(objectLock: Bool) async throws

    // MARK: Multipart uploads (one per zone of a client's multipart upload)

    /// Starts a multipart upload of `key` in this zone; returns the backend's upload id.
    func createMultipartUpload(key: String) async throws -> String
    /// Starts the upload of part `partNumber` (1...10000): bytes are pushed with `write` and
    /// made durable by `finish`, replacing a part with the same number. Throws `.notFound`
    /// when the upload no longer exists.
    func makePartWriter(key: String, uploadId: String, partNumber: Int, expectedSize: Int64?) async throws
        -> any BackendPartWriter
    /// Joins the listed parts, in order, into the object `key` and ends the upload; `lock` is
    /// applied as by ``makeWriter(key:expectedSize:lock:)``. A retry after a completion whose
    /// answer was lost finds the upload gone and `key` holding `size` bytes: that object stands.
    /// Throws `.notFound` when the upload is gone and `key` does not hold the object. Returns
    /// the object's backend ETag when known.
    func completeMultipartUpload(key: String, uploadId: String, parts: [BackendPart], size: Int64,
                                 lock: BackendObjectLock?) async throws -> String?
    /// Drops one upload and its parts; no error when it is already gone.
    func abortMultipartUpload(key: String, uploadId: String) async throws
    /// Drops every unfinished upload of `key`: the cleanup of a crashed gateway, which may not
    /// have recorded the upload ids.
    func abortMultipartUploads(key: String) async throws
}

/// One part of a ``ObjectBackend/completeMultipartUpload(key:uploadId:parts:size:lock:)``.
struct BackendPart: Sendable, Hashable {
    var number: Int
    /// The backend's ETag of the part, without quotes.
    var etag: String
}

extension ObjectBackend {
    func writerOpensAtOnce(expectedSize: Int64?) -> Bool { false }

    func readOnce(key: String, range: ClosedRange<Int64>?, waitForConnection: Bool) async throws -> BackendReadStream {
        try await read(key: key, range: range)
    }

    /// ``readOnce(key:range:waitForConnection:)`` that waits for a busy provider's connection.
    func readOnce(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream {
        try await readOnce(key: key, range: range, waitForConnection: true)
    }

    func makeWriter(key: String, expectedSize: Int64?) async throws -> any BackendWriter {
        try await makeWriter(key: key, expectedSize: expectedSize, lock: nil)
    }
}

/// The Object Lock of a version, as a backend copy carries it.
struct BackendObjectLock: Sendable, Hashable {
    var retention: ObjectRetention?
    var legalHold: Bool

    /// Nil when there is nothing to lock.
    init?(retention: ObjectRetention?, legalHold: Bool) {
        guard retention != nil || legalHold else { return nil }
        self.retention = retention
        self.legalHold = legalHold
    }
}

protocol BackendWriter: Sendable {
    func write(_ buffer: ByteBuffer) async throws
    /// Makes the bytes durable under the key.
    func finish() async throws
    /// Drops what was written.
    func abort() async
}

/// The upload of one part of a backend multipart upload.
protocol BackendPartWriter: BackendWriter {
    /// The backend's ETag of the part (without quotes), once `finish` has returned.
    func etag() async throws -> String
}

/// The bytes of one read, pulled on demand (back-pressure: nothing is read ahead of the consumer).
struct BackendReadStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let next: @Sendable () async throws -> ByteBuffer?

    struct AsyncIterator: AsyncIteratorProtocol {
        let next: @Sendable () async throws -> ByteBuffer?
        mutating func next() async throws -> ByteBuffer? { try await next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(next: next) }
}

struct BackendError: Error, CustomStringConvertible {
    enum Code: Sendable { case notFound, alreadyExists, unavailable, io }
    let code: Code
    let message: String
    /// Whose doing the failure is: the provider's unless the gateway knows otherwise. Only the
    /// provider's failures count toward its circuit breaker (``BackendHealth``).
    enum Cause: Sendable {
        case provider
        /// A read whose reader stopped reading for longer than the provider's connection may
        /// stay silent (``S3BodyReader``): reading on from the same provider is as good as from
        /// any other.
        case readerPaused
        /// A request that found every connection to the provider busy with other requests and
        /// waited longer than `GATEWAY_BACKEND_CONNECTION_WAIT` (``ConnectionLoad``), or, a
        /// read with another replica to ask, did not wait.
        case connectionsBusy
        /// The provider asked the gateway to slow down (`503 SlowDown`, or `429`): it is up
        /// and answering, only not at this rate. Writes and reads back off and try again, and a
        /// request that still fails is answered `503 SlowDown`, so that clients back off too.
        case throttled
    }
    var cause = Cause.provider
    /// How long a provider that asked to slow down said to wait (its `Retry-After`).
    var retryAfter: TimeInterval?
    var description: String { message }
}
