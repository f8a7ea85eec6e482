import Foundation
import Testing

@testable import Metadata

@Suite("Conformance: replicas and sync jobs")
struct ReplicationConformanceTests {
    static func newJob(_ n: Int, notBefore: Int = 0, deadline: Int? = nil) -> NewSyncJob {
        NewSyncJob(
            kind: .replicate, storageId: "s\(n)", zone: "FI-HEL-UC-1", sourceZone: "FI-HEL-ST-1", bucket: "photos",
            key: "k\(n)", backendKey: "photos/k\(n)/s\(n)", notBefore: at(notBefore), deadline: deadline.map(at)
        )
    }

    @Test(arguments: StoreKind.testCases)
    func underReplicatedVersionsUntilCopiesComplete(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]
            let first = try await fixture.put(key: "a", time: 1, zones: zones)
            let second = try await fixture.put(key: "b", time: 2, zones: zones)
            try await fixture.deleteMarker(key: "c", time: 3)
            let full = fixture.version(key: "d", time: 4, zones: ["FI-HEL-ST-1"])
            _ = try await store.commit(VersionCommit(version: full, replicas: Fixture.replicas(for: full, complete: 1)))

            let all = try await store.underReplicated(afterSequence: nil, limit: 10)
            #expect(all.map(\.version.key) == ["a", "b"])
            #expect(all[0].completeCopies == 1 && all[0].replicas.count == 3)
            let page = try await store.underReplicated(afterSequence: all[0].version.sequence, limit: 10)
            #expect(page.map(\.version.key) == ["b"])
            #expect(try await store.underReplicated(afterSequence: nil, limit: 1).map(\.version.key) == ["a"])

            // One copy reported by the worker via upsert, the other by completing its job.
            try await store.upsertReplica(Replica(
                storageId: first.version.storageId, zone: "FI-HEL-UC-1", status: .complete,
                backendKey: Fixture.backendKey(first.version), size: first.version.size, etag: "x", updatedAt: at(5)
            ))
            #expect(try await store.underReplicated(afterSequence: nil, limit: 10).map(\.version.key) == ["a", "b"])
            let job = try #require(first.replicationJobs.first { $0.zone == "FI-HEL-HZ-1" })
            try await store.completeJob(id: job.id, etag: "\"copy\"", now: at(6))
            #expect(try await store.underReplicated(afterSequence: nil, limit: 10).map(\.version.key) == ["b"])
            let replica = try #require(try await store.replicas(storageId: first.version.storageId).first { $0.zone == "FI-HEL-HZ-1" })
            #expect(replica.status == .complete && replica.etag == "\"copy\"" && replica.updatedAt == at(6))
            #expect(second.replicationJobs.count == 2)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func jobLifecycle(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let put = try await fixture.put(key: "k", time: 0, zones: ["FI-HEL-ST-1", "FI-HEL-UC-1"])
            let copy = try #require(put.replicationJobs.first)
            let later = try await store.enqueueJobs([Self.newJob(1, notBefore: 100, deadline: 50)], now: at(0))
            #expect(later.count == 1 && later[0].status == .queued && later[0].createdAt == at(0))

            // Only due jobs are claimed.
            let claimed = try await store.claimJobs(worker: "w1", limit: 10, now: at(10), leaseSeconds: 30)
            #expect(claimed.map(\.id) == [copy.id])
            #expect(claimed[0].status == .running && claimed[0].claimedBy == "w1")
            #expect(claimed[0].claimedAt == at(10) && claimed[0].leaseUntil == at(40))
            #expect(try await store.claimJobs(worker: "w2", limit: 10, now: at(20), leaseSeconds: 30).isEmpty)

            // An expired lease is reclaimable by another worker.
            let reclaimed = try await store.claimJobs(worker: "w2", limit: 10, now: at(41), leaseSeconds: 30)
            #expect(reclaimed.map(\.id) == [copy.id] && reclaimed[0].claimedBy == "w2")

            // A failure with a retry re-queues it for later, attempts counted.
            let failed = try await store.failJob(id: copy.id, error: "timeout", retryAt: at(60), now: at(42))
            #expect(failed.status == .queued && failed.attempts == 1 && failed.lastError == "timeout" && failed.notBefore == at(60))
            #expect(try await store.replicas(storageId: put.version.storageId).first { $0.zone == "FI-HEL-UC-1" }?.lastError == "timeout")
            #expect(try await store.claimJobs(worker: "w1", limit: 10, now: at(59), leaseSeconds: 30).isEmpty)
            let retried = try await store.claimJobs(worker: "w1", limit: 10, now: at(60), leaseSeconds: 30)
            #expect(retried.map(\.id) == [copy.id])

