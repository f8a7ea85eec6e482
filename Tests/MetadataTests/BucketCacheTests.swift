import Foundation
import Testing

@testable import Metadata

@Suite("Bucket cache")
struct BucketCacheTests {
    func withStores(lifetime: Duration, _ body: (SQLiteMetadataStore, SQLiteMetadataStore) async throws -> Void) async throws {
        let directory = SQLiteStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SQLiteMetadataStore.Configuration(directory: directory.path)
        configuration.bucketCacheLifetime = lifetime
        let first = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        let second = try await SQLiteMetadataStore.open(configuration: configuration, logger: quietLogger)
        do {
            try await body(first, second)
        } catch {
            await first.close()
            await second.close()
            throw error
        }
        await first.close()
        await second.close()
    }

    /// A change made through the store is seen by its next read, though the bucket was cached.
    @Test func aChangeThroughTheStoreIsSeenAtOnce() async throws {
        try await withStores(lifetime: .seconds(3600)) { store, _ in
            try await Fixture(store).bucket("photos")
            #expect(try await store.bucket(named: "photos")?.versioning == .unversioned)
            _ = try await store.setVersioning(.enabled, bucket: "photos")
            #expect(try await store.bucket(named: "photos")?.versioning == .enabled)
            _ = try await store.setObjectLock(enabled: true, defaultRetention: nil, bucket: "photos")
            #expect(try await store.bucket(named: "photos")?.objectLockEnabled == true)
            try await store.deleteBucket(named: "photos")
            #expect(try await store.bucket(named: "photos") == nil)
            try await Fixture(store).bucket("photos")
            #expect(try await store.bucket(named: "photos")?.versioning == .unversioned)
        }
    }

    /// A change made by another store on the same database is seen once the entry expires;
    /// a bucket that another store creates is found at once (absent buckets are not kept).
    @Test func anotherStoresChangeIsSeenWhenTheEntryExpires() async throws {
        try await withStores(lifetime: .milliseconds(1500)) { first, second in
            #expect(try await first.bucket(named: "photos") == nil)
            try await Fixture(second).bucket("photos")
            #expect(try await first.bucket(named: "photos")?.versioning == .unversioned)
            _ = try await second.setVersioning(.enabled, bucket: "photos")
            // Still the row read above: the cache answered.
            #expect(try await first.bucket(named: "photos")?.versioning == .unversioned)
            try await Task.sleep(for: .milliseconds(1700))
            #expect(try await first.bucket(named: "photos")?.versioning == .enabled)
        }
    }

    /// A read that began before a change does not put its older row back.
    @Test func aReadFromBeforeAChangeIsNotKept() {
        let cache = BucketCache(lifetime: .seconds(3600))
        let old = Bucket(name: "photos", createdAt: Date(timeIntervalSince1970: 0), owner: "alice", region: "eu-north-1",
                         versioning: .unversioned)
        let (missing, before) = cache.lookup("photos")
        #expect(missing == nil)
        cache.changed("photos")
        cache.keep(old, readAfter: before)
        #expect(cache.lookup("photos").bucket == nil)
        let (_, now) = cache.lookup("photos")
        cache.keep(old, readAfter: now)
        #expect(cache.lookup("photos").bucket == old)
        // A lifetime of zero keeps nothing.
        let off = BucketCache(lifetime: .zero)
        off.keep(old, readAfter: off.lookup("photos").changes)
        #expect(off.lookup("photos").bucket == nil)
    }
}
