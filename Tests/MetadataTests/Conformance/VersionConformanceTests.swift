import Foundation
import Testing

@testable import Metadata

@Suite("Conformance: object versions")
struct VersionConformanceTests {
    /// A version and its replicas in one read: the latest or a given version, replicas in zone
    /// order (also none), a delete marker as it is, nothing for a missing key or version.
    @Test(arguments: StoreKind.testCases)
    func versionWithReplicasReadsBoth(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let old = try await fixture.put(key: "k", time: 1).version
            let v = fixture.version(key: "k", time: 2, zones: ["FI-HEL-UC-1", "FI-HEL-ST-1", "FI-HEL-HZ-1"])
            _ = try await store.commit(VersionCommit(version: v, replicas: Fixture.replicas(for: v, complete: 2)))
            let latest = try #require(try await store.versionWithReplicas(bucket: "photos", key: "k", versionId: nil))
            #expect(latest.version == (try await store.latestVersion(bucket: "photos", key: "k")))
            #expect(latest.replicas == (try await store.replicas(storageId: v.storageId)))
            #expect(latest.replicas.map(\.zone) == ["FI-HEL-HZ-1", "FI-HEL-ST-1", "FI-HEL-UC-1"])
            #expect(latest.replicas.map(\.status) == [.pending, .complete, .complete])
            let earlier = try #require(try await store.versionWithReplicas(bucket: "photos", key: "k", versionId: old.versionId))
            #expect(earlier.version.storageId == old.storageId && !earlier.version.isLatest)
            #expect(earlier.replicas.map(\.zone) == ["FI-HEL-ST-1"])
            #expect(try await store.versionWithReplicas(bucket: "photos", key: "k", versionId: "nope") == nil)
            #expect(try await store.versionWithReplicas(bucket: "photos", key: "other", versionId: nil) == nil)
            let marker = try await fixture.deleteMarker(key: "k", time: 3).version
            let deleted = try #require(try await store.versionWithReplicas(bucket: "photos", key: "k", versionId: nil))
            #expect(deleted.version.versionId == marker.versionId && deleted.version.isDeleteMarker)
            #expect(deleted.replicas.isEmpty)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func commitStoresEveryFieldAtomically(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let version = ObjectVersion(
                storageId: "st-1", versionId: "v-1", bucket: "photos", key: "2025/cat.jpg", size: 1234,
                etag: "\"abc-2\"",
                headers: ObjectHeaders(
                    contentType: "image/jpeg", cacheControl: "max-age=60", contentDisposition: "inline",
                    contentEncoding: "identity", contentLanguage: "fi", expires: "Wed, 21 Oct 2026 07:28:00 GMT"
                ),
                userMetadata: ["camera": "x100", "ääkköset": "ok"],
                tags: [ObjectTag("z", "1"), ObjectTag("a", "2")],
                checksums: ObjectChecksums(["CRC32": "AAAAAA==", "SHA256": "abc="], type: .composite),
                partsCount: 2, createdAt: at(10),
                placement: PlacementInfo(
                    policySetHash: "sha256:feed", residencyPolicies: ["fi-only", "eu"], replicationPolicy: "three",
                    plannedZones: ["FI-HEL-UC-1", "FI-HEL-ST-1", "FI-HEL-HZ-1"], requiredCopies: 3, writeQuorum: 2,
                    replicationDeadline: at(3600)
                ),
                retention: ObjectRetention(mode: .governance, retainUntil: at(86_400)), legalHold: true
            )
            try await store.recordIntent(WriteIntent(
                storageId: "st-1", bucket: "photos", key: "2025/cat.jpg", zones: version.placement.plannedZones,
                backendKey: "photos/2025/cat.jpg/st-1", createdAt: at(9)
            ))
            let log = OperationLogEntry(
                time: at(10), requestId: "req-1", principal: "alice", operation: "PutObject", bucket: "photos",
                key: "2025/cat.jpg", versionId: "v-1", httpStatus: 200, zones: ["FI-HEL-UC-1", "FI-HEL-ST-1"],
                policySetHash: "sha256:feed", bytes: 1234, durationMs: 42
            )
            let result = try await store.commit(VersionCommit(
                version: version,
                replicas: [
                    CommitReplica(zone: "FI-HEL-ST-1", status: .complete, backendKey: "photos/2025/cat.jpg/st-1", etag: "e1"),
                    CommitReplica(zone: "FI-HEL-UC-1", status: .complete, backendKey: "photos/2025/cat.jpg/st-1", etag: "e2"),
                    CommitReplica(zone: "FI-HEL-HZ-1", status: .pending, backendKey: "photos/2025/cat.jpg/st-1"),
                ],
                log: log
            ))

