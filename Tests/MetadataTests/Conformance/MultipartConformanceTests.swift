import Foundation
import Testing

@testable import Metadata

@Suite("Conformance: multipart uploads")
struct MultipartConformanceTests {
    static func upload(_ id: String, key: String, time: Int = 0) -> MultipartUpload {
        MultipartUpload(
            uploadId: id, bucket: "photos", key: key, storageId: "st-\(id)", backendKey: "photos/\(key)/st-\(id)",
            initiatedAt: at(time), initiator: "alice",
            headers: ObjectHeaders(contentType: "video/mp4", cacheControl: "no-cache"),
            userMetadata: ["origin": "camera"], tags: [ObjectTag("project", "x")], checksumAlgorithm: "CRC32",
            checksumType: .composite,
            placement: PlacementInfo(
                policySetHash: "sha256:1", residencyPolicies: ["fi"], replicationPolicy: "two",
                plannedZones: ["FI-HEL-ST-1", "FI-HEL-UC-1"], requiredCopies: 2, writeQuorum: 2
            ),
            backendUploads: ["FI-HEL-ST-1": "bk-1", "FI-HEL-UC-1": "bk-2"],
            retention: ObjectRetention(mode: .governance, retainUntil: at(999)), legalHold: false
        )
    }

    static func part(_ uploadId: String, _ number: Int, etag: String = "e", time: Int = 1) -> MultipartPart {
        MultipartPart(
            uploadId: uploadId, partNumber: number, size: 5_242_880, etag: "\"\(etag)\(number)\"",
            checksums: ["CRC32": "AAA\(number)"], backendETags: ["FI-HEL-ST-1": "b\(number)", "FI-HEL-UC-1": "c\(number)"],
            createdAt: at(time)
        )
    }

