import Foundation
import Testing

@testable import Metadata

/// What the reconciler relies on: reclaiming stale write intents and re-queueing copies.
@Suite("Conformance: reconciler support")
struct RepairConformanceTests {
    static func intent(_ id: String, key: String, time: Int) -> WriteIntent {
        WriteIntent(storageId: id, bucket: "photos", key: key, zones: ["A", "B"], backendKey: "photos/\(key)/\(id)", createdAt: at(time))
    }

    @Test(arguments: StoreKind.testCases)
    func reclaimedIntentRefusesItsCommitAndBecomesATombstone(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            try await store.recordIntent(Self.intent("s1", key: "a", time: 10))
            try await store.recordIntent(Self.intent("s2", key: "b", time: 20))

            let claimed = try #require(try await store.reclaimIntent(storageId: "s1", now: at(100)))
            #expect(claimed == Self.intent("s1", key: "a", time: 10))
            // Idempotent: a second gateway may claim the same intent.
            #expect(try await store.reclaimIntent(storageId: "s1", now: at(101)) == claimed)

            // The writer that was still streaming cannot commit over the removed data.
            var late = fixture.version(key: "a", versionId: nullVersionID, storageId: "s1")
            late.createdAt = at(102)
            do {
                _ = try await store.commit(VersionCommit(version: late, replicas: Fixture.replicas(for: late, complete: 1)))
                Issue.record("the commit of a reclaimed intent succeeded")
            } catch let error as MetadataError {
                #expect(error.isReclaimedWrite, "\(error.debugDescription)")
            }
            #expect(try await store.latestVersion(bucket: "photos", key: "a") == nil)

            // Until the deletes are recorded the intent is still stale (a crash mid-cleanup is retried).
            #expect(try await store.staleIntents(olderThan: at(200), limit: 10).map(\.storageId) == ["s1", "s2"])
            try await store.finishReclaim(storageId: "s1", now: at(110))
            #expect(try await store.staleIntents(olderThan: at(200), limit: 10).map(\.storageId) == ["s2"])
            // The tombstone still refuses the commit.
            await expectError(.conflict) {
                try await store.commit(VersionCommit(version: late, replicas: Fixture.replicas(for: late, complete: 1)))
            }
            #expect(try await store.purgeReclaimedIntents(cleanedBefore: at(110)) == 0)
            #expect(try await store.purgeReclaimedIntents(cleanedBefore: at(111)) == 1)
            #expect(try await store.reclaimIntent(storageId: "s1", now: at(120)) == nil)

            // A committed write leaves nothing to reclaim.
            var committed = fixture.version(key: "b", versionId: nullVersionID, storageId: "s2")
            committed.createdAt = at(21)
            _ = try await store.commit(VersionCommit(version: committed, replicas: Fixture.replicas(for: committed, complete: 1)))
            #expect(try await store.reclaimIntent(storageId: "s2", now: at(130)) == nil)
            #expect(try await store.staleIntents(olderThan: at(200), limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func requeueQueuesOnlyTheMissingCopiesOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]
            let put = try await fixture.put(key: "a", time: 0, zones: zones)
            let storageId = put.version.storageId
            #expect(put.replicationJobs.count == 2)

            // Copies already being made are not queued again.
            #expect(try await store.requeueReplicas(storageId: storageId, zones: zones, copies: 3, now: at(10)).isEmpty)

            // One job fails for good; the reconciler queues that copy again, once.
            let uc = try #require(put.replicationJobs.first { $0.zone == "FI-HEL-UC-1" })
            _ = try await store.failJob(id: uc.id, error: "gone", retryAt: nil, now: at(20))
            #expect(try await store.replicas(storageId: storageId).first { $0.zone == "FI-HEL-UC-1" }?.status == .failed)
            let requeued = try await store.requeueReplicas(storageId: storageId, zones: zones, copies: 3, now: at(30))
            #expect(requeued.map(\.zone) == ["FI-HEL-UC-1"])
            #expect(requeued.first?.sourceZone == "FI-HEL-ST-1")
            #expect(requeued.first?.backendKey == Fixture.backendKey(put.version))
            #expect(requeued.first?.status == .queued)
            #expect(try await store.replicas(storageId: storageId).first { $0.zone == "FI-HEL-UC-1" }?.status == .pending)
            #expect(try await store.requeueReplicas(storageId: storageId, zones: zones, copies: 3, now: at(31)).isEmpty)

            // Complete versions, delete markers and unknown ids get nothing.
            let full = fixture.version(key: "d", time: 40, zones: ["FI-HEL-ST-1"])
            _ = try await store.commit(VersionCommit(version: full, replicas: Fixture.replicas(for: full, complete: 1)))
            #expect(try await store.requeueReplicas(storageId: full.storageId, zones: zones, copies: 1, now: at(41)).isEmpty)
            let marker = try await fixture.deleteMarker(key: "m", time: 50)
            #expect(try await store.requeueReplicas(storageId: marker.version.storageId, zones: zones, copies: 2, now: at(51)).isEmpty)
            #expect(try await store.requeueReplicas(storageId: "no-such-id", zones: zones, copies: 2, now: at(52)).isEmpty)

            // Only as many zones as copies are missing, in the given order.
            let two = fixture.version(key: "e", time: 60, zones: ["FI-HEL-ST-1"], requiredCopies: 3)
            _ = try await store.commit(VersionCommit(version: two, replicas: Fixture.replicas(for: two, complete: 1)))
            let jobs = try await store.requeueReplicas(storageId: two.storageId, zones: ["FI-HEL-HZ-1", "FI-HEL-ST-1", "FI-HEL-UC-1", "X"],
                                                      copies: 3, now: at(61))
            #expect(jobs.map(\.zone) == ["FI-HEL-HZ-1", "FI-HEL-UC-1"])
            #expect(try await store.replicas(storageId: two.storageId).map(\.status) == [.pending, .complete, .pending])
        }
    }

    /// Verification walks the complete replicas in (storage id, zone) order, page by page, and
    /// marks a lost one `pending` once, which makes its version under-replicated again.
    @Test(arguments: StoreKind.testCases)
    func completeReplicasArePagedAndALostOneIsMarkedOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
            let a = try await fixture.put(key: "a", time: 0, zones: zones).version
            let b = try await fixture.put(key: "b", time: 1, zones: zones).version
            // a's second copy is made; b's is still pending.
            try await store.upsertReplica(Replica(storageId: a.storageId, zone: "FI-HEL-UC-1", status: .complete,
                                                  backendKey: Fixture.backendKey(a), size: a.size, updatedAt: at(5)))
            let expected = [(a.storageId, "FI-HEL-ST-1"), (a.storageId, "FI-HEL-UC-1"), (b.storageId, "FI-HEL-ST-1")]
                .sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { ReplicaCursor(storageId: $0.0, zone: $0.1) }
            #expect(try await store.completeReplicas(after: nil, limit: 10).map(ReplicaCursor.init) == expected)
            var paged: [ReplicaCursor] = []
            var cursor: ReplicaCursor?
            while let next = try await store.completeReplicas(after: cursor, limit: 1).first {
                paged.append(ReplicaCursor(next))
                cursor = ReplicaCursor(next)
            }
            #expect(paged == expected)
            let byVersion = try await store.replicas(storageIds: [a.storageId, b.storageId, "unknown"])
            #expect(byVersion.keys.sorted() == [a.storageId, b.storageId].sorted())
            #expect(byVersion[a.storageId]?.map(\.zone) == zones && byVersion[b.storageId]?.map(\.zone) == zones)
            #expect(try await store.replicas(storageIds: []).isEmpty)
            #expect(try await store.underReplicated(afterSequence: nil, limit: 10).map(\.version.storageId) == [b.storageId])

            #expect(try await store.markReplicaLost(storageId: a.storageId, zone: "FI-HEL-UC-1", reason: "gone", now: at(10)))
            let lost = try #require(try await store.replicas(storageId: a.storageId).first { $0.zone == "FI-HEL-UC-1" })
            #expect(lost.status == .pending && lost.lastError == "gone" && lost.updatedAt == at(10))
            #expect(Set(try await store.underReplicated(afterSequence: nil, limit: 10).map(\.version.storageId))
                == [a.storageId, b.storageId])
            // Once only; not for a replica that is not complete, nor for an unknown version.
            #expect(try await !store.markReplicaLost(storageId: a.storageId, zone: "FI-HEL-UC-1", reason: "again", now: at(11)))
            #expect(try await !store.markReplicaLost(storageId: b.storageId, zone: "FI-HEL-UC-1", reason: "x", now: at(11)))
            #expect(try await !store.markReplicaLost(storageId: "unknown", zone: "FI-HEL-ST-1", reason: "x", now: at(11)))
            #expect(try await store.replicas(storageId: a.storageId).first { $0.zone == "FI-HEL-UC-1" }?.lastError == "gone")
            #expect(try await store.completeReplicas(after: nil, limit: 10).count == 2)
        }
    }

    /// Moving a copy out of a zone the policies no longer allow: repair counts only the allowed
    /// copies, and a copy is retired only when enough allowed ones are complete, no copy to its
    /// zone is being made and Object Lock does not hold the version.
    @Test(arguments: StoreKind.testCases)
    func aDriftedCopyIsRetiredOnlyOnceEnoughAllowedCopiesAreComplete(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let (st, uc, hz) = ("FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1")
            let version = fixture.version(key: "a", time: 0, zones: [st, uc], requiredCopies: 2)
            _ = try await store.commit(VersionCommit(version: version, replicas: Fixture.replicas(for: version, complete: 2)))
            let id = version.storageId
            let allowed: Set = [st, hz]
            // Counting every copy, nothing is missing; counting only the allowed zones, one is.
            #expect(try await store.requeueReplicas(storageId: id, zones: [hz], copies: 2, now: at(1)).isEmpty)
            func retire(_ zone: String, _ time: Int) async throws -> ReplicaRetirement {
                try await store.retireReplica(
                    storageId: id, zone: zone, keeping: allowed, copies: 2, reason: "not allowed",
                    log: OperationLogEntry(time: at(time), requestId: "r", operation: "RemediateResidency", bucket: "photos",
                                           key: "a", httpStatus: 200, zones: [zone]), now: at(time))
            }
            #expect(try await retire(uc, 2) == .tooFewCopies(complete: 1))
            let jobs = try await store.requeueReplicas(storageId: id, zones: [hz], copies: 2, counting: allowed, now: at(3))
            #expect(jobs.map(\.zone) == [hz])
            #expect(try await store.requeueReplicas(storageId: id, zones: [hz], copies: 2, counting: allowed, now: at(4)).isEmpty)
            // The new copy is not made yet: the drifted one stays.
            #expect(try await retire(uc, 5) == .tooFewCopies(complete: 1))
            try await store.completeJob(id: try #require(jobs.first).id, etag: nil, now: at(6))

            // Object Lock holds the version: nothing changes.
            _ = try await store.updateLegalHold(bucket: "photos", key: "a", versionId: version.versionId, legalHold: true)
            #expect(try await retire(uc, 7) == .held(until: nil))
            _ = try await store.updateLegalHold(bucket: "photos", key: "a", versionId: version.versionId, legalHold: false)

            // A copy to the zone that is being made is not retired under it.
            let other = fixture.version(key: "b", time: 8, zones: [st, uc], requiredCopies: 1)
            _ = try await store.commit(VersionCommit(version: other, replicas: Fixture.replicas(for: other, complete: 1)))
            #expect(try await store.retireReplica(storageId: other.storageId, zone: uc, keeping: allowed, copies: 1,
                                                  reason: "x", log: nil, now: at(9)) == .copying)

            guard case .retired(let job) = try await retire(uc, 10) else {
                Issue.record("the copy was not retired")
                return
            }
            #expect(job.kind == .delete && job.zone == uc && job.backendKey == Fixture.backendKey(version))
            let replicas = try await store.replicas(storageId: id)
            #expect(replicas.first { $0.zone == uc }?.status == .deleting)
            #expect(replicas.first { $0.zone == uc }?.lastError == "not allowed")
            #expect(try await store.queryLog(OperationLogQuery(limit: 10)).contains { $0.operation == "RemediateResidency" && $0.zones == [uc] })
            // Once: it is already being deleted.
            #expect(try await retire(uc, 11) == .gone)
            #expect(try await retire("nowhere", 11) == .gone)
            try await store.completeJob(id: job.id, etag: nil, now: at(12))
            #expect(Set(try await store.replicas(storageId: id).map(\.zone)) == allowed)
            #expect(try await store.underReplicated(afterSequence: nil, limit: 10).isEmpty)
        }
    }

    /// One instance at a time runs shared background work, and not again before its interval.
    @Test(arguments: StoreKind.testCases)
    func aServiceRunIsClaimedByOneHolderAndDueAgainAfterItsInterval(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let name = "replica-verification"
            #expect(try await store.claimServiceRun(name: name, holder: "a", now: at(0), lease: 60, interval: 3600))
            // Held: another instance cannot claim it, the holder can renew it.
            #expect(try await !store.claimServiceRun(name: name, holder: "b", now: at(30), lease: 60, interval: 3600))
            #expect(try await store.renewServiceRun(name: name, holder: "a", now: at(50), lease: 60))
            #expect(try await !store.renewServiceRun(name: name, holder: "b", now: at(50), lease: 60))
            #expect(try await !store.claimServiceRun(name: name, holder: "b", now: at(100), lease: 60, interval: 3600))
            // Ended: not due again before its interval, then due for anyone.
            try await store.finishServiceRun(name: name, holder: "a", now: at(200))
            #expect(try await !store.claimServiceRun(name: name, holder: "b", now: at(3000), lease: 60, interval: 3600))
            #expect(try await store.claimServiceRun(name: name, holder: "b", now: at(3800), lease: 60, interval: 3600))
            // A holder that died: its lease runs out and another takes over; the dead one's
            // finish changes nothing.
            #expect(try await !store.claimServiceRun(name: name, holder: "c", now: at(3850), lease: 60, interval: 3600))
            #expect(try await store.claimServiceRun(name: name, holder: "c", now: at(3900), lease: 60, interval: 3600))
            #expect(try await !store.renewServiceRun(name: name, holder: "b", now: at(3901), lease: 60))
            try await store.finishServiceRun(name: name, holder: "b", now: at(3902))
            #expect(try await !store.claimServiceRun(name: name, holder: "d", now: at(3903), lease: 60, interval: 0))
            // Other work has its own row.
            #expect(try await store.claimServiceRun(name: "other", holder: "d", now: at(3903), lease: 60, interval: 3600))
        }
    }
}
