import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Synchronization
import Testing

@testable import Gateway

/// Writes an object to some zones as the write path would, records its intent and does not
/// commit: what a gateway that crashed mid-write leaves behind.
func simulateCrashedWrite(_ gw: TestGateway, bucket: String, key: String, zones: [String], age: TimeInterval) async throws -> WriteIntent {
    let storageId = GatewayState.newStorageId()
    let backendKey = WriteIntent.backendKey(bucket: bucket, key: key, storageId: storageId)
    let intent = WriteIntent(storageId: storageId, bucket: bucket, key: key, zones: zones, backendKey: backendKey,
                             createdAt: Date().addingTimeInterval(-age))
    try await gw.store.recordIntent(intent)
    for zone in zones {
        let writer = try await gw.state.backends[zone]!.makeWriter(key: backendKey, expectedSize: 5)
        try await writer.write(ByteBuffer(string: "crash"))
        try await writer.finish()
    }
    return intent
}

@Suite("Reconciler, local-disk zones")
struct ReconcilerTests {
    @Test func crashedWriteIsRemovedAndCommittedDataKept() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let body = Array("committed data".utf8)
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            #expect(try await gw.put(client, "/docs/kept.txt", body).status == .ok)
        }
        let committed = TestGateway.zones.flatMap { gw.files(in: $0) }
        #expect(committed.count == 2)
        let crashed = try await simulateCrashedWrite(gw, bucket: "docs", key: "lost.txt", zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"], age: 7200)
        let recent = try await simulateCrashedWrite(gw, bucket: "docs", key: "inflight.txt", zones: ["FI-HEL-ST-1"], age: 10)
        #expect(TestGateway.zones.flatMap { gw.files(in: $0) }.count == 5)

        let reconciler = Reconciler(state: gw.state)
        let report = try await reconciler.reconcileOnce()
        #expect(report.reclaimedIntents == 1 && report.deferredIntents == 0)
        // The crashed write's objects are gone; the committed object and the write still within
        // the grace period are untouched.
        for zone in crashed.zones { #expect(!FileManager.default.fileExists(atPath: gw.file(zone: zone, key: crashed.backendKey))) }
        #expect(FileManager.default.fileExists(atPath: gw.file(zone: "FI-HEL-ST-1", key: recent.backendKey)))
        #expect(TestGateway.zones.flatMap { gw.files(in: $0) }.count == 3)
        #expect(try await gw.store.staleIntents(olderThan: Date(), limit: 10).map(\.storageId) == [recent.storageId])
        try await gw.withClient { client in
            let r = try await gw.get(client, "/docs/kept.txt")
            #expect(r.status == .ok && Array(r.body.readableBytesView) == body)
        }

        // Idempotent: a second pass (or a second gateway) finds nothing more to do.
        #expect(try await reconciler.reconcileOnce() == Reconciler.Report())
        #expect(TestGateway.zones.flatMap { gw.files(in: $0) }.count == 3)
    }

    @Test func unreachableZoneDefersTheCleanup() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in try await gw.createBucket(client, "docs") }
        let crashed = try await simulateCrashedWrite(gw, bucket: "docs", key: "lost.txt", zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"], age: 7200)
        // The UC zone does not answer: its delete fails.
        let flaky = FailingDeleteBackend(gw.state.backends["FI-HEL-UC-1"]!)
        let broken = gw.replacing(["FI-HEL-UC-1": flaky])
        let reconciler = Reconciler(state: broken.state)
        #expect(try await reconciler.reconcileOnce() == Reconciler.Report(deferredIntents: 1))
        #expect(!FileManager.default.fileExists(atPath: gw.file(zone: "FI-HEL-ST-1", key: crashed.backendKey)))
        #expect(FileManager.default.fileExists(atPath: gw.file(zone: "FI-HEL-UC-1", key: crashed.backendKey)))
        #expect(try await gw.store.staleIntents(olderThan: Date(), limit: 10).map(\.storageId) == [crashed.storageId])
        flaky.failing.withLock { $0 = false }
        #expect(try await reconciler.reconcileOnce() == Reconciler.Report(reclaimedIntents: 1))
        #expect(TestGateway.zones.flatMap { gw.files(in: $0) }.isEmpty)
    }

    @Test func abortedUploadOnAnUnreachableZoneIsAbortedByAJob() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let zones = gw.planned("media", "a.bin")
        let flaky = FailingDeleteBackend(gw.state.backends[zones[1]]!)
        let degraded = gw.replacing([zones[1]: flaky])
        let uploads = MultipartTests()
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "media")
            let id = try await uploads.create(degraded, client, "/media/a.bin")
            _ = try await uploads.upload(degraded, client, "/media/a.bin", id, 1, Array("one".utf8))
            #expect(gw.uploadFiles(in: zones[0]).count == 1 && gw.uploadFiles(in: zones[1]).count == 1)
            let abort = try await degraded.send(client, .delete, "/media/a.bin?uploadId=\(id)")
            #expect(abort.status == .noContent)
        }
        // The metadata is gone at once; the upload in the zone that did not answer waits in a job.
        #expect(gw.uploadFiles(in: zones[0]).isEmpty && gw.uploadFiles(in: zones[1]).count == 1)
        #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts(queued: 1, done: 1))
        flaky.failing.withLock { $0 = false }
        #expect(try await ReplicationWorker(state: degraded.state).runOnce(now: Date().addingTimeInterval(120)) == 1)
        #expect(gw.uploadFiles(in: zones[1]).isEmpty)
        #expect(try await gw.store.jobCounts(now: Date()) == SyncJobCounts(done: 2))
    }

    @Test func abandonedUploadExpiresInEveryZone() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let zones = gw.planned("media", "left.bin")
        let uploads = MultipartTests()
        let started = Mutex<[String]>([])
        try await gw.withClient { client in
            try await gw.createBucket(client, "media")
            for path in ["/media/left.bin", "/media/also-left.bin"] {
                let id = try await uploads.create(gw, client, path)
                _ = try await uploads.upload(gw, client, path, id, 1, Array("one".utf8))
                started.withLock { $0.append(id) }
            }
        }
        let ids = started.withLock { $0 }
        #expect(zones.allSatisfy { gw.uploadFiles(in: $0).count == 2 })
        // Younger than the expiry, or with no expiry: kept.
        #expect(try await Reconciler(state: gw.state).reconcileOnce(now: Date().addingTimeInterval(6 * 86400)) == Reconciler.Report())
        var keeping = Reconciler(state: gw.state)
        keeping.uploadExpiry = nil
        #expect(try await keeping.reconcileOnce(now: Date().addingTimeInterval(30 * 86400)) == Reconciler.Report())
        #expect(try await gw.store.upload(id: ids[0]) != nil)

        let later = Date().addingTimeInterval(8 * 86400)
        #expect(try await Reconciler(state: gw.state).reconcileOnce(now: later) == Reconciler.Report(expiredUploads: 2))
        for id in ids { #expect(try await gw.store.upload(id: id) == nil) }
        // The backend uploads go with the abort jobs.
        #expect(try await ReplicationWorker(state: gw.state).runOnce(now: later.addingTimeInterval(120)) == 2 * zones.count)
        #expect(TestGateway.zones.allSatisfy { gw.uploadFiles(in: $0).isEmpty })
        let log = try await gw.store.queryLog(OperationLogQuery(operation: "AbortMultipartUpload"))
        #expect(log.count == 2 && log.allSatisfy { $0.principal == "reconciler" })
    }

    @Test func crashedCreateMultipartUploadIsAbortedInTheBackends() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in try await gw.createBucket(client, "media") }
        // A gateway recorded its intent, started the backend uploads (one part sent) and died
        // before the upload was recorded: no metadata names these backend uploads.
        let storageId = GatewayState.newStorageId()
        let backendKey = WriteIntent.backendKey(bucket: "media", key: "big.bin", storageId: storageId)
        let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
        try await gw.store.recordIntent(WriteIntent(storageId: storageId, bucket: "media", key: "big.bin", zones: zones,
                                                    backendKey: backendKey, createdAt: Date().addingTimeInterval(-7200)))
        for zone in zones {
            let backend = gw.state.backends[zone]!
            let uploadId = try await backend.createMultipartUpload(key: backendKey)
            let writer = try await backend.makePartWriter(key: backendKey, uploadId: uploadId, partNumber: 1, expectedSize: 3)
            try await writer.write(ByteBuffer(string: "one"))
            try await writer.finish()
        }
        #expect(zones.allSatisfy { gw.uploadFiles(in: $0).count == 1 })
        let report = try await Reconciler(state: gw.state).reconcileOnce()
        #expect(report == Reconciler.Report(reclaimedIntents: 1))
        #expect(TestGateway.zones.allSatisfy { gw.uploadFiles(in: $0).isEmpty && gw.files(in: $0).isEmpty })
        // The upload can no longer be recorded by the gateway that was slow, not dead.
        let late = MultipartUpload(uploadId: "late", bucket: "media", key: "big.bin", storageId: storageId, backendKey: backendKey,
                                   initiatedAt: Date(), initiator: "test-key")
        await #expect(throws: MetadataError.self) { try await gw.store.createUpload(late) }
        #expect(try await gw.store.upload(id: "late") == nil)
    }

    @Test func underReplicatedVersionIsRequeuedAndRepaired() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/report.txt"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let body = Array("repair me".utf8)
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            #expect(try await gw.put(client, "/data/\(key)", body).status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        // The copy fails for good (e.g. the zone refused it ten times).
        let job = try #require(try await gw.store.claimJobs(worker: "w", limit: 10, now: Date(), leaseSeconds: 60).first)
        _ = try await gw.store.failJob(id: job.id, error: "refused", retryAt: nil, now: Date())
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        try await gw.withClient { client in
            let r = try await gw.get(client, "/data/\(key)", method: .head)
            #expect(r.header("x-amz-replication-status") == "FAILED")
            #expect(r.header("x-gateway-replicas") == "\(planned[0])=COMPLETED,\(planned[1])=FAILED")
        }

        let reconciler = Reconciler(state: gw.state)
        // Within the retry delay the failure is left visible.
        #expect(try await reconciler.reconcileOnce().requeuedJobs == 0)
        let later = Date().addingTimeInterval(2 * 3600)
        #expect(try await reconciler.reconcileOnce(now: later).requeuedJobs == 1)
        #expect(try await reconciler.reconcileOnce(now: later).requeuedJobs == 0)
        try await gw.withClient { client in
            let r = try await gw.get(client, "/data/\(key)", method: .head)
            #expect(r.header("x-amz-replication-status") == "PENDING")
        }

        #expect(try await ReplicationWorker(state: gw.state, workerId: "w2").runOnce(now: later) == 1)
        let copy = gw.file(zone: planned[1], key: WriteIntent.backendKey(bucket: "data", key: key, storageId: version.storageId))
        #expect(FileManager.default.contents(atPath: copy).map(Array.init) == body)
        #expect(try await gw.store.underReplicated(afterSequence: nil, limit: 10).isEmpty)
        try await gw.withClient { client in
            let r = try await gw.get(client, "/data/\(key)", method: .head)
            #expect(r.header("x-amz-replication-status") == "COMPLETED")
            #expect(r.header("x-gateway-replicas") == "\(planned[0])=COMPLETED,\(planned[1])=COMPLETED")
        }
        #expect(try await reconciler.reconcileOnce(now: later) == Reconciler.Report())
    }

    @Test func replicaThatFailedLongAgoIsRetried() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/lost.txt"
        let planned = gw.planned("data", key)
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            #expect(try await gw.put(client, "/data/\(key)", Array("abc".utf8)).status == .ok)
        }
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        // The copy failed for good two hours ago.
        let job = try #require(try await gw.store.claimJobs(worker: "w", limit: 10, now: Date(), leaseSeconds: 60).first)
        _ = try await gw.store.failJob(id: job.id, error: "crash", retryAt: nil, now: Date().addingTimeInterval(-7200))
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        #expect(try await gw.store.replicas(storageId: version.storageId).count == 2)
        let jobs = try await Reconciler(state: gw.state).reconcileOnce().requeuedJobs
        #expect(jobs == 1)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 1)
        let replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.map(\.zone).sorted() == planned.sorted() && replicas.allSatisfy { $0.status == .complete })
    }
}