    @Test(arguments: StoreKind.testCases)
    func uploadsInitiatedBeforeADateComeOldestFirstFromEveryBucket(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            try await fixture.bucket("videos", versioning: .enabled)
            try await store.createUpload(Self.upload("u-new", key: "a", time: 50))
            try await store.createUpload(Self.upload("u-old", key: "z", time: 10))
            var other = Self.upload("u-mid", key: "m", time: 20)
            other.bucket = "videos"
            try await store.createUpload(other)
            #expect(try await store.uploads(initiatedBefore: at(30), limit: 10).map(\.uploadId) == ["u-old", "u-mid"])
            #expect(try await store.uploads(initiatedBefore: at(30), limit: 1).map(\.uploadId) == ["u-old"])
            #expect(try await store.uploads(initiatedBefore: at(10), limit: 10).isEmpty)
            let all = try await store.uploads(initiatedBefore: at(100), limit: 10)
            #expect(all.map(\.uploadId) == ["u-old", "u-mid", "u-new"])
            #expect(all.first == Self.upload("u-old", key: "z", time: 10))
            _ = try await store.abortUpload(id: "u-old")
            #expect(try await store.uploads(initiatedBefore: at(30), limit: 10).map(\.uploadId) == ["u-mid"])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func completeCommitsTheVersionAndRemovesTheUpload(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            var missingBucket = Self.upload("u0", key: "x")
            missingBucket.bucket = "nope"
            await expectError(.notFound) { try await store.createUpload(missingBucket) }

            let upload = Self.upload("u1", key: "movie.mp4")
            try await store.createUpload(upload)
            await expectError(.alreadyExists) { try await store.createUpload(upload) }
            #expect(try await store.upload(id: "u1") == upload)
            #expect(try await store.upload(id: "nope") == nil)

            for n in [3, 1, 2] { #expect(try await store.putPart(Self.part("u1", n)) == nil) }
            // Uploading part 2 again replaces it and returns the old one.
            #expect(try await store.putPart(Self.part("u1", 2, etag: "new", time: 2)) == Self.part("u1", 2))
            await expectError(.notFound) { try await store.putPart(Self.part("nope", 1)) }
            await expectError(.invalidArgument) { try await store.putPart(Self.part("u1", 0)) }

            let firstPage = try await store.listParts(uploadId: "u1", partNumberMarker: nil, maxParts: 2)
            #expect(firstPage.parts.map(\.partNumber) == [1, 2] && firstPage.isTruncated && firstPage.nextPartNumberMarker == 2)
            #expect(firstPage.parts[1] == Self.part("u1", 2, etag: "new", time: 2))
            let secondPage = try await store.listParts(uploadId: "u1", partNumberMarker: 2, maxParts: 2)
            #expect(secondPage.parts.map(\.partNumber) == [3] && !secondPage.isTruncated && secondPage.nextPartNumberMarker == nil)

            var version = fixture.version(key: "movie.mp4", storageId: "st-u1", size: 3 * 5_242_880, etag: "\"abc-3\"", time: 5)
            version.partsCount = 3
            let result = try await store.completeUpload(id: "u1", commit: VersionCommit(
                version: version, replicas: [
                    CommitReplica(zone: "FI-HEL-ST-1", status: .complete, backendKey: upload.backendKey),
                    CommitReplica(zone: "FI-HEL-UC-1", status: .complete, backendKey: upload.backendKey),
                ]
            ))
            #expect(result.version.partsCount == 3 && result.version.isLatest)
            // Every zone completed: no backend upload is left to abort.
            #expect(result.abortJobs.isEmpty)
            #expect(try await store.latestVersion(bucket: "photos", key: "movie.mp4")?.storageId == "st-u1")
            #expect(try await store.upload(id: "u1") == nil)
            await expectError(.notFound) { try await store.listParts(uploadId: "u1", partNumberMarker: nil, maxParts: 10) }
            await expectError(.notFound) { try await store.completeUpload(id: "u1", commit: VersionCommit(version: version)) }
            #expect(try await store.listUploads(ListUploadsRequest(bucket: "photos")).uploads.isEmpty)

            // A version that does not belong to the upload is refused and nothing changes.
            try await store.createUpload(Self.upload("u2", key: "other.mp4"))
            await expectError(.invalidArgument) {
                try await store.completeUpload(id: "u2", commit: VersionCommit(version: fixture.version(key: "other.mp4")))
            }
            #expect(try await store.upload(id: "u2") != nil)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func abortReturnsTheUploadAndItsParts(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            try await store.createUpload(Self.upload("u1", key: "big.bin"))
            for n in 1...3 { _ = try await store.putPart(Self.part("u1", n)) }
            let aborted = try await store.abortUpload(id: "u1")
            #expect(aborted.upload == Self.upload("u1", key: "big.bin"))
            #expect(aborted.parts == (1...3).map { Self.part("u1", $0) })
            // One job per zone with a backend upload, queued in the same transaction.
            #expect(aborted.jobs.map(\.zone) == ["FI-HEL-ST-1", "FI-HEL-UC-1"])
            #expect(aborted.jobs.allSatisfy { $0.kind == .abortUpload && $0.status == .queued && $0.backendKey == "photos/big.bin/st-u1" })
            #expect(try await store.job(id: aborted.jobs[0].id) == aborted.jobs[0])
            try await store.completeJob(id: aborted.jobs[0].id, etag: nil, now: at(10))
            #expect(try await store.job(id: aborted.jobs[0].id)?.status == .done)
            #expect(try await store.upload(id: "u1") == nil)
            await expectError(.notFound) { try await store.abortUpload(id: "u1") }
            #expect(try await store.listObjects(ListObjectsRequest(bucket: "photos")).objects.isEmpty)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func completionQueuesTheAbortOfZonesThatDidNotComplete(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let upload = Self.upload("u1", key: "movie.mp4")
            try await store.createUpload(upload)
            let version = fixture.version(key: "movie.mp4", storageId: "st-u1", size: 10, etag: "\"abc-1\"", time: 5)
            let result = try await store.completeUpload(id: "u1", commit: VersionCommit(
                version: version, replicas: [
                    CommitReplica(zone: "FI-HEL-ST-1", status: .complete, backendKey: upload.backendKey),
                    CommitReplica(zone: "FI-HEL-UC-1", status: .pending, backendKey: upload.backendKey),
                ]
            ))
            // The zone that did not complete gets its copy by replication and its upload aborted.
            #expect(result.replicationJobs.map(\.zone) == ["FI-HEL-UC-1"])
            #expect(result.abortJobs.map(\.zone) == ["FI-HEL-UC-1"] && result.abortJobs[0].kind == .abortUpload)
            #expect(result.abortJobs[0].storageId == "st-u1" && result.abortJobs[0].backendKey == upload.backendKey)
            #expect(try await store.jobCounts(now: at(5)).queued == 2)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func createUploadTakesOverItsIntentUnlessReclaimed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let upload = Self.upload("u1", key: "a.bin")
            try await store.recordIntent(WriteIntent(storageId: upload.storageId, bucket: "photos", key: "a.bin",
                                                     zones: ["FI-HEL-ST-1"], backendKey: upload.backendKey, createdAt: at(0)))
            try await store.createUpload(upload)
            // Recording the upload removed the intent: the reconciler leaves the upload alone.
            #expect(try await store.staleIntents(olderThan: at(1_000_000), limit: 10).isEmpty)
            #expect(try await store.reclaimIntent(storageId: upload.storageId, now: at(10)) == nil)

            // A reclaimed intent (the reconciler is aborting the backend uploads) refuses the upload.
            let late = Self.upload("u2", key: "b.bin")
            try await store.recordIntent(WriteIntent(storageId: late.storageId, bucket: "photos", key: "b.bin",
                                                     zones: ["FI-HEL-ST-1"], backendKey: late.backendKey, createdAt: at(0)))
            #expect(try await store.reclaimIntent(storageId: late.storageId, now: at(10)) != nil)
            do {
                try await store.createUpload(late)
                Issue.record("a reclaimed intent must refuse the upload")
            } catch let error as MetadataError {
                #expect(error.isReclaimedWrite)
            }
            #expect(try await store.upload(id: "u2") == nil)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func listUploadsByKeyThenInitiation(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let specs: [(String, String, Int)] = [
                ("u5", "b.bin", 1), ("u1", "a.bin", 3), ("u2", "a.bin", 1), ("u3", "a.bin", 2),
                ("u4", "dir/x", 1), ("u6", "dir/y", 1), ("u7", "c.bin", 9),
            ]
            for (id, key, time) in specs { try await store.createUpload(Self.upload(id, key: key, time: time)) }

            let all = try await store.listUploads(ListUploadsRequest(bucket: "photos"))
            #expect(all.uploads.map(\.uploadId) == ["u2", "u3", "u1", "u5", "u7", "u4", "u6"])
            let grouped = try await store.listUploads(ListUploadsRequest(bucket: "photos", delimiter: "/"))
            #expect(grouped.uploads.map(\.uploadId) == ["u2", "u3", "u1", "u5", "u7"] && grouped.commonPrefixes == ["dir/"])
            let prefixed = try await store.listUploads(ListUploadsRequest(bucket: "photos", prefix: "dir/"))
            #expect(prefixed.uploads.map(\.uploadId) == ["u4", "u6"])

            var collected: [String] = []
            var keyMarker: String?
            var uploadMarker: String?
            for _ in 0..<20 {
                let page = try await store.listUploads(ListUploadsRequest(
                    bucket: "photos", keyMarker: keyMarker, uploadIdMarker: uploadMarker, maxUploads: 2
                ))
                collected += page.uploads.map(\.uploadId)
                guard page.isTruncated else { break }
                keyMarker = page.nextKeyMarker
                uploadMarker = page.nextUploadIdMarker
            }
            #expect(collected == all.uploads.map(\.uploadId))
        }
    }
}
