import Crypto
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#if canImport(CDispatch)
// glibc's `struct stat` can be attributed to CDispatch, whose headers include <sys/stat.h>,
// when Foundation loaded that module first: with MemberImportVisibility, its initializer and
// fields then need this import (which build gets which depends on the order of compilation).
import CDispatch
#endif
#elseif canImport(Darwin)
import Darwin
#endif

/// Multipart uploads of a local folder. An upload is a folder
/// `ROOT/_multipart/BUCKET/<sha256(key)>/<random>` (outside the bucket folder, and named so no
/// bucket can be: bucket names have no `_`) holding one file per part, `part-N`. Completion
/// concatenates the parts into a temporary file (in ``partialDirectory``, as every write),
/// fsyncs it and renames it into place, then removes the folder; abort removes the folder. The upload id is
/// `<sha256(key)>.<random>`, so all uploads of a key share one folder and can be found
/// without a record of their ids.
extension LocalDiskBackend {
    var uploadsPath: String { root + "/_multipart/" + bucket }

    static func keyDigest(_ key: String) -> String { Array(SHA256.hash(data: Array(key.utf8))).hexString }

    /// The folder of an upload of `key`; nil for an id this backend did not make for that key.
    func uploadPath(key: String, uploadId: String) -> String? {
        let digest = Self.keyDigest(key)
        let prefix = digest + "."
        guard uploadId.hasPrefix(prefix) else { return nil }
        let random = uploadId.dropFirst(prefix.count)
        guard !random.isEmpty, random.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }) else { return nil }
        return uploadsPath + "/" + digest + "/" + random
    }

    func createMultipartUpload(key: String) async throws -> String {
        let uploadId = Self.keyDigest(key) + "." + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let folder = uploadPath(key: key, uploadId: uploadId)!
        try await threadPool.runIfActive { try Posix.makeDirectories(folder, syncingParents: syncFolder) }
        return uploadId
    }

    func makePartWriter(key: String, uploadId: String, partNumber: Int, expectedSize: Int64?) async throws
        -> any BackendPartWriter {
        guard let folder = uploadPath(key: key, uploadId: uploadId) else {
            throw BackendError(code: .notFound, message: "\(zone): no upload \(uploadId) of \(key)")
        }
        let final = folder + "/part-\(partNumber)"
        let temp = final + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let fd = try await threadPool.runIfActive { () throws -> Int32 in
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                // The upload's folder is gone: it was completed or aborted.
                throw errno == ENOENT ? BackendError(code: .notFound, message: "\(zone): no upload \(uploadId) of \(key)")
                    : Posix.error("open \(temp)")
            }
            return fd
        }
        return LocalDiskPartWriter(fd: fd, temp: temp, final: final, threadPool: threadPool, syncFolder: syncFolder)
    }

    func completeMultipartUpload(key: String, uploadId: String, parts: [BackendPart], size: Int64,
                                 lock: BackendObjectLock?) async throws -> String? {
        guard let folder = uploadPath(key: key, uploadId: uploadId) else {
            throw BackendError(code: .notFound, message: "\(zone): no upload \(uploadId) of \(key)")
        }
        let final = path(for: key)
        let (zone, syncFolder) = (self.zone, self.syncFolder)
        return try await threadPool.runIfActive { () throws -> String in
            var st = stat()
            if stat(final, &st) == 0 {
                // Completed before (its answer was lost, or the folder outlived a crash): the key
                // is this upload's own, so an object of the right size is its result.
                guard Int64(st.st_size) == size else {
                    throw BackendError(code: .alreadyExists, message: "\(zone): \(key) already exists")
                }
                try? Posix.removeUpload(folder)
                return Self.multipartETag(parts)
            }
            guard Posix.exists(folder) else {
                throw BackendError(code: .notFound, message: "\(zone): no upload \(uploadId) of \(key)")
            }
            try Posix.makeDirectories(Posix.folder(of: final), syncingParents: syncFolder)
            let (out, temp) = try self.createPartialFile()
            do {
                defer { close(out) }
                var total: Int64 = 0
                for part in parts {
                    let (copied, md5) = try Posix.append(folder + "/part-\(part.number)", to: out)
                    guard md5 == part.etag.lowercased() else {
                        throw BackendError(code: .io, message: "\(zone): part \(part.number) of \(uploadId) does not have ETag \(part.etag)")
                    }
                    total += copied
                }
                guard total == size else {
                    throw BackendError(code: .io, message: "\(zone): the parts of \(uploadId) hold \(total) bytes; \(size) expected")
                }
                guard fsync(out) == 0 else { throw Posix.error("fsync") }
                guard rename(temp, final) == 0 else { throw Posix.error("rename") }
            } catch {
                unlink(temp)
                throw error
            }
            try Posix.syncFolder(of: final, with: syncFolder)
            try? Posix.removeUpload(folder)
            return Self.multipartETag(parts)
        }
    }

    func abortMultipartUpload(key: String, uploadId: String) async throws {
        guard let folder = uploadPath(key: key, uploadId: uploadId) else { return }
        try await threadPool.runIfActive { try Posix.removeUpload(folder) }
    }

    func abortMultipartUploads(key: String) async throws {
        let folder = uploadsPath + "/" + Self.keyDigest(key)
        try await threadPool.runIfActive { try Posix.removeTree(folder) }
    }

    /// The S3 form of a multipart object's ETag: MD5 of the parts' MD5s, `-N`.
    static func multipartETag(_ parts: [BackendPart]) -> String {
        var md5 = Insecure.MD5()
        for part in parts { md5.update(data: S3Handlers.hexBytes(part.etag)) }
        return Array(md5.finalize()).hexString + "-\(parts.count)"
    }
}

