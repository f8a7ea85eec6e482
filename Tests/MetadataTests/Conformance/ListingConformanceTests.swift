import Foundation
import Testing

@testable import Metadata

@Suite("Conformance: listings")
struct ListingConformanceTests {
    static let keys = [
        "a.txt", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/x.jpg",
        "readme", "videos/v.mp4", "z",
    ]

    /// Keys and common prefixes of a listing, in S3 order.
    enum Entry: Hashable, CustomStringConvertible {
        case key(String)
        case prefix(String)

        var description: String {
            switch self {
            case .key(let k): k
            case .prefix(let p): "[\(p)]"
            }
        }

        var name: String {
            switch self {
            case .key(let k): k
            case .prefix(let p): p
            }
        }
    }

    static func entries(_ listing: ObjectListing) -> [Entry] {
        (listing.objects.map { Entry.key($0.key) } + listing.commonPrefixes.map { Entry.prefix($0) })
            .sorted { KeyOrder.less($0.name, $1.name) }
    }

    /// Pages through a listing `pageSize` entries at a time.
    static func pages(_ store: any MetadataStore, prefix: String, delimiter: String?, pageSize: Int) async throws -> [Entry] {
        var all: [Entry] = []
        var marker: String?
        for _ in 0..<100 {
            let page = try await store.listObjects(ListObjectsRequest(
                bucket: "photos", prefix: prefix, delimiter: delimiter, startAfter: marker, maxKeys: pageSize
            ))
            let entries = entries(page)
            #expect(entries.count <= pageSize)
            all += entries
            guard page.isTruncated else { return all }
            #expect(page.nextMarker == entries.last?.name)
            marker = page.nextMarker
        }
        Issue.record("listing did not end")
        return all
    }