/// A backend whose deletes fail while `failing` is set.
final class FailingDeleteBackend: ObjectBackend {
    let base: any ObjectBackend
    let failing = Mutex(true)
    init(_ base: any ObjectBackend) { self.base = base }
    var zone: String { base.zone }
    func makeWriter(key: String, expectedSize: Int64?, lock: BackendObjectLock?) async throws -> any BackendWriter {
        try await base.makeWriter(key: key, expectedSize: expectedSize, lock: lock)
    }
    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream { try await base.read(key: key, range: range) }
    func size(of key: String) async throws -> Int64? { try await base.size(of: key) }
    func delete(key: String) async throws {
        if failing.withLock({ $0 }) { throw BackendError(code: .unavailable, message: "\(zone): timed out (test)") }
        try await base.delete(key: key)
    }
    func probe() async -> Bool { await base.probe() }
    func initialize(objectLock: Bool) async throws { try await base.initialize(objectLock: objectLock) }
    func createMultipartUpload(key: String) async throws -> String { try await base.createMultipartUpload(key: key) }
    func makePartWriter(key: String, uploadId: String, partNumber: Int, expectedSize: Int64?) async throws -> any BackendPartWriter {
        try await base.makePartWriter(key: key, uploadId: uploadId, partNumber: partNumber, expectedSize: expectedSize)
    }
    func completeMultipartUpload(key: String, uploadId: String, parts: [BackendPart], size: Int64,
                                 lock: BackendObjectLock?) async throws -> String? {
        try await base.completeMultipartUpload(key: key, uploadId: uploadId, parts: parts, size: size, lock: lock)
    }
    /// Aborts fail with the deletes.
    func abortMultipartUpload(key: String, uploadId: String) async throws {
        if failing.withLock({ $0 }) { throw BackendError(code: .unavailable, message: "\(zone): timed out (test)") }
        try await base.abortMultipartUpload(key: key, uploadId: uploadId)
    }
    func abortMultipartUploads(key: String) async throws {
        if failing.withLock({ $0 }) { throw BackendError(code: .unavailable, message: "\(zone): timed out (test)") }
        try await base.abortMultipartUploads(key: key)
    }
}

