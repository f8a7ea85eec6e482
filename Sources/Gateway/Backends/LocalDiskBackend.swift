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

/// A zone kept in a local folder (`file:PATH` in the backends file): the embedded default.
/// Writes go to a temporary file that is fsynced and renamed into place, so a reader never
/// sees a partial object and a crash leaves only a temporary file behind.
///
/// With `syncFolder` set, a write or a delete is also durable across a power loss when it
/// returns: each folder whose entries it changed (the object's, after the rename or the
/// removal; the parent of a folder it made) is synced too. Without it, an object's name
/// reaches the disk with the file system's next commit, which is as durable as SQLite's
/// `synchronous = NORMAL` commits and costs one `fsync` less per write. The gateway sets it when the metadata commits are synced
/// (PostgreSQL, or SQLite with `synchronous = FULL`): a version the metadata keeps after a
/// power loss then has its object too.
struct LocalDiskBackend: ObjectBackend {
    let zone: String
    let root: String
    let bucket: String
    let threadPool: NIOThreadPool
    /// Makes a folder's entries durable (``Posix/syncFolder(_:)``); nil: folders are not synced.
    let syncFolder: (@Sendable (String) throws -> Void)?

    init(zone: String, root: String, bucket: String, threadPool: NIOThreadPool = .singleton,
         syncFolder: (@Sendable (String) throws -> Void)? = nil) {
        self.zone = zone
        self.root = root
        self.bucket = bucket
        self.threadPool = threadPool
        self.syncFolder = syncFolder
    }

    var bucketPath: String { root + "/" + bucket }

    /// The file of a backend key. Keys are S3 keys and may hold anything, so every byte outside
    /// a safe set, and every `.`/`..` segment, is percent-encoded: nothing escapes the zone folder.
    /// An encoded segment longer than a file name may be (255 bytes; a 1024-byte key can have
    /// one) is cut into folders of 253 bytes, each ending in `%+`, which no encoding produces.
    func path(for key: String) -> String {
        var out = bucketPath + "/"
        for (i, segment) in key.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += "/" }
            if segment.isEmpty || segment == "." || segment == ".." {
                out += "%" + String(repeating: "2E", count: segment.count) + "_"
                continue
            }
            var encoded: [UInt8] = []
            for b in segment.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    encoded.append(b)
                default:
                    encoded += Array(("%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)).utf8)
                }
            }
            while encoded.count > 255 {
                out += String(decoding: encoded.prefix(253), as: UTF8.self) + "%+/"
                encoded.removeFirst(253)
            }
            out += String(decoding: encoded, as: UTF8.self)
        }
        return out
    }

    func initialize(objectLock: Bool) async throws {
        try await threadPool.runIfActive { try Posix.makeDirectories(bucketPath, syncingParents: syncFolder) }
    }

    /// A local folder has no Object Lock: `lock` is kept in the metadata only.
    func makeWriter(key: String, expectedSize: Int64?, lock: BackendObjectLock?) async throws -> any BackendWriter {
        let final = path(for: key)
        let (fd, temp) = try await threadPool.runIfActive { () throws -> (Int32, String) in
            if Posix.exists(final) { throw BackendError(code: .alreadyExists, message: "\(zone): \(key) already exists") }
            try Posix.makeDirectories(Posix.folder(of: final), syncingParents: syncFolder)
            return try createPartialFile()
        }
        // A small body is written by the same thread-pool job that makes it durable.
        let keep = expectedSize.map { $0 <= LocalDiskWriter.keptBodyLimit ? Int($0) : 0 } ?? 0
        return LocalDiskWriter(fd: fd, temp: temp, final: final, keepingUpTo: keep, threadPool: threadPool,
                               syncFolder: syncFolder)
    }

    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream {
        let p = path(for: key)
        let fd = try await threadPool.runIfActive { () throws -> Int32 in
            let fd = open(p, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw errno == ENOENT ? BackendError(code: .notFound, message: "\(zone): \(key) not found") : Posix.error("open \(p)")
            }
            return fd
        }
        let reader = LocalDiskReader(fd: fd, offset: range?.lowerBound ?? 0,
                                     end: range.map { $0.upperBound + 1 }, threadPool: threadPool)
        return BackendReadStream { try await reader.next() }
    }

    func size(of key: String) async throws -> Int64? {
        let p = path(for: key)
        return try await threadPool.runIfActive {
            var st = stat()
            guard stat(p, &st) == 0 else { return nil }
            return Int64(st.st_size)
        }
    }

    /// With `syncFolder`, a removal is durable too: a deleted object (an erased one, a retired
    /// copy) must not come back after a power loss as a file no record names. A file already
    /// gone is synced too: it may be the retry of a delete whose sync failed.
    func delete(key: String) async throws {
        let (p, syncFolder) = (path(for: key), self.syncFolder)
        try await threadPool.runIfActive {
            if unlink(p) != 0 && errno != ENOENT { throw Posix.error("unlink \(p)") }
            guard let syncFolder else { return }
            let folder = Posix.folder(of: p)
            // No folder, nothing of the object left to sync.
            if Posix.exists(folder) { try syncFolder(folder) }
        }
    }

    func probe() async -> Bool {
        (try? await threadPool.runIfActive { Posix.exists(root) || (try? Posix.makeDirectories(root)) != nil }) ?? false
    }
}

/// A write to a temporary file, fsynced and renamed into place by `finish` (which then syncs
/// the folder, with `syncFolder`). An object's file is write-once (`finish` refuses to replace
/// one); a multipart part's file replaces an earlier upload of the same part (`replacing`), and
/// its folder being gone means the upload is.
/// Up to `keepingUpTo` bytes are kept in memory and written by `finish`'s job: a small object
/// costs one thread-pool hand-off after the file is open instead of one per buffer plus one.
final class LocalDiskWriter: BackendWriter, @unchecked Sendable {
    /// Bodies up to this size (known in advance) are kept until `finish`.
    static let keptBodyLimit: Int64 = 64 * 1024

