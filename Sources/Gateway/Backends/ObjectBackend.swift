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
    /// Streams the object's bytes (all, or the inclusive byte range).
    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream
    /// Size of the stored object, nil when absent.
    func size(of key: String) async throws -> Int64?
    /// Removes the object; no error when it is already gone.
    func delete(key: String) async throws
    /// A cheap probe for health checks.
    func probe() async -> Bool
    /// Creates the physical bucket (POST /initialize-bucket).
    func initialize(objectLock: Bool) async throws
    /// Joins objects of this backend (a multipart upload's parts), in order, into a new object
    /// `key` without the bytes passing through the gateway where the backend can; returns the
    /// new object's backend ETag when known. The parts stay.
    func assemble(parts: [BackendPart], into key: String, lock: BackendObjectLock?) async throws -> String?
}

/// One object of an ``ObjectBackend/assemble(parts:into:lock:)``.
struct BackendPart: Sendable, Hashable {
    var key: String
    var size: Int64
}

extension ObjectBackend {
    func makeWriter(key: String, expectedSize: Int64?) async throws -> any BackendWriter {
        try await makeWriter(key: key, expectedSize: expectedSize, lock: nil)
    }

    /// Copies the parts' bytes, read from this backend, into one new object (the way for
    /// backends without a server-side copy, such as a local folder).
    func assemble(parts: [BackendPart], into key: String, lock: BackendObjectLock?) async throws -> String? {
        let total = parts.reduce(Int64(0)) { $0 + $1.size }
        let writer = try await makeWriter(key: key, expectedSize: total, lock: lock)
        do {
            for part in parts {
                var copied: Int64 = 0
                for try await chunk in try await read(key: part.key, range: nil) {
                    copied += Int64(chunk.readableBytes)
                    try await writer.write(chunk)
                }
                guard copied == part.size else {
                    throw BackendError(code: .io, message: "\(zone): \(part.key) has \(copied) bytes; \(part.size) expected")
                }
            }
            try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
        return nil
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
    var description: String { message }
}
