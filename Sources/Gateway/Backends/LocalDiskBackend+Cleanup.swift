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

/// The temporary files of writes in progress, and the removal of those a crash left behind.
///
/// A write streams into a file of its own in one folder of the bucket, ``partialDirectory``,
/// and is renamed into place once complete. A gateway killed mid-write (`kill -9`, power loss)
/// leaves that file; the reconciler removes it once it has not been written to for the intent
/// grace period (see ``removeStalePartials(notModifiedSince:)``). Keeping them in one folder
/// means they are found without walking every object, cannot be mistaken for an object whose
/// key merely looks like a temporary name, and have short names: a key's last segment may take
/// up all 255 bytes a file name has.
extension LocalDiskBackend {
    /// `%partial` under the bucket folder: no key's file is there, as the encoding of a key
    /// (see ``path(for:)``) writes `%` only before two hexadecimal digits, `2E…_` or `+`.
    var partialDirectory: String { bucketPath + "/%partial" }

    /// Creates a new, empty temporary file for a write (the folder too, if missing) and returns
    /// its descriptor and path. Blocking: called on the thread pool.
    func createPartialFile() throws -> (fd: Int32, path: String) {
        let name = String(UInt64.random(in: 0...UInt64.max), radix: 36) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let path = partialDirectory + "/" + name
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try Posix.makeDirectories(partialDirectory)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw Posix.error("open \(path)") }
        return (fd, path)
    }

    /// Removes the temporary files not modified since `cutoff`: writes that died with their
    /// gateway. A write in progress touches its file with every chunk, and a connection silent
    /// for the idle timeout is closed, so with a cutoff of the intent grace period (an hour by
    /// default) no live write loses its file, also when several gateways share the folder.
    /// Returns how many files were removed.
    func removeStalePartials(notModifiedSince cutoff: Date) async throws -> Int {
        let directory = partialDirectory
        return try await threadPool.runIfActive { () throws -> Int in
            guard let dir = opendir(directory) else {
                if errno == ENOENT { return 0 }
                throw Posix.error("opendir \(directory)")
            }
            defer { closedir(dir) }
            var removed = 0
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let path = directory + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                let modified = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
                guard modified < cutoff else { continue }
                if unlink(path) == 0 {
                    removed += 1
                } else if errno != ENOENT {
                    throw Posix.error("unlink \(path)")
                }
            }
            return removed
        }
    }
}