            var expected = version
            expected.sequence = result.version.sequence
            #expect(result.version == expected)
            #expect(result.version.sequence > 0)
            #expect(result.replaced == nil)
            #expect(try await store.latestVersion(bucket: "photos", key: "2025/cat.jpg") == expected)
            #expect(try await store.version(bucket: "photos", key: "2025/cat.jpg", versionId: "v-1") == expected)
            #expect(try await store.version(storageId: "st-1") == expected)
            #expect(try await store.version(bucket: "photos", key: "2025/cat.jpg", versionId: "nope") == nil)

            let replicas = try await store.replicas(storageId: "st-1")
            #expect(replicas.map(\.zone) == ["FI-HEL-HZ-1", "FI-HEL-ST-1", "FI-HEL-UC-1"])
            #expect(replicas.map(\.status) == [.pending, .complete, .complete])
            #expect(replicas.allSatisfy { $0.size == 1234 && $0.updatedAt == at(10) })

            // One copy still to make: one replicate job, sourced from the first complete zone in plan order.
            let job = try #require(result.replicationJobs.first)
            #expect(result.replicationJobs.count == 1)
            #expect(job.kind == .replicate && job.zone == "FI-HEL-HZ-1" && job.sourceZone == "FI-HEL-UC-1")
            #expect(job.status == .queued && job.attempts == 0 && job.deadline == at(3600))
            #expect(job.backendKey == "photos/2025/cat.jpg/st-1" && job.bucket == "photos" && job.key == "2025/cat.jpg")
            #expect(try await store.job(id: job.id) == job)

            // The intent is gone and the log row exists.
            #expect(try await store.staleIntents(olderThan: at(1_000_000), limit: 10).isEmpty)
            let logged = try await store.queryLog(OperationLogQuery())
            var expectedLog = log
            expectedLog.id = try #require(result.logId)
            #expect(logged == [expectedLog])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func versionsGetIncreasingSequences(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            var results: [CommitResult] = []
            for i in 0..<3 {
                results.append(try await fixture.put(key: "cat.jpg", etag: "\"e\(i)\"", time: i))
            }
            let sequences = results.map(\.version.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == 3)
            #expect(try await store.latestVersion(bucket: "photos", key: "cat.jpg")?.etag == "\"e2\"")

            let listing = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(listing.versions.map(\.etag) == ["\"e2\"", "\"e1\"", "\"e0\""])
            #expect(listing.versions.map(\.isLatest) == [true, false, false])
            // Older versions stay readable by id.
            let first = results[0].version
            #expect(try await store.version(bucket: "photos", key: "cat.jpg", versionId: first.versionId)?.isLatest == false)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func nullVersionReplacesPreviousNullVersion(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"]
            let first = try await fixture.put(key: "cat.jpg", versionId: nullVersionID, etag: "\"one\"", time: 1, zones: zones)
            #expect(first.replicationJobs.count == 2)

            let second = try await fixture.put(key: "cat.jpg", versionId: nullVersionID, etag: "\"two\"", time: 2, zones: zones)
            #expect(second.replaced?.storageId == first.version.storageId)
            #expect(second.replaced?.etag == "\"one\"")

