import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Gateway

/// The files of local-disk writes: one file per version and no folder of its own; temporary
/// files in one folder per zone bucket, emptied by every finished write, and rid of what a
/// crashed gateway left there by the reconciler.
@Suite("Local-disk temporary files")
struct LocalDiskCleanupTests {
    /// `mkdir -p` from the deepest folder that exists: missing levels are made, existing ones
    /// are found, and a file in the way is an error.
    @Test func makeDirectoriesMakesWhatIsMissing() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mkdirs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var isFolder: ObjCBool = false
        try Posix.makeDirectories(root + "/a/b/c")
        #expect(FileManager.default.fileExists(atPath: root + "/a/b/c", isDirectory: &isFolder) && isFolder.boolValue)
        try Posix.makeDirectories(root + "/a/b/c")
        try Posix.makeDirectories(root + "/a/x/y/")
        #expect(FileManager.default.fileExists(atPath: root + "/a/x/y", isDirectory: &isFolder) && isFolder.boolValue)
        #expect(FileManager.default.createFile(atPath: root + "/a/file", contents: Data("x".utf8)))
        #expect(throws: BackendError.self) { try Posix.makeDirectories(root + "/a/file/below") }
        let relative = "mkdirs-relative-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: relative) }
        try Posix.makeDirectories(relative + "/one/two")
        #expect(FileManager.default.fileExists(atPath: relative + "/one/two", isDirectory: &isFolder) && isFolder.boolValue)
    }

    /// With `syncFolder`, a write syncs each folder it made into its parent, then the object's
    /// folder after the rename; a second object in that folder syncs only the folder; a
    /// completed multipart upload syncs its object's folder, a delete (and its retry) the
    /// folder it removed a file from; a write whose folder cannot be synced fails and leaves no object. Without
    /// it, nothing is synced.
    @Test func writesSyncTheFoldersTheyChange() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("folder-sync-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let synced = Mutex<[String]>([])
        let failing = Mutex<String?>(nil)
        let disk = LocalDiskBackend(zone: "FI-HEL-ST-1", root: root, bucket: "b", syncFolder: { folder in
            if failing.withLock({ $0 == folder }) { throw BackendError(code: .io, message: "fsync \(folder): EIO") }
            try Posix.syncFolder(folder)
            synced.withLock { $0.append(folder) }
        })
        func take() -> [String] { synced.withLock { folders in defer { folders = [] }; return folders } }
        func put(_ key: String, _ text: String) async throws {
            let writer = try await disk.makeWriter(key: key, expectedSize: Int64(text.utf8.count), lock: nil)
            try await writer.write(ByteBuffer(string: text))
            try await writer.finish()
        }
        try await disk.initialize(objectLock: false)
        #expect(take() == [root.components(separatedBy: "/").dropLast().joined(separator: "/"), root])

        try await put("x/y/first", "one")
        let folder = Posix.folder(of: disk.path(for: "x/y/first"))
        #expect(take() == [disk.bucketPath, disk.bucketPath + "/x", folder])
        try await put("x/y/second", "two")
        #expect(take() == [folder])

        let id = try await disk.createMultipartUpload(key: "x/y/large")
        let upload = try #require(disk.uploadPath(key: "x/y/large", uploadId: id))
        #expect(take().last == Posix.folder(of: upload))
        let part = try await disk.makePartWriter(key: "x/y/large", uploadId: id, partNumber: 1, expectedSize: 5)
        try await part.write(ByteBuffer(string: "parts"))
        try await part.finish()
        #expect(take() == [upload])
        let etag = try await part.etag()
        _ = try await disk.completeMultipartUpload(key: "x/y/large", uploadId: id, parts: [BackendPart(number: 1, etag: etag)],
                                                   size: 5, lock: nil)
        #expect(take() == [folder])
        #expect(try String(contentsOfFile: disk.path(for: "x/y/large"), encoding: .utf8) == "parts")

        try await disk.delete(key: "x/y/second")
        #expect(take() == [folder])
        #expect(!Posix.exists(disk.path(for: "x/y/second")))
        try await disk.delete(key: "x/y/second")
        #expect(take() == [folder])
        try await disk.delete(key: "gone/never")
        #expect(take().isEmpty)

        failing.withLock { $0 = folder }
        await #expect(throws: BackendError.self) { try await put("x/y/third", "three") }
        #expect(!Posix.exists(disk.path(for: "x/y/third")))
        #expect(try String(contentsOfFile: disk.path(for: "x/y/first"), encoding: .utf8) == "one")

        let plain = LocalDiskBackend(zone: "FI-HEL-ST-1", root: root + "/plain", bucket: "b")
        let writer = try await plain.makeWriter(key: "x/y/z", expectedSize: 1, lock: nil)
        try await writer.write(ByteBuffer(string: "z"))
        try await writer.finish()
        #expect(take().isEmpty)
        #expect(throws: BackendError.self) { try Posix.syncFolder(root + "/missing") }
    }

    /// The gateway gives its local-disk zones a folder sync when its metadata commits are
    /// synced (SQLite `synchronous = FULL`, PostgreSQL), and none with `NORMAL`.
    @Test func folderSyncFollowsTheCommitDurability() async throws {
        for (synchronous, syncs) in [(SQLiteMetadataStore.Configuration.Synchronous.normal, false), (.full, true)] {
            let gw = try await TestGateway.make { $0.sqliteSynchronous = synchronous }
            defer { gw.cleanUp() }
            let disk = try #require(gw.state.backends["FI-HEL-ST-1"] as? LocalDiskBackend)
            #expect((disk.syncFolder != nil) == syncs)
        }
        var configuration = GatewayConfiguration()
        configuration.databaseURL = "postgres://localhost/gateway"
        #expect(configuration.commitsAreSynced)
    }

    func partials(_ disk: LocalDiskBackend) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: disk.partialDirectory)) ?? []).sorted()
    }

    @Test func staleTemporaryFilesOfCrashedWritesAreRemovedLiveOnesKept() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            #expect(try await gw.put(client, "/docs/kept.txt", Array("committed".utf8)).status == .ok)
        }
        let disk = try #require(gw.state.backends["FI-HEL-ST-1"] as? LocalDiskBackend)
        // A finished write leaves no temporary file.
        #expect(partials(disk).isEmpty)

        // What `kill -9` during two uploads leaves: their temporary files, last written two
        // hours ago, which no intent or writer names any more.
        var crashed: [String] = []
        for _ in 0..<2 {
            let (fd, path) = try disk.createPartialFile()
            _ = "half an upload".withCString { write(fd, $0, strlen($0)) }
            close(fd)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: path)
            crashed.append(path)
        }
        // A write still streaming (written to just now).
        let live = try await disk.makeWriter(key: "docs/streaming.bin", expectedSize: nil, lock: nil)
        try await live.write(ByteBuffer(string: "first chunk"))
        #expect(partials(disk).count == 3)

        let report = try await Reconciler(state: gw.state, grace: 3600).reconcileOnce()
        #expect(report.removedPartials == 2)
        for path in crashed { #expect(!FileManager.default.fileExists(atPath: path)) }
        #expect(partials(disk).count == 1)

        // The live write goes on and completes; the committed object is untouched.
        try await live.write(ByteBuffer(string: ", second chunk"))
        try await live.finish()
        #expect(partials(disk).isEmpty)
        #expect(try String(contentsOfFile: disk.path(for: "docs/streaming.bin"), encoding: .utf8) == "first chunk, second chunk")
        try await gw.withClient { client in
            let r = try await gw.get(client, "/docs/kept.txt")
            #expect(r.status == .ok && r.body.text == "committed")
        }
        // Nothing left to remove.
        #expect(try await Reconciler(state: gw.state, grace: 3600).reconcileOnce().removedPartials == 0)
    }

    /// A small body stays in memory until `finish`, which writes, fsyncs and renames it in one
    /// thread-pool job; a larger one goes to its temporary file as it comes.
    @Test func smallBodiesAreWrittenByFinishLargerOnesAsTheyCome() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ld-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let disk = LocalDiskBackend(zone: "FI-HEL-ST-1", root: root, bucket: "b")
        try await disk.initialize(objectLock: false)
        let temporarySize = { () -> Int in
            let names = self.partials(disk)
            return names.reduce(0) { total, name in
                total + ((try? FileManager.default.attributesOfItem(atPath: disk.partialDirectory + "/" + name)[.size] as? Int) ?? 0)
            }
        }

        let small = try await disk.makeWriter(key: "small", expectedSize: 6, lock: nil)
        try await small.write(ByteBuffer(string: "abc"))
        try await small.write(ByteBuffer(string: "def"))
        #expect(partials(disk).count == 1 && temporarySize() == 0)
        try await small.finish()
        #expect(partials(disk).isEmpty)
        #expect(try await collect(disk.read(key: "small", range: nil)) == Array("abcdef".utf8))

        let size = Int(LocalDiskWriter.keptBodyLimit) + 10
        let large = try await disk.makeWriter(key: "large", expectedSize: Int64(size), lock: nil)
        try await large.write(ByteBuffer(repeating: 1, count: size - 10))
        try await large.write(ByteBuffer(repeating: 2, count: 10))
        #expect(temporarySize() == size)
        try await large.finish()
        #expect(try await disk.size(of: "large") == Int64(size))

        let aborted = try await disk.makeWriter(key: "aborted", expectedSize: 3, lock: nil)
        try await aborted.write(ByteBuffer(string: "abc"))
        await aborted.abort()
        #expect(partials(disk).isEmpty)
        #expect(try await disk.size(of: "aborted") == nil)
    }

    /// A version is one file named after its key with the storage id as a suffix: new keys in a
    /// folder that exists add files, not folders (each folder costs a `mkdir` and journal work
    /// on every write to a file-based store).
    @Test func aNewKeyAddsAFileAndNoFolder() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            #expect(try await gw.put(client, "/docs/reports/a.txt", Array("one".utf8)).status == .ok)
            #expect(try await gw.put(client, "/docs/reports/b.txt", Array("two".utf8)).status == .ok)
            #expect(try await gw.put(client, "/docs/reports/a.txt", Array("three".utf8)).status == .ok)
        }
        let disk = try #require(gw.state.backends["FI-HEL-ST-1"] as? LocalDiskBackend)
        let folders = try FileManager.default.subpathsOfDirectory(atPath: disk.bucketPath).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: disk.bucketPath + "/" + path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        #expect(folders.sorted() == ["%partial", "docs", "docs/reports"])
        let files = gw.files(in: "FI-HEL-ST-1").filter { $0.hasPrefix("docs/") }
        #expect(files.count == 3)
        #expect(files.allSatisfy { $0.hasPrefix("docs/reports/a.txt.") || $0.hasPrefix("docs/reports/b.txt.") })
        let latest = try #require(try await gw.state.store.latestVersion(bucket: "docs", key: "reports/b.txt"))
        #expect(files.contains(WriteIntent.backendKey(bucket: "docs", key: "reports/b.txt", storageId: latest.storageId)))
    }

    /// The temporary file used to sit next to the object with a suffix, which a key's last
    /// segment of some 240 bytes or more pushed over the 255-byte file-name limit: the write failed.
    @Test func keysWhoseLastSegmentFillsAFileNameAreStored() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            for length in [240, 255] {
                let path = "/docs/dir/" + String(repeating: "n", count: length)
                let body = Array("segment of \(length)".utf8)
                let put = try await gw.put(client, path, body)
                #expect(put.status == .ok, "\(length): \(put.body.text)")
                let r = try await gw.get(client, path)
                #expect(r.status == .ok && Array(r.body.readableBytesView) == body, "\(length)")
            }
        }
    }
}
