import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Metadata
import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("Multipart uploads as backend multipart uploads, local-disk zones")
struct MultipartAssemblyTests {
    static let path = "/media/videos/joined.bin"

    /// Uploads two parts (5 MiB and a tail), completes, and returns the version.
    static func uploadTwoParts(_ gw: TestGateway, _ client: any TestClientProtocol, bucket: String = "media",
                               between: () -> Void = {}) async throws -> ObjectVersion {
        let path = "/\(bucket)/videos/joined.bin"
        let uploads = MultipartTests()
        let id = try await uploads.create(gw, client, path)
        let e1 = try await uploads.upload(gw, client, path, id, 1, MultipartTests.big)
        between()
        let e2 = try await uploads.upload(gw, client, path, id, 2, MultipartTests.small)
        let done = try await gw.send(client, .post, path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
        #expect(done.status == .ok, "\(done.body)")
        let get = try await gw.send(client, .get, path)
        #expect(get.bytes == MultipartTests.big + MultipartTests.small)
        return try #require(try await gw.store.latestVersion(bucket: bucket, key: "videos/joined.bin"))
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
        // One job copies the object, one aborts the zone's backend upload (part 1 only).
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 2)
        replicas = try await gw.store.replicas(storageId: v.storageId)
        #expect(replicas.filter { $0.status == .complete }.map(\.zone).sorted() == planned.sorted())
        let copy = gw.file(zone: planned[1], key: WriteIntent.backendKey(bucket: "media", key: "videos/joined.bin", storageId: v.storageId))
        #expect(FileManager.default.contents(atPath: copy).map(Array.init) == MultipartTests.big + MultipartTests.small)
        for zone in TestGateway.zones { #expect(gw.uploadFiles(in: zone).isEmpty) }
        #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts(done: 2))
    }

    @Test func fewerZonesThanTheQuorumLeaveNothingBehind() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        for zone in TestGateway.zones { gw.state.setHealth(zone, false) }
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let r = try await gw.send(client, .post, Self.path + "?uploads=")
            #expect(r.status == .serviceUnavailable, "\(r.body)")
            #expect(r.errorCode == "ServiceUnavailable")
            #expect(try await gw.send(client, .get, "/media?uploads=").xmlValues("UploadId").isEmpty)
        }
        for zone in TestGateway.zones { #expect(gw.uploadFiles(in: zone).isEmpty && gw.files(in: zone).isEmpty) }
        #expect(try await gw.store.staleIntents(olderThan: Date().addingTimeInterval(60), limit: 10).isEmpty)
    }

    @Test func aFailingZoneIsReplacedByTheNextCandidateAtCreation() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("media", "videos/joined.bin")
        let flaky = FlakyBackend(gw.state.backends[planned[0]]!)
        flaky.set(failWrites: true)
        let degraded = gw.replacing([planned[0]: flaky])
        try await degraded.withClient { client in
            _ = try await degraded.send(client, .put, "/media")
            _ = try await Self.uploadTwoParts(degraded, client)
        }
        let v = try #require(try await gw.store.latestVersion(bucket: "media", key: "videos/joined.bin"))
        let replicas = try await gw.store.replicas(storageId: v.storageId)
        let other = try #require(TestGateway.zones.first { !planned.contains($0) })
        #expect(replicas.first { $0.zone == other }?.status == .complete)
        #expect(replicas.first { $0.zone == planned[1] }?.status == .complete)
        #expect(!replicas.contains { $0.zone == planned[0] })
    }

    /// What a gateway that completed the backend uploads and died before its commit leaves.
    static func completeInTheBackendsOnly(_ gw: TestGateway, _ id: String) async throws {
        let upload = try #require(try await gw.store.upload(id: id))
        let parts = try await gw.store.listParts(uploadId: id, partNumberMarker: nil, maxParts: 10).parts
        let size = parts.reduce(Int64(0)) { $0 + $1.size }
        for (zone, uploadId) in upload.backendUploads {
            _ = try await gw.state.backends[zone]!.completeMultipartUpload(
                key: upload.backendKey, uploadId: uploadId,
                parts: parts.map { BackendPart(number: $0.partNumber, etag: $0.backendETags[zone]!) }, size: size, lock: nil)
        }
    }

    @Test func anAbortAfterAnUnrecordedCompletionRemovesItsObjects() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let uploads = MultipartTests()
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let id = try await uploads.create(gw, client, Self.path)
            _ = try await uploads.upload(gw, client, Self.path, id, 1, MultipartTests.small)
            try await Self.completeInTheBackendsOnly(gw, id)
            #expect(TestGateway.zones.flatMap { gw.files(in: $0) }.count == 2)
            #expect(try await gw.send(client, .delete, Self.path + "?uploadId=\(id)").status == .noContent)
            #expect(try await gw.send(client, .get, Self.path).errorCode == "NoSuchKey")
        }
        // No version owns the objects: the abort jobs removed them.
        for zone in TestGateway.zones { #expect(gw.files(in: zone).isEmpty && gw.uploadFiles(in: zone).isEmpty) }
    }

    @Test func aRetriedCompletionFindsTheObjectsOfAnUnrecordedOne() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let uploads = MultipartTests()
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/media")
            let id = try await uploads.create(gw, client, Self.path)
            let e1 = try await uploads.upload(gw, client, Self.path, id, 1, MultipartTests.big)
            let e2 = try await uploads.upload(gw, client, Self.path, id, 2, MultipartTests.small)
            try await Self.completeInTheBackendsOnly(gw, id)
            let done = try await gw.send(client, .post, Self.path + "?uploadId=\(id)", body: completeBody([(1, e1), (2, e2)]))
            #expect(done.status == .ok, "\(done.body)")
            #expect(try await gw.send(client, .get, Self.path).bytes == MultipartTests.big + MultipartTests.small)
        }
        let v = try #require(try await gw.store.latestVersion(bucket: "media", key: "videos/joined.bin"))
        #expect(try await gw.store.replicas(storageId: v.storageId).filter { $0.status == .complete }.count == 2)
    }
}

