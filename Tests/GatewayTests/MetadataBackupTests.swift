import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metadata
import NIOCore
import Synchronization
import Testing

@testable import Gateway

/// `POST /api/metadata/backup`: a copy of the SQLite metadata made while the gateway serves,
/// which opens on its own as the gateway's store.
@Suite("Metadata backup")
struct MetadataBackupTests {
    func put(_ gw: TestGateway, _ client: any TestClientProtocol, _ target: String, _ body: String) async throws {
        try await client.execute(uri: target, method: .put, headers: gw.signed("PUT", target, body: Array(body.utf8)),
                                 body: ByteBuffer(string: body)) { r in
            #expect(r.status == .ok, "\(r.body.text)")
        }
    }

    func backup(_ gw: TestGateway) async throws -> [String: Any] {
        let reply = Mutex(Data())
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/api/metadata/backup", method: .post) { r in
                #expect(r.status == .created, "\(r.body.text)")
                reply.withLock { $0 = Data(r.body.readableBytesView) }
            }
        }
        return try JSONSerialization.jsonObject(with: reply.withLock { $0 }) as? [String: Any] ?? [:]
    }

    @Test func aBackupHoldsWhatWasCommittedBeforeItAndOpensAsAStore() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/logs", method: .put, headers: gw.signed("PUT", "/logs")) { _ in }
            try await put(gw, client, "/logs/before.txt", "before")
        }
        let first = try await backup(gw)
        let path = try #require(first["path"] as? String)
        #expect(path.hasPrefix(gw.state.configuration.dataDirectory))
        #expect(path.contains("/backups/metadata-") && path.hasSuffix(".sqlite"))
        #expect((first["bytes"] as? Int ?? 0) > 0)
        #expect(first["store"] as? String == "sqlite")
        try await gw.withClient { client in try await put(gw, client, "/logs/after.txt", "after") }

        // Opened on its own, as the gateway would open it after a restore.
        let restored = FileManager.default.temporaryDirectory.appendingPathComponent("restore-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: restored) }
        try FileManager.default.copyItem(atPath: path, toPath: restored + "/metadata.sqlite")
        let store = try await SQLiteMetadataStore.open(configuration: .init(directory: restored), logger: Logger(label: "test"))
        let before = try await store.latestVersion(bucket: "logs", key: "before.txt")
        let after = try await store.latestVersion(bucket: "logs", key: "after.txt")
        let live = try await gw.store.latestVersion(bucket: "logs", key: "before.txt")
        await store.close()
        #expect(before != nil && before?.storageId == live?.storageId)
        #expect(after == nil)

        // A second backup is a new file; the first is left as it was.
        let second = try await backup(gw)
        let secondPath = try #require(second["path"] as? String)
        #expect(secondPath != path)
        #expect(FileManager.default.fileExists(atPath: path) && FileManager.default.fileExists(atPath: secondPath))
    }

    @Test func aBackupNeverOverwritesAFile() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let path = gw.directory + "/taken.sqlite"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: path))
        await #expect(throws: MetadataError.self) { _ = try await gw.store.backup(to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep")
    }
}
