import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files of writes in progress.
///
/// A write streams into a file of its own in one folder of the bucket, ``partialDirectory``,
/// and is renamed into place once complete. A gateway killed mid-write (`kill -9`, power loss)
/// leaves that file behind. Keeping them in one folder means they can be found without walking
/// every object, cannot be mistaken for an object whose key merely looks like a temporary name,
/// and have short names: a key's last segment may take up all 255 bytes a file name has.
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
}
