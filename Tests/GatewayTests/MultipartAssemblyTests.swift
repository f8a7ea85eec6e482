import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Metadata
import NIOCore
import Testing

@testable import Gateway

@Suite("CompleteMultipartUpload assembles in the zones")
struct MultipartAssemblyTests {
    static let path = "/media/videos/joined.bin"

    /// Uploads two parts (5 MiB and a tail), completes, and returns the version.
    static func uploadTwoParts(_ gw: TestGateway, _ client: any TestClientProtocol, between: () -> Void = {}) async throws -> ObjectVersion {
        let uploads = MultipartTests()
        let id = try await uploads.create(gw, client, path)
        let e1 = try await uploads.upload(gw, client, path, id, 1, MultipartTests.big)
        between()
        let e2 = try await uploads.upload(gw, client, path, id, 2, MultipartTests.small)
        let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
        #expect(done.status == .ok, "\(done.body)")
        let get = try await gw.send(client, .get, path)
        #expect(get.bytes == MultipartTests.big + MultipartTests.small)
        return try #require(try await gw.store.latestVersion(bucket: "media", key: "videos/joined.bin"))
    }

    @Test func zoneMissingAPartGetsItsCopyFromTheReplicationWorker() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("media", "videos/joined.bin")
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            // The second zone is down while part 2 is uploaded: only the first holds every part.
            _ = try await Self.uploadTwoParts(gw, client) {
                for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            }
        }
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        let v = try #require(try await gw.store.latestVersion(bucket: "media", key: "videos/joined.bin"))
        var replicas = try await gw.store.replicas(storageId: v.storageId)
        #expect(replicas.first { $0.zone == planned[0] }?.status == .complete)
        #expect(replicas.first { $0.zone == planned[1] }?.status == .pending)
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        replicas = try await gw.store.replicas(storageId: v.storageId)
        #expect(replicas.filter { $0.status == .complete }.map(\.zone).sorted() == planned.sorted())
        let copy = gw.file(zone: planned[1], key: GatewayState.backendKey(bucket: "media", key: "videos/joined.bin", storageId: v.storageId))
        #expect(FileManager.default.contents(atPath: copy).map(Array.init) == MultipartTests.big + MultipartTests.small)
        for zone in TestGateway.zones { #expect(gw.files(in: zone).allSatisfy { !$0.contains(".parts") }) }
    }
}

@Suite("CompleteMultipartUpload on moto zones", .enabled(if: Moto.enabled))
struct MultipartAssemblyOnMotoTests {
    @Test func partsAreJoinedServerSideInEveryZone() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("media")
        let path = "/\(bucket)/videos/joined.bin"
        let uploads = MultipartTests()
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/\(bucket)")
            let id = try await uploads.create(gw, client, path)
            let e1 = try await uploads.upload(gw, client, path, id, 1, MultipartTests.big)
            let e2 = try await uploads.upload(gw, client, path, id, 2, MultipartTests.small)
            let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
            #expect(done.status == .ok, "\(done.body)")
            #expect(try await gw.send(client, .get, path).bytes == MultipartTests.big + MultipartTests.small)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: bucket, key: "videos/joined.bin"))
        let replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.count == 2 && replicas.allSatisfy { $0.status == .complete })
        for replica in replicas {
            // A backend multipart object (copied server-side from the parts), and no part left.
            #expect(replica.etag?.hasSuffix("-2") == true, "\(replica.zone): \(replica.etag ?? "nil")")
            let backend = try #require(backends[replica.zone])
            #expect(try await Moto.list(backend, prefix: bucket + "/") == [replica.backendKey])
            #expect(try await collect(backend.read(key: replica.backendKey, range: nil)) == MultipartTests.big + MultipartTests.small)
        }
    }
}