@Suite("Reconciler on moto zones", .enabled(if: Moto.enabled))
struct ReconcilerOnMotoTests {
    @Test func crashedWriteIsRemovedFromTheServers() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("crash")
        try await gw.withClient { client in try await gw.createBucket(client, bucket) }
        let crashed = try await simulateCrashedWrite(gw, bucket: bucket, key: "lost.bin", zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"], age: 7200)
        #expect(try await Moto.list(backends["FI-HEL-ST-1"]!, prefix: bucket + "/") == [crashed.backendKey])
        #expect(try await Reconciler(state: gw.state).reconcileOnce() == Reconciler.Report(reclaimedIntents: 1))
        for zone in TestGateway.zones {
            #expect(try await Moto.list(backends[zone]!, prefix: bucket + "/").isEmpty)
        }
        // The claimed intent refuses a late commit of the same write.
        var version = ObjectVersion(storageId: crashed.storageId, versionId: crashed.storageId, bucket: bucket, key: "lost.bin",
                                    size: 5, etag: "x", createdAt: Date())
        version.placement.plannedZones = ["FI-HEL-ST-1"]
        do {
            _ = try await gw.store.commit(VersionCommit(version: version, replicas: [CommitReplica(zone: "FI-HEL-ST-1", status: .complete, backendKey: crashed.backendKey)]))
            Issue.record("a reclaimed write committed")
        } catch let error as MetadataError {
            #expect(error.isReclaimedWrite)
        }
    }

