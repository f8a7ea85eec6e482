import Foundation
import NIOCore
import Testing

@testable import Gateway

/// The backend multipart API, the same checks for a local folder and for moto.
enum BackendMultipartChecks {
    static func part(_ backend: any ObjectBackend, _ key: String, _ uploadId: String, _ n: Int, _ bytes: [UInt8]) async throws -> String {
        let writer = try await backend.makePartWriter(key: key, uploadId: uploadId, partNumber: n, expectedSize: Int64(bytes.count))
        try await writer.write(ByteBuffer(bytes: bytes))
        try await writer.finish()
        return try await writer.etag()
    }

    static func run(_ backend: any ObjectBackend, prefix: String) async throws {
        let key = prefix + "/joined.bin/st-1"
        let first = [UInt8](repeating: 7, count: 5 * 1024 * 1024)
        let second = Array("tail".utf8)
        let id = try await backend.createMultipartUpload(key: key)
        _ = try await part(backend, key, id, 1, Array("replaced".utf8))
        let e1 = try await part(backend, key, id, 1, first)
        #expect(e1 == md5Hex(first))
        let e2 = try await part(backend, key, id, 2, second)
        // A wrong ETag is refused and the upload stays.
        await #expect(throws: (any Error).self) {
            _ = try await backend.completeMultipartUpload(key: key, uploadId: id, parts: [.init(number: 1, etag: md5Hex(second)),
                                                                                       .init(number: 2, etag: e2)],
                                                          size: Int64(first.count + second.count), lock: nil)
        }
        let parts = [BackendPart(number: 1, etag: e1), BackendPart(number: 2, etag: e2)]
        let size = Int64(first.count + second.count)
        let etag = try await backend.completeMultipartUpload(key: key, uploadId: id, parts: parts, size: size, lock: nil)
        #expect(etag?.hasSuffix("-2") == true)
        #expect(try await collect(backend.read(key: key, range: nil)) == first + second)
        // A retry (the first answer was lost) finds the object.
        #expect(try await backend.completeMultipartUpload(key: key, uploadId: id, parts: parts, size: size, lock: nil) != nil)
        // The upload is gone: its parts cannot be written any more.
        await #expect(throws: (any Error).self) { _ = try await part(backend, key, id, 3, second) }

        // abortMultipartUploads finds every unfinished upload of a key without its id.
        let other = prefix + "/other.bin/st-2"
        var ids: [String] = []
        for _ in 0..<2 {
            ids.append(try await backend.createMultipartUpload(key: other))
            _ = try await part(backend, other, ids.last!, 1, second)
        }
        let sibling = other + "x"
        let kept = try await backend.createMultipartUpload(key: sibling)
        try await backend.abortMultipartUploads(key: other)
        for id in ids {
            await #expect(throws: (any Error).self) { _ = try await part(backend, other, id, 2, second) }
        }
        // Another key's upload is untouched.
        #expect(try await part(backend, sibling, kept, 1, second) == md5Hex(second))
        try await backend.abortMultipartUpload(key: sibling, uploadId: kept)
        try await backend.abortMultipartUpload(key: sibling, uploadId: kept)  // already gone: no error
        #expect(try await backend.size(of: other) == nil)
        #expect(try await backend.size(of: sibling) == nil)
    }
}

extension BackendMultipartChecks {
    /// ``MultipartBackendWriter`` cuts a stream of odd-sized chunks into parts of the part size
    /// and joins them; an aborted one leaves no upload and no object.
    static func streamingWriter(_ backend: any ObjectBackend, prefix: String) async throws {
        let partSize: Int64 = 5 * 1024 * 1024
        let bytes = (0..<(2 * Int(partSize) + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let key = prefix + "/large.bin/st-3"
        let writer = MultipartBackendWriter(backend: backend, key: key, size: Int64(bytes.count), partSize: partSize, lock: nil)
        var offset = 0
        var step = 700_001
        while offset < bytes.count {
            let n = min(step, bytes.count - offset)
            try await writer.write(ByteBuffer(bytes: bytes[offset..<offset + n]))
            offset += n
            step = step * 7 % 1_900_000 + 1
        }
        try await writer.finish()
        #expect(writer.etag?.hasSuffix("-3") == true, "\(writer.etag ?? "nil")")
        #expect(try await collect(backend.read(key: key, range: nil)) == bytes)

        let dropped = prefix + "/dropped.bin/st-4"
        let aborted = MultipartBackendWriter(backend: backend, key: dropped, size: Int64(bytes.count), partSize: partSize, lock: nil)
        try await aborted.write(ByteBuffer(bytes: bytes[0..<Int(partSize) + 10]))
        await aborted.abort()
        #expect(try await backend.size(of: dropped) == nil)
        // A short stream is refused at finish, not completed.
        let short = MultipartBackendWriter(backend: backend, key: dropped, size: Int64(bytes.count), partSize: partSize, lock: nil)
        try await short.write(ByteBuffer(bytes: bytes[0..<100]))
        await #expect(throws: (any Error).self) { try await short.finish() }
        await short.abort()
        #expect(try await backend.size(of: dropped) == nil)
        #expect(MultipartBackendWriter.partSize(for: 5 << 40, minimum: partSize) == 525 * 1024 * 1024)
        #expect(MultipartBackendWriter.partSize(for: 1 << 30, minimum: partSize) == partSize)
    }
}

@Suite("Backend multipart uploads")
struct BackendMultipartTests {
    @Test func localDisk() async throws {
        let root = NSTemporaryDirectory() + "mpu-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let backend = LocalDiskBackend(zone: "FI-HEL-ST-1", root: root, bucket: "2025-datatransfer")
        try await backend.initialize(objectLock: false)
        try await BackendMultipartChecks.run(backend, prefix: "media")
        try await BackendMultipartChecks.streamingWriter(backend, prefix: "media")
        // Nothing of the uploads is left.
        let left = FileManager.default.enumerator(atPath: backend.uploadsPath)?.allObjects as? [String] ?? []
        #expect(left.isEmpty, "\(left)")
    }

    @Test(.enabled(if: Moto.enabled)) func moto() async throws {
        let backend = try Moto.backend(try Moto.require(1)[0], bucket: Moto.uniqueName("mpu"))
        try await backend.initialize(objectLock: false)
        try await BackendMultipartChecks.run(backend, prefix: "media")
        try await BackendMultipartChecks.streamingWriter(backend, prefix: "media")
        #expect(try await Moto.uploads(backend, prefix: "").isEmpty)
    }
}