/// One part of a local-disk upload: a ``LocalDiskWriter`` that replaces `part-N` (the last
/// upload of a part number wins). The part's ETag is the MD5 of its bytes.
final class LocalDiskPartWriter: BackendPartWriter, @unchecked Sendable {
    // Mutated only from one task at a time (the write coordinator awaits each call).
    private let file: LocalDiskWriter
    private var md5 = Insecure.MD5()
    private var digest: String?

    init(fd: Int32, temp: String, final: String, threadPool: NIOThreadPool, syncFolder: (@Sendable (String) throws -> Void)? = nil) {
        file = LocalDiskWriter(fd: fd, temp: temp, final: final, replacing: true, threadPool: threadPool, syncFolder: syncFolder)
    }

    func write(_ buffer: ByteBuffer) async throws {
        buffer.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
        try await file.write(buffer)
    }

    func finish() async throws {
        try await file.finish()
        digest = Array(md5.finalize()).hexString
    }

    func etag() async throws -> String {
        guard let digest else { throw BackendError(code: .io, message: "\(file.final) is not finished") }
        return digest
    }

    func abort() async { await file.abort() }
}

extension Posix {
    static func writeAll(_ fd: Int32, _ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error("write")
                }
                offset += n
            }
        }
    }

    /// Appends the file at `path` to `out`; returns the bytes copied and their MD5 (hex).
    static func append(_ path: String, to out: Int32) throws -> (Int64, String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? BackendError(code: .io, message: "\(path) is missing") : error("open \(path)")
        }
        defer { close(fd) }
        var md5 = Insecure.MD5()
        var total: Int64 = 0
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
        while true {
            buffer.clear()
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { raw in
                while true {
                    let n = read(fd, raw.baseAddress, raw.count)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw error("read \(path)") }
                    return n
                }
            }
            if n == 0 { return (total, Array(md5.finalize()).hexString) }
            buffer.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
            try writeAll(out, buffer)
            total += Int64(n)
        }
    }

    /// Removes an upload's folder, and its key's folder once no other upload is in it.
    static func removeUpload(_ folder: String) throws {
        try removeTree(folder)
        _ = rmdir(String(folder[..<folder.lastIndex(of: "/")!]))
    }

    /// Removes a folder and everything in it; no error when it is absent.
    static func removeTree(_ path: String) throws {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            if exists(path) { throw BackendError(code: .io, message: "remove \(path): \(error)") }
        }
    }
}