            // The old version is gone, its copies become delete jobs and its queued copies are cancelled.
            #expect(try await store.version(storageId: first.version.storageId) == nil)
            #expect(second.deleteJobs.map(\.zone).sorted() == zones.sorted())
            #expect(second.deleteJobs.allSatisfy {
                $0.kind == .delete && $0.storageId == first.version.storageId
                    && $0.backendKey == Fixture.backendKey(first.version) && $0.status == .queued
            })
            #expect(try await store.replicas(storageId: first.version.storageId).allSatisfy { $0.status == .deleting })
            for job in first.replicationJobs {
                #expect(try await store.job(id: job.id) == nil)
            }

            let listing = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(listing.versions.map(\.etag) == ["\"two\""])
            #expect(try await store.latestVersion(bucket: "photos", key: "cat.jpg")?.etag == "\"two\"")

            // Completing the delete jobs removes the old replica rows.
            for job in second.deleteJobs {
                try await store.completeJob(id: job.id, etag: nil, now: at(3))
            }
            #expect(try await store.replicas(storageId: first.version.storageId).isEmpty)

            // A "null" delete marker replaces the null version too.
            let marker = try await fixture.deleteMarker(key: "cat.jpg", versionId: nullVersionID, time: 4)
            #expect(marker.replaced?.storageId == second.version.storageId)
            #expect(marker.deleteJobs.count == zones.count)
            #expect(try await store.listObjects(ListObjectsRequest(bucket: "photos")).objects.isEmpty)
            let afterMarker = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(afterMarker.versions.map(\.isDeleteMarker) == [true])
            #expect(afterMarker.versions.map(\.versionId) == [nullVersionID])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func suspendedVersioningKeepsIdentifiedVersions(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let identified = try await fixture.put(key: "cat.jpg", versionId: "v-1", time: 1)
            _ = try await store.setVersioning(.suspended, bucket: "photos")
            let nullOne = try await fixture.put(key: "cat.jpg", versionId: nullVersionID, etag: "\"n1\"", time: 2)
            #expect(nullOne.replaced == nil)
            let nullTwo = try await fixture.put(key: "cat.jpg", versionId: nullVersionID, etag: "\"n2\"", time: 3)
            #expect(nullTwo.replaced?.etag == "\"n1\"")
            let listing = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(listing.versions.map(\.versionId) == [nullVersionID, "v-1"])
            #expect(listing.versions.map(\.etag) == ["\"n2\"", identified.version.etag])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func deleteMarkersHideKeysFromListObjectsOnly(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let a = try await fixture.put(key: "a", time: 1)
            try await fixture.put(key: "b", time: 2)
            let marker = try await fixture.deleteMarker(key: "a", time: 3)
            #expect(marker.version.isDeleteMarker && marker.version.isLatest)
            #expect(marker.replicationJobs.isEmpty && marker.deleteJobs.isEmpty)

            let objects = try await store.listObjects(ListObjectsRequest(bucket: "photos"))
            #expect(objects.objects.map(\.key) == ["b"])
            #expect(try await store.latestVersion(bucket: "photos", key: "a")?.isDeleteMarker == true)

            let versions = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(versions.versions.map(\.key) == ["a", "a", "b"])
            #expect(versions.versions.map(\.isDeleteMarker) == [true, false, false])
            #expect(versions.versions.map(\.isLatest) == [true, false, true])

            // Removing the marker brings the key back.
            let removed = try await store.deleteVersion(DeleteVersionRequest(
                bucket: "photos", key: "a", versionId: marker.version.versionId, now: at(4)
            ))
            #expect(removed.newLatest?.storageId == a.version.storageId)
            #expect(removed.newLatest?.isLatest == true)
            #expect(removed.deleteJobs.isEmpty)
            #expect(try await store.listObjects(ListObjectsRequest(bucket: "photos")).objects.map(\.key) == ["a", "b"])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func permanentDeletionQueuesBackendDeletes(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
            let old = try await fixture.put(key: "k", time: 1, zones: zones)
            let new = try await fixture.put(key: "k", time: 2, zones: zones)

            let log = OperationLogEntry(time: at(3), requestId: "r", operation: "DeleteObject", bucket: "photos", key: "k", httpStatus: 204)
            let deletedOld = try await store.deleteVersion(DeleteVersionRequest(
                bucket: "photos", key: "k", versionId: old.version.versionId, now: at(3), log: log
            ))
            #expect(deletedOld.version.storageId == old.version.storageId)
            #expect(deletedOld.newLatest?.storageId == new.version.storageId)
            #expect(deletedOld.deleteJobs.map(\.zone) == zones)
            #expect(deletedOld.logId != nil)

            let deletedNew = try await store.deleteVersion(DeleteVersionRequest(
                bucket: "photos", key: "k", versionId: new.version.versionId, now: at(4)
            ))
            #expect(deletedNew.newLatest == nil)
            #expect(try await store.latestVersion(bucket: "photos", key: "k") == nil)
            await expectError(.notFound) {
                try await store.deleteVersion(DeleteVersionRequest(bucket: "photos", key: "k", versionId: "gone", now: at(5)))
            }
        }
    }

    @Test(arguments: StoreKind.testCases)
    func writePreconditions(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            try await fixture.put(key: "k", etag: "\"one\"", time: 1, precondition: .keyAbsent)
            await expectError(.preconditionFailed) { try await fixture.put(key: "k", time: 2, precondition: .keyAbsent) }
            await expectError(.preconditionFailed) { try await fixture.put(key: "k", time: 2, precondition: .latestETag("\"two\"")) }
            try await fixture.put(key: "k", etag: "\"two\"", time: 3, precondition: .latestETag("one"))
            try await fixture.deleteMarker(key: "k", time: 4)
            try await fixture.put(key: "k", etag: "\"three\"", time: 5, precondition: .keyAbsent)
            await expectError(.preconditionFailed) { try await fixture.put(key: "new", time: 6, precondition: .latestETag("\"x\"")) }
            #expect(try await store.listVersions(ListVersionsRequest(bucket: "photos")).versions.count == 4)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func failedCommitLeavesNothingVisible(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let zones = ["FI-HEL-ST-1", "FI-HEL-UC-1"]
            let original = try await fixture.put(key: "k", versionId: nullVersionID, etag: "\"orig\"", time: 1, zones: zones)
            let countsBefore = try await store.jobCounts(now: at(2))
            let logBefore = try await store.queryLog(OperationLogQuery())

            // The replacing commit fails on its second replica row (the same zone twice), after it
            // already removed the old null version, inserted itself and its first replica.
            var version = fixture.version(key: "k", versionId: nullVersionID, time: 2, zones: zones)
            version.etag = "\"broken\""
            try await store.recordIntent(WriteIntent(
                storageId: version.storageId, bucket: "photos", key: "k", zones: zones, backendKey: "x", createdAt: at(2)
            ))
            let duplicate = CommitReplica(zone: "FI-HEL-ST-1", status: .complete, backendKey: "x")
            await #expect(throws: MetadataError.self) {
                try await store.commit(VersionCommit(
                    version: version, replicas: [duplicate, duplicate],
                    log: OperationLogEntry(time: at(2), requestId: "r", operation: "PutObject", httpStatus: 200)
                ))
            }

            #expect(try await store.latestVersion(bucket: "photos", key: "k") == original.version)
            #expect(try await store.version(storageId: version.storageId) == nil)
            #expect(try await store.replicas(storageId: version.storageId).isEmpty)
            #expect(try await store.replicas(storageId: original.version.storageId).allSatisfy { $0.status != .deleting })
            #expect(try await store.jobCounts(now: at(2)) == countsBefore)
            #expect(try await store.queryLog(OperationLogQuery()) == logBefore)
            #expect(try await store.staleIntents(olderThan: at(10), limit: 10).map(\.storageId) == [version.storageId])

            // Other failures: no bucket, reused storage id.
            await expectError(.notFound) { try await fixture.put(bucket: "missing", key: "k") }
            await expectError(.alreadyExists) {
                try await store.commit(VersionCommit(version: fixture.version(key: "other", storageId: original.version.storageId)))
            }
            #expect(try await store.listObjects(ListObjectsRequest(bucket: "photos")).objects.map(\.key) == ["k"])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func objectLockProtectsVersions(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let v = try await fixture.put(key: "k", time: 1).version
            func delete(bypass: Bool = false, now: Int = 10) async throws -> DeletedVersion {
                try await store.deleteVersion(DeleteVersionRequest(
                    bucket: "photos", key: "k", versionId: v.versionId, now: at(now), bypassGovernance: bypass
                ))
            }

            _ = try await store.updateLegalHold(bucket: "photos", key: "k", versionId: v.versionId, legalHold: true)
            await expectError(.objectLocked) { try await delete(bypass: true) }
            _ = try await store.updateLegalHold(bucket: "photos", key: "k", versionId: v.versionId, legalHold: false)

            let governance = ObjectRetention(mode: .governance, retainUntil: at(100))
            let updated = try await store.updateRetention(
                bucket: "photos", key: "k", versionId: v.versionId, retention: governance, bypassGovernance: false, now: at(10)
            )
            #expect(updated.retention == governance)
            await expectError(.objectLocked) { try await delete() }
            // Shortening GOVERNANCE needs the bypass; extending or hardening does not.
            await expectError(.objectLocked) {
                try await store.updateRetention(
                    bucket: "photos", key: "k", versionId: v.versionId,
                    retention: ObjectRetention(mode: .governance, retainUntil: at(50)), bypassGovernance: false, now: at(10)
                )
            }
            let compliance = ObjectRetention(mode: .compliance, retainUntil: at(200))
            _ = try await store.updateRetention(
                bucket: "photos", key: "k", versionId: v.versionId, retention: compliance, bypassGovernance: false, now: at(10)
            )
            // COMPLIANCE: no shortening, no removal, no deletion, even with the bypass.
            await expectError(.objectLocked) {
                try await store.updateRetention(
                    bucket: "photos", key: "k", versionId: v.versionId, retention: nil, bypassGovernance: true, now: at(10)
                )
            }
            await expectError(.objectLocked) { try await delete(bypass: true) }
            // Once expired, the version can go.
            let deleted = try await delete(now: 201)
            #expect(deleted.version.retention == compliance)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func tagsKeepTheirOrder(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let v = try await fixture.put(key: "k").version
            let tags = [ObjectTag("zeta", "1"), ObjectTag("alpha", ""), ObjectTag("mid", "x y")]
            let updated = try await store.updateTags(bucket: "photos", key: "k", versionId: v.versionId, tags: tags)
            #expect(updated.tags == tags)
            #expect(try await store.latestVersion(bucket: "photos", key: "k")?.tags == tags)
            await expectError(.notFound) { try await store.updateTags(bucket: "photos", key: "k", versionId: "nope", tags: []) }
            let marker = try await fixture.deleteMarker(key: "k", time: 1)
            await expectError(.invalidArgument) {
                try await store.updateTags(bucket: "photos", key: "k", versionId: marker.version.versionId, tags: tags)
            }
        }
    }

    @Test(arguments: StoreKind.testCases)
    func writeIntentLifecycle(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            func intent(_ id: String, _ time: Int) -> WriteIntent {
                WriteIntent(storageId: id, bucket: "photos", key: "k-\(id)", zones: ["A", "B"], backendKey: "photos/k/\(id)", createdAt: at(time))
            }
            try await store.recordIntent(intent("s3", 30))
            try await store.recordIntent(intent("s1", 10))
            try await store.recordIntent(intent("s2", 20))
            await expectError(.alreadyExists) { try await store.recordIntent(intent("s1", 40)) }

            #expect(try await store.staleIntents(olderThan: at(25), limit: 10) == [intent("s1", 10), intent("s2", 20)])
            #expect(try await store.staleIntents(olderThan: at(100), limit: 1) == [intent("s1", 10)])

            // The commit of the same storage id removes its intent.
            var version = fixture.version(key: "k-s1", versionId: nullVersionID, storageId: "s1")
            version.createdAt = at(11)
            _ = try await store.commit(VersionCommit(version: version))
            // The reconciler cleaned s2 up.
            try await store.abandonIntent(storageId: "s2")
            try await store.abandonIntent(storageId: "never-recorded")
            #expect(try await store.staleIntents(olderThan: at(100), limit: 10).map(\.storageId) == ["s3"])
        }
    }
}