    @Test(arguments: StoreKind.testCases)
    func listObjectsWithPrefixDelimiterAndPages(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            for (i, key) in Self.keys.shuffled().enumerated() {
                try await fixture.put(key: key, versionId: nullVersionID, time: i)
            }

            let root = try await store.listObjects(ListObjectsRequest(bucket: "photos", delimiter: "/"))
            #expect(root.objects.map(\.key) == ["a.txt", "readme", "z"])
            #expect(root.commonPrefixes == ["photos/", "videos/"])
            #expect(!root.isTruncated && root.nextMarker == nil)

            let photos = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "photos/", delimiter: "/"))
            #expect(photos.objects.map(\.key) == ["photos/x.jpg"])
            #expect(photos.commonPrefixes == ["photos/2024/", "photos/2025/"])

            let flat = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "photos/2024/"))
            #expect(flat.objects.map(\.key) == ["photos/2024/a.jpg", "photos/2024/b.jpg"])
            #expect(flat.commonPrefixes.isEmpty)

            let all = try await store.listObjects(ListObjectsRequest(bucket: "photos"))
            #expect(all.objects.map(\.key) == Self.keys)

            let none = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "nothing/"))
            #expect(none.objects.isEmpty && none.commonPrefixes.isEmpty && !none.isTruncated)

            // Paging gives the same entries as one page, whatever the page size.
            for (prefix, delimiter) in [("", "/"), ("photos/", "/"), ("", nil), ("photos/", nil), ("p", "/")] as [(String, String?)] {
                let whole = Self.entries(try await store.listObjects(ListObjectsRequest(
                    bucket: "photos", prefix: prefix, delimiter: delimiter
                )))
                for size in 1...4 {
                    let paged = try await Self.pages(store, prefix: prefix, delimiter: delimiter, pageSize: size)
                    #expect(paged == whole, "prefix \(prefix) delimiter \(delimiter ?? "-") page \(size)")
                }
            }

            // A marker inside a rolled-up prefix continues after that prefix.
            let after = try await store.listObjects(ListObjectsRequest(
                bucket: "photos", delimiter: "/", startAfter: "photos/2024/a.jpg"
            ))
            #expect(Self.entries(after) == [.key("readme"), .prefix("videos/"), .key("z")])
            // A marker before the prefix starts at the prefix; one after it ends the listing.
            let before = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "photos/", startAfter: "a"))
            #expect(before.objects.count == 4)
            let beyond = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "photos/", startAfter: "q"))
            #expect(beyond.objects.isEmpty)

            let zero = try await store.listObjects(ListObjectsRequest(bucket: "photos", maxKeys: 0))
            #expect(zero.objects.isEmpty && !zero.isTruncated)
            await expectError(.notFound) { try await store.listObjects(ListObjectsRequest(bucket: "missing")) }
            await expectError(.notFound) { try await store.listVersions(ListVersionsRequest(bucket: "missing")) }
            await expectError(.notFound) { try await store.listUploads(ListUploadsRequest(bucket: "missing")) }
        }
    }

    @Test(arguments: StoreKind.testCases)
    func keysSortByUTF8Bytes(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let keys = ["b", "a", "Z", "é", "e\u{301}", "e", "日本/1", "日本/2", "😀", "a b", "a-b", "A", "ä", "z", "~", "\u{FFFD}x"]
            for (i, key) in keys.enumerated() {
                try await fixture.put(key: key, versionId: nullVersionID, time: i)
            }
            let expected = keys.sorted { KeyOrder.less($0, $1) }
            let listing = try await store.listObjects(ListObjectsRequest(bucket: "photos"))
            #expect(listing.objects.map(\.key) == expected)
            // "é" (precomposed) and "e\u{301}" (decomposed) are distinct keys.
            #expect(listing.objects.count == keys.count)

            let grouped = try await store.listObjects(ListObjectsRequest(bucket: "photos", prefix: "日", delimiter: "/"))
            #expect(grouped.commonPrefixes == ["日本/"] && grouped.objects.isEmpty)
            let paged = try await Self.pages(store, prefix: "", delimiter: "/", pageSize: 3).map(\.name)
            let expectedGrouped = (expected.filter { !$0.hasPrefix("日本/") } + ["日本/"]).sorted { KeyOrder.less($0, $1) }
            #expect(paged == expectedGrouped)
            let versions = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(versions.versions.map(\.key) == expected)
        }
    }

    @Test(arguments: StoreKind.testCases)
    func hiddenKeysDoNotBreakPages(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            let keys = (0..<20).map { String(format: "k%02d", $0) }
            for (i, key) in keys.enumerated() {
                try await fixture.put(key: key, time: i)
                if i % 3 != 0 { try await fixture.deleteMarker(key: key, time: 100 + i) }
            }
            let visible = keys.enumerated().filter { $0.offset % 3 == 0 }.map { Entry.key($0.element) }
            for size in [1, 2, 5] {
                #expect(try await Self.pages(store, prefix: "", delimiter: nil, pageSize: size) == visible)
            }
        }
    }

    @Test(arguments: StoreKind.testCases)
    func listVersionsPagesByKeyAndVersion(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let fixture = Fixture(store)
            try await fixture.bucket("photos", versioning: .enabled)
            var time = 0
            func put(_ key: String) async throws {
                time += 1
                try await fixture.put(key: key, versionId: "\(key)#\(time)", time: time)
            }
            for key in ["a", "a", "a", "b", "c/1", "c/2", "c/2", "d"] { try await put(key) }
            time += 1
            try await fixture.deleteMarker(key: "b", versionId: "b#marker", time: time)

            let whole = try await store.listVersions(ListVersionsRequest(bucket: "photos"))
            #expect(whole.versions.map(\.versionId) == ["a#3", "a#2", "a#1", "b#marker", "b#4", "c/1#5", "c/2#7", "c/2#6", "d#8"])
            #expect(whole.versions.map(\.isLatest) == [true, false, false, true, false, true, true, false, true])

            let grouped = try await store.listVersions(ListVersionsRequest(bucket: "photos", delimiter: "/"))
            #expect(grouped.versions.map(\.versionId) == ["a#3", "a#2", "a#1", "b#marker", "b#4", "d#8"])
            #expect(grouped.commonPrefixes == ["c/"])

            for delimiter in [nil, "/"] as [String?] {
                let all = try await store.listVersions(ListVersionsRequest(bucket: "photos", delimiter: delimiter))
                let expected = (all.versions.map { $0.versionId } + all.commonPrefixes)
                for size in 1...4 {
                    var collected: [String] = []
                    var keyMarker: String?
                    var versionMarker: String?
                    for _ in 0..<50 {
                        let page = try await store.listVersions(ListVersionsRequest(
                            bucket: "photos", delimiter: delimiter, keyMarker: keyMarker, versionIdMarker: versionMarker, maxKeys: size
                        ))
                        #expect(page.versions.count + page.commonPrefixes.count <= size)
                        collected += page.versions.map(\.versionId) + page.commonPrefixes
                        guard page.isTruncated else { break }
                        keyMarker = page.nextKeyMarker
                        versionMarker = page.nextVersionIdMarker
                    }
                    #expect(collected.sorted() == expected.sorted(), "delimiter \(delimiter ?? "-") page \(size)")
                    #expect(collected.count == expected.count)
                }
            }

            let prefixed = try await store.listVersions(ListVersionsRequest(bucket: "photos", prefix: "c/"))
            #expect(prefixed.versions.map(\.versionId) == ["c/1#5", "c/2#7", "c/2#6"])
            let afterKey = try await store.listVersions(ListVersionsRequest(bucket: "photos", keyMarker: "b"))
            #expect(afterKey.versions.first?.versionId == "c/1#5")
            await expectError(.invalidArgument) {
                try await store.listVersions(ListVersionsRequest(bucket: "photos", keyMarker: "a", versionIdMarker: "nope"))
            }
        }
    }
}