            // A deferral (the provider asked to slow down) re-queues it without counting an
            // attempt, and only by the worker that holds it.
            await expectError(.notFound) {
                _ = try await store.deferJob(id: copy.id, worker: "w2", reason: "SlowDown", until: at(70), now: at(60))
            }
            await expectError(.notFound) {
                _ = try await store.deferJob(id: later[0].id, worker: "w1", reason: "SlowDown", until: at(70), now: at(60))
            }
            let deferred = try await store.deferJob(id: copy.id, worker: "w1", reason: "SlowDown", until: at(70), now: at(60))
            #expect(deferred.status == .queued && deferred.attempts == 1 && deferred.lastError == "SlowDown")
            #expect(deferred.notBefore == at(70) && deferred.leaseUntil == nil)
            #expect(try await store.replicas(storageId: put.version.storageId).first { $0.zone == "FI-HEL-UC-1" }?.lastError == "SlowDown")
            #expect(try await store.claimJobs(worker: "w1", limit: 10, now: at(69), leaseSeconds: 30).isEmpty)
            #expect(try await store.claimJobs(worker: "w1", limit: 10, now: at(70), leaseSeconds: 30).map(\.id) == [copy.id])

            #expect(try await store.jobCounts(now: at(60)) == SyncJobCounts(queued: 1, running: 1, late: 1))
            #expect(try await store.lateJobs(now: at(60), limit: 10).map(\.id) == [later[0].id])
            #expect(try await store.lateJobs(now: at(49), limit: 10).isEmpty)

            try await store.completeJob(id: copy.id, etag: nil, now: at(61))
            #expect(try await store.job(id: copy.id)?.status == .done)
            #expect(try await store.replicas(storageId: put.version.storageId).allSatisfy { $0.status == .complete })

            // Giving up marks the job and its replica failed.
            let gaveUp = try await store.failJob(id: later[0].id, error: "bucket missing", retryAt: nil, now: at(62))
            #expect(gaveUp.status == .failed && gaveUp.attempts == 1)
            #expect(try await store.claimJobs(worker: "w1", limit: 10, now: at(1000), leaseSeconds: 30).isEmpty)
            #expect(try await store.jobCounts(now: at(1000)) == SyncJobCounts(done: 1, failed: 1, late: 1))

            await expectError(.notFound) { try await store.completeJob(id: 999_999, etag: nil, now: at(0)) }
            await expectError(.notFound) { try await store.failJob(id: 999_999, error: "x", retryAt: nil, now: at(0)) }
            #expect(try await store.job(id: 999_999) == nil)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func jobsOfSkippedZonesStayQueued(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let put = try await fixture.put(key: "k", time: 0, zones: ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
            let jobs = put.replicationJobs
            #expect(Set(jobs.map(\.zone)) == ["FI-HEL-UC-1", "FI-HEL-HZ-1"])
            let uc = try #require(jobs.first { $0.zone == "FI-HEL-UC-1" })
            let hz = try #require(jobs.first { $0.zone == "FI-HEL-HZ-1" })

            // A worker that knows HZ is down takes only the UC job; the HZ one stays queued.
            let claimed = try await store.claimJobs(worker: "w1", limit: 10, now: at(10), leaseSeconds: 30,
                                                    skippingZones: ["FI-HEL-HZ-1", "XX-NOT-A-ZONE"])
            #expect(claimed.map(\.id) == [uc.id])
            #expect(try await store.job(id: hz.id)?.status == .queued)
            // Once the zone is back it is claimed at once, with no lease to wait out.
            let later = try await store.claimJobs(worker: "w1", limit: 10, now: at(11), leaseSeconds: 30, skippingZones: [])
            #expect(later.map(\.id) == [hz.id])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func concurrentClaimersNeverShareAJob(_ kind: StoreKind) async throws {
        try await withStore(kind, maximumConnections: 6) { store in
            let jobs = try await store.enqueueJobs((0..<200).map { Self.newJob($0) }, now: at(0))
            #expect(jobs.count == 200)
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimJobs(worker: "w\(worker)", limit: 7, now: at(1), leaseSeconds: 60)
                            if batch.isEmpty { return mine }
                            #expect(batch.allSatisfy { $0.claimedBy == "w\(worker)" })
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == 200)
            #expect(Set(all) == Set(jobs.map(\.id)))
        }
    }
}
