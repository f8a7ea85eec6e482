import NIOCore

/// Writes one object through the backend's multipart API, for objects too large for a single
/// PUT (S3 takes at most 5 GiB in one request): the bytes are cut into parts of `partSize`
/// as they stream by, each part is made durable before the next starts, and `finish` joins them.
/// Nothing is held in memory beyond the chunk being written.
final class MultipartBackendWriter: BackendWriter, @unchecked Sendable {
    // Mutated only from one task at a time (callers await each call), as the other writers.
    private let backend: any ObjectBackend
    private let key: String
    private let size: Int64
    private let partSize: Int64
    private let lock: BackendObjectLock?
    private var uploadId: String?
    private var part: (writer: any BackendPartWriter, written: Int64)?
    private var parts: [BackendPart] = []
    private var written: Int64 = 0
    /// The backend's ETag of the completed object, once `finish` returned.
    private(set) var etag: String?

    /// The part size for an object of `size` bytes: at least `minimum` and large enough that
    /// no more than 10,000 parts are needed (S3's limit), rounded up to whole MiB.
    static func partSize(for size: Int64, minimum: Int64) -> Int64 {
        let mib: Int64 = 1024 * 1024
        let needed = (size + 9_999) / 10_000
        return max(minimum, (needed + mib - 1) / mib * mib)
    }

    init(backend: any ObjectBackend, key: String, size: Int64, partSize: Int64, lock: BackendObjectLock?) {
        self.backend = backend
        self.key = key
        self.size = size
        self.partSize = partSize
        self.lock = lock
    }

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            if part == nil { try await startPart() }
            let room = Int(min(Int64(Int.max), partSize - part!.written))
            let slice = buffer.readSlice(length: min(room, buffer.readableBytes))!
            try await part!.writer.write(slice)
            part!.written += Int64(slice.readableBytes)
            written += Int64(slice.readableBytes)
            if part!.written == partSize { try await finishPart() }
        }
    }

    func finish() async throws {
        guard written == size else {
            throw BackendError(code: .io, message: "\(backend.zone): \(written) bytes written to \(key); \(size) expected")
        }
        if part != nil { try await finishPart() }
        if uploadId == nil { try await startUpload() }  // an empty object: one empty part
        if parts.isEmpty {
            try await startPart()
            try await finishPart()
        }
        etag = try await backend.completeMultipartUpload(key: key, uploadId: uploadId!, parts: parts, size: size, lock: lock)
    }

    func abort() async {
        if let part { await part.writer.abort() }
        part = nil
        if let uploadId { try? await backend.abortMultipartUpload(key: key, uploadId: uploadId) }
    }

    private func startUpload() async throws {
        uploadId = try await backend.createMultipartUpload(key: key)
    }

    private func startPart() async throws {
        if uploadId == nil { try await startUpload() }
        let number = parts.count + 1
        let expected = min(partSize, size - written)
        part = (try await backend.makePartWriter(key: key, uploadId: uploadId!, partNumber: number, expectedSize: expected), 0)
    }

    private func finishPart() async throws {
        guard let current = part else { return }
        try await current.writer.finish()
        parts.append(BackendPart(number: parts.count + 1, etag: try await current.writer.etag()))
        part = nil
    }
}
