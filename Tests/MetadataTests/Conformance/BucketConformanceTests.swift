import Foundation
import Testing

@testable import Metadata

/// One conformance suite for every ``MetadataStore``; each test runs once per ``StoreKind``.
@Suite("Conformance: buckets")
struct BucketConformanceTests {
    @Test(arguments: StoreKind.testCases)
    func bucketLifecycle(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            let created = try await fixture.bucket("b-2")
            try await fixture.bucket("a-1")
            try await fixture.bucket("C")
            await expectError(.alreadyExists) { try await fixture.bucket("b-2") }

            #expect(try await store.bucket(named: "b-2") == created)
            #expect(try await store.bucket(named: "missing") == nil)
            #expect(try await store.listBuckets().map(\.name) == ["C", "a-1", "b-2"])

            let versioned = try await store.setVersioning(.enabled, bucket: "b-2")
            #expect(versioned.versioning == .enabled)
            let locked = try await store.setObjectLock(
                enabled: true, defaultRetention: DefaultRetention(mode: .compliance, period: .days(30)), bucket: "b-2"
            )
            #expect(locked.objectLockEnabled)
            #expect(locked.defaultRetention == DefaultRetention(mode: .compliance, period: .days(30)))
            let years = try await store.setObjectLock(
                enabled: true, defaultRetention: DefaultRetention(mode: .governance, period: .years(2)), bucket: "b-2"
            )
            #expect(years.defaultRetention == DefaultRetention(mode: .governance, period: .years(2)))
            #expect(try await store.bucket(named: "b-2") == years)
            await expectError(.notFound) { try await store.setVersioning(.suspended, bucket: "missing") }

            try await store.deleteBucket(named: "a-1")
            #expect(try await store.listBuckets().map(\.name) == ["C", "b-2"])
            await expectError(.notFound) { try await store.deleteBucket(named: "a-1") }
        }
    }

    @Test(arguments: StoreKind.testCases)
    func bucketNotEmptyWhileAnythingRemains(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let put = try await fixture.put(key: "cat.jpg")
            await expectError(.notEmpty) { try await store.deleteBucket(named: "photos") }

            // Only a delete marker left: still not empty.
            try await fixture.deleteMarker(key: "cat.jpg", time: 1)
            _ = try await store.deleteVersion(DeleteVersionRequest(
                bucket: "photos", key: "cat.jpg", versionId: put.version.versionId, now: at(2)
            ))
            await expectError(.notEmpty) { try await store.deleteBucket(named: "photos") }
            let marker = try #require(try await store.latestVersion(bucket: "photos", key: "cat.jpg"))
            _ = try await store.deleteVersion(DeleteVersionRequest(
                bucket: "photos", key: "cat.jpg", versionId: marker.versionId, now: at(3)
            ))

            // Only a multipart upload left: still not empty.
            try await store.createUpload(MultipartUpload(
                uploadId: "up-1", bucket: "photos", key: "big.bin", storageId: "s-big", backendKey: "photos/big.bin/s-big",
                initiatedAt: at(4), initiator: "alice"
            ))
            await expectError(.notEmpty) { try await store.deleteBucket(named: "photos") }
            _ = try await store.abortUpload(id: "up-1")

            try await store.deleteBucket(named: "photos")
            #expect(try await store.bucket(named: "photos") == nil)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func pingAnswers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.ping()
            // Migrations are idempotent.
            try await store.migrate()
            try await store.ping()
        }
    }
}
