#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemRead = Glibc.read
#elseif canImport(Musl)
private let systemRead = Musl.read
#elseif canImport(Darwin)
private let systemRead = Darwin.read
#endif

/// Reading whole files with POSIX calls: small, fast, no Foundation start-up cost.
public enum FileReader {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    public static func read(_ path: String, limit: Int = 64 * 1024 * 1024) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw Failure(path: path, reason: "is a directory") }
        var result: [UInt8] = []
        result.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit { throw Failure(path: path, reason: "larger than \(limit) bytes") }
        }
        return result
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Every regular file below `directory` whose name ends with one of `suffixes`, sorted by path;
    /// names starting with `.` included, `.git` directories left out.
    public static func files(under directory: String, suffixes: [String]) throws(Failure) -> [String] {
        var tooDeep: [String] = []
        return try files(under: directory, suffixes: suffixes, tooDeep: &tooDeep)
    }

    /// Directories more than this many levels below the starting directory are not read.
    public static let maxDirectoryDepth = 31

    /// As `files(under:suffixes:)`, also listing in `tooDeep` the directories that were not read
    /// because they lie more than `maxDirectoryDepth` levels down (a symbolic-link loop, say).
    public static func files(under directory: String, suffixes: [String], tooDeep: inout [String]) throws(Failure) -> [String] {
        var result: [String] = []
        try walk(directory, suffixes: suffixes, into: &result, tooDeep: &tooDeep, depth: 0)
        tooDeep.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return result.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func walk(_ directory: String, suffixes: [String], into result: inout [String],
                             tooDeep: inout [String], depth: Int) throws(Failure) {
        guard depth <= maxDirectoryDepth else {
            tooDeep.append(directory)
            return
        }
        guard let dir = opendir(directory) else {
            throw Failure(path: directory, reason: String(cString: strerror(errno)))
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            // Hidden files and directories are read too (every *.yaml/*.yml below the directory
            // is); only a Git repository's own directory is not policy content.
            if name == "." || name == ".." || name == ".git" { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if isDirectory(path) {
                try walk(path, suffixes: suffixes, into: &result, tooDeep: &tooDeep, depth: depth + 1)
            } else if suffixes.contains(where: { name.hasSuffix($0) }) {
                result.append(path)
            }
        }
    }
}