    @Test func crashedCreateMultipartUploadIsAbortedOnTheServers() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("crash")
        try await gw.withClient { client in try await gw.createBucket(client, bucket) }
        let storageId = GatewayState.newStorageId()
        let backendKey = WriteIntent.backendKey(bucket: bucket, key: "big.bin", storageId: storageId)
        let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
        try await gw.store.recordIntent(WriteIntent(storageId: storageId, bucket: bucket, key: "big.bin", zones: zones,
                                                    backendKey: backendKey, createdAt: Date().addingTimeInterval(-7200)))
        for zone in zones {
            let uploadId = try await backends[zone]!.createMultipartUpload(key: backendKey)
            _ = try await BackendMultipartChecks.part(backends[zone]!, backendKey, uploadId, 1, Array("one".utf8))
        }
        #expect(try await Moto.uploads(backends["FI-HEL-ST-1"]!, prefix: bucket + "/") == [backendKey])
        #expect(try await Reconciler(state: gw.state).reconcileOnce() == Reconciler.Report(reclaimedIntents: 1))
        for zone in TestGateway.zones {
            #expect(try await Moto.uploads(backends[zone]!, prefix: bucket + "/").isEmpty)
            #expect(try await Moto.list(backends[zone]!, prefix: bucket + "/").isEmpty)
        }
    }

    @Test func underReplicatedVersionIsRepairedOnTheServers() async throws {
        let (gw, backends) = try await GatewayOnMotoTests.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("repair")
        let key = "docs/r.bin"
        let planned = gw.planned(bucket, key)
        let body = Array(repeating: UInt8(ascii: "r"), count: 70_000)
        try await gw.withClient { client in
            try await gw.createBucket(client, bucket)
            for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
            #expect(try await gw.put(client, "/\(bucket)/\(key)", body).status == .ok)
        }
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        let job = try #require(try await gw.store.claimJobs(worker: "w", limit: 10, now: Date(), leaseSeconds: 60).first)
        _ = try await gw.store.failJob(id: job.id, error: "refused", retryAt: nil, now: Date().addingTimeInterval(-7200))
        #expect(try await Reconciler(state: gw.state).reconcileOnce().requeuedJobs == 1)
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 1)
        let copies = try await Moto.list(backends[planned[1]]!, prefix: bucket + "/")
        #expect(copies.count == 1)
        if let copy = copies.first { #expect(try await collect(backends[planned[1]]!.read(key: copy, range: nil)) == body) }
    }
}