extension Moto {
    /// Keys of the unfinished multipart uploads under `prefix` (signed ListMultipartUploads).
    static func uploads(_ backend: S3Backend, prefix: String) async throws -> [String] {
        let request = backend.request(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)])
        let response = try await backend.client.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
        guard response.status.code == 200 else { throw Moto.MotoMissing(description: "list uploads failed: \(response.status) \(body)") }
        return S3Reply(status: .ok, headers: [:], body: body, bytes: []).xmlValues("Key")
    }
}

@Suite("Multipart uploads on moto zones", .enabled(if: Moto.enabled))
struct MultipartAssemblyOnMotoTests {
    @Test func eachZoneHoldsExactlyTheFinalObject() async throws {
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
        for zone in TestGateway.zones {
            let backend = try #require(backends[zone])
            // The backend's own multipart object, no parts objects, no unfinished upload.
            let replica = replicas.first { $0.zone == zone }
            #expect(try await Moto.list(backend, prefix: bucket + "/") == (replica.map { [$0.backendKey] } ?? []))
            #expect(try await Moto.uploads(backend, prefix: bucket + "/").isEmpty)
            if let replica {
                #expect(replica.etag?.hasSuffix("-2") == true, "\(zone): \(replica.etag ?? "nil")")
                #expect(try await collect(backend.read(key: replica.backendKey, range: nil)) == MultipartTests.big + MultipartTests.small)
            }
        }
    }

    @Test func anAbortedUploadLeavesNothingOnTheServers() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("media")
        let path = "/\(bucket)/a.bin"
        let uploads = MultipartTests()
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/\(bucket)")
            let id = try await uploads.create(gw, client, path)
            _ = try await uploads.upload(gw, client, path, id, 1, MultipartTests.big)
            var open = 0
            for backend in backends.values { open += try await Moto.uploads(backend, prefix: bucket + "/").count }
            #expect(open == 2)
            #expect(try await gw.send(client, .delete, path + "?uploadId=\(id)").status == .noContent)
        }
        for backend in backends.values {
            #expect(try await Moto.uploads(backend, prefix: bucket + "/").isEmpty)
            #expect(try await Moto.list(backend, prefix: bucket + "/").isEmpty)
        }
        #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts(done: 2))
    }

    @Test func aZoneDownDuringThePartsGetsItsCopyFromAJob() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("media")
        let key = "videos/joined.bin"
        let planned = gw.planned(bucket, key)
        try await gw.withClient { client in
            _ = try await gw.send(client, .put, "/\(bucket)")
            // The second planned zone is down from part 2 on; the write quorum still holds.
            _ = try await MultipartAssemblyTests.uploadTwoParts(gw, client, bucket: bucket) {
                gw.state.setHealth(planned[1], false)
            }
        }
        gw.state.setHealth(planned[1], true)
        let version = try #require(try await gw.store.latestVersion(bucket: bucket, key: key))
        #expect(try await gw.store.replicas(storageId: version.storageId).first { $0.zone == planned[1] }?.status == .pending)
        // The down zone's upload (part 1 only) is aborted by a job, and its copy made by another.
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120)) == 2)
        let replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.filter { $0.status == .complete }.map(\.zone).sorted() == planned.sorted())
        let copy = try #require(backends[planned[1]])
        #expect(try await Moto.list(copy, prefix: bucket + "/") == [version.storageId].map {
            WriteIntent.backendKey(bucket: bucket, key: key, storageId: $0)
        })
        #expect(try await Moto.uploads(copy, prefix: bucket + "/").isEmpty)
        #expect(try await collect(copy.read(key: WriteIntent.backendKey(bucket: bucket, key: key, storageId: version.storageId),
                                            range: nil)) == MultipartTests.big + MultipartTests.small)
    }
}