    // Mutated only from one task at a time (the write coordinator awaits each call).
    private let fd: Int32
    private let temp: String
    let final: String
    private let replacing: Bool
    private let threadPool: NIOThreadPool
    private let keepingUpTo: Int
    private let syncFolder: (@Sendable (String) throws -> Void)?
    /// Buffers not written yet (at most `keepingUpTo` bytes).
    private var kept: [ByteBuffer] = []
    private var keptBytes = 0
    private var closed = false

    init(fd: Int32, temp: String, final: String, replacing: Bool = false, keepingUpTo: Int = 0, threadPool: NIOThreadPool,
         syncFolder: (@Sendable (String) throws -> Void)? = nil) {
        self.fd = fd
        self.temp = temp
        self.final = final
        self.replacing = replacing
        self.keepingUpTo = keepingUpTo
        self.threadPool = threadPool
        self.syncFolder = syncFolder
    }

    func write(_ buffer: ByteBuffer) async throws {
        if keptBytes + buffer.readableBytes <= keepingUpTo {
            kept.append(buffer)
            keptBytes += buffer.readableBytes
            return
        }
        let (fd, pending) = (self.fd, kept + [buffer])
        (kept, keptBytes) = ([], 0)
        try await threadPool.runIfActive {
            for buffer in pending { try Posix.writeAll(fd, buffer) }
        }
    }

    func finish() async throws {
        let (fd, temp, final, replacing, pending) = (self.fd, self.temp, self.final, self.replacing, self.kept)
        let syncFolder = self.syncFolder
        (kept, keptBytes) = ([], 0)
        closed = true
        try await threadPool.runIfActive {
            defer { close(fd) }
            do {
                for buffer in pending { try Posix.writeAll(fd, buffer) }
            } catch {
                unlink(temp)
                throw error
            }
            guard fsync(fd) == 0 else { throw Posix.error("fsync") }
            if !replacing && Posix.exists(final) {
                unlink(temp)
                throw BackendError(code: .alreadyExists, message: "\(final) already exists")
            }
            guard rename(temp, final) == 0 else {
                let error = replacing && errno == ENOENT ? BackendError(code: .notFound, message: "the upload of \(final) is gone")
                    : Posix.error("rename")
                unlink(temp)
                throw error
            }
            try Posix.syncFolder(of: final, with: syncFolder)
        }
    }

    func abort() async {
        let (fd, temp, wasClosed) = (self.fd, self.temp, closed)
        (kept, keptBytes) = ([], 0)
        closed = true
        _ = try? await threadPool.runIfActive {
            if !wasClosed { close(fd) }
            unlink(temp)
        }
    }
}

final class LocalDiskReader: @unchecked Sendable {
    private let fd: Int32
    private var offset: Int64
    private let end: Int64?
    private let threadPool: NIOThreadPool
    private var done = false
    static let chunkSize = 256 * 1024

    init(fd: Int32, offset: Int64, end: Int64?, threadPool: NIOThreadPool) {
        self.fd = fd
        self.offset = offset
        self.end = end
        self.threadPool = threadPool
    }

    deinit { close(fd) }

    func next() async throws -> ByteBuffer? {
        if done { return nil }
        var want = LocalDiskReader.chunkSize
        if let end { want = Int(min(Int64(want), end - offset)) }
        if want <= 0 { done = true; return nil }
        let (fd, at, count) = (self.fd, self.offset, want)
        let buffer = try await threadPool.runIfActive { () throws -> ByteBuffer in
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                while true {
                    let n = pread(fd, raw.baseAddress, count, off_t(at))
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw Posix.error("read") }
                    return n
                }
            }
            _ = n
            return buffer
        }
        if buffer.readableBytes == 0 { done = true; return nil }
        offset += Int64(buffer.readableBytes)
        return buffer
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

enum Posix {
    static func error(_ what: String) -> BackendError {
        BackendError(code: .io, message: "\(what): \(String(cString: strerror(errno)))")
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// `mkdir -p`. The folder usually exists already (an object's folder when another object
    /// went there before): one `mkdir` finds it, where creating each folder from the root would
    /// cost one call per level (eight for a key two folders deep in a zone under `/srv/data`).
    /// Only when a parent is missing are the parents made, from the deepest one that exists.
    /// `syncingParents` is called with the parent of each folder made, after it is made, so
    /// that the new folder's entry is durable before anything is put in it.
    static func makeDirectories(_ path: String, syncingParents sync: ((String) throws -> Void)? = nil) throws {
        if path.isEmpty { return }
        if mkdir(path, 0o755) == 0 {
            try sync?(folder(of: path))
            return
        }
        if errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw error("mkdir \(path)")
        }
        try makeDirectories(String(path[..<slash]), syncingParents: sync)
        if mkdir(path, 0o755) == 0 {
            try sync?(folder(of: path))
        } else if errno != EEXIST {
            throw error("mkdir \(path)")
        }
    }

    /// The folder holding `path` (`.` for a bare name, `/` for a name at the root).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Syncs the folder of `file`, just renamed into place, with `sync` (nothing without it). A
    /// failure fails the write, and the file is removed: an object must not outlive its write.
    static func syncFolder(of file: String, with sync: ((String) throws -> Void)?) throws {
        do {
            try sync?(folder(of: file))
        } catch {
            unlink(file)
            throw error
        }
    }

    /// Makes the entries of the folder at `path` durable: `fsync` of the folder, which a file's
    /// own `fsync` does not cover (a renamed or new file's name lives in its folder).
    static func syncFolder(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync \(path)") }
    }
}
