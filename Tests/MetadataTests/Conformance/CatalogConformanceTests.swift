import Foundation
import Testing

@testable import Metadata

@Suite("Conformance: catalog, policy sets and operations log")
struct CatalogConformanceTests {
    @Test(arguments: StoreKind.testCases)
    func providerCatalogIsReplacedWhole(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let hetzner = ProviderRecord(
                zoneCode: "FI-HEL-HZ-1", providerName: "Hetzner", countryCode: "FI", regionCity: "Helsinki",
                endpoint: "https://s3c.tns.cx", flags: ["object_lock": "true", "gdpr": "true"]
            )
            let spacetime = ProviderRecord(
                zoneCode: "FI-HEL-ST-1", providerName: "Spacetime", countryCode: "FI", regionCity: "Helsinki",
                endpoint: "https://hel1.your-objectstorage.com", flags: ["versioning": "true"]
            )
            try await store.replaceProviders([spacetime, hetzner])
            #expect(try await store.listProviders() == [hetzner, spacetime])
            try await store.replaceProviders([spacetime])
            #expect(try await store.listProviders() == [spacetime])
            await expectError(.conflict) { try await store.replaceProviders([hetzner, hetzner]) }
            #expect(try await store.listProviders() == [spacetime])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func policySetsAreRecordedOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = PolicySetRecord(hash: "sha256:1", summaryJSON: #"{"policies":2}"#, loadedAt: at(1))
            let second = PolicySetRecord(hash: "sha256:2", summaryJSON: #"{"policies":3}"#, loadedAt: at(2))
            let recorded = try await store.recordPolicySet(first)
            #expect(recorded)
            #expect(try await store.recordPolicySet(second))
            var again = first
            again.loadedAt = at(3)
            #expect(try await store.recordPolicySet(again) == false)
            #expect(try await store.listPolicySets() == [second, first])
        }
    }

    @Test(arguments: StoreKind.testCases)
    func operationsLogPagesAndFilters(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var ids: [Int64] = []
            for i in 0..<30 {
                let entry = OperationLogEntry(
                    time: at(i), requestId: "req-\(i)", principal: i % 2 == 0 ? "alice" : "bob",
                    operation: i % 3 == 0 ? "DeleteObject" : "PutObject", bucket: i < 20 ? "photos" : "docs",
                    key: i % 5 == 0 ? "2025/\(i).jpg" : "misc/\(i)", versionId: "v\(i)",
                    httpStatus: i % 7 == 0 ? 503 : 200, zones: ["FI-HEL-ST-1"], policySetHash: "sha256:1",
                    bytes: Int64(i * 100), durationMs: Int64(i), detail: i % 7 == 0 ? "quorum not reached" : nil
                )
                ids.append(try await store.appendLog(entry))
            }
            #expect(ids == ids.sorted() && Set(ids).count == 30)

            // Newest first, paged with the last id as the cursor.
            var seen: [String] = []
            var before: Int64?
            while true {
                let page = try await store.queryLog(OperationLogQuery(limit: 8, beforeId: before))
                if page.isEmpty { break }
                #expect(page.count <= 8)
                seen += page.map(\.requestId)
                before = page.last?.id
            }
            #expect(seen == (0..<30).reversed().map { "req-\($0)" })

            let newest = try #require(try await store.queryLog(OperationLogQuery(limit: 1)).first)
            #expect(newest.id == ids.last && newest.time == at(29) && newest.bytes == 2900 && newest.zones == ["FI-HEL-ST-1"])

            func requests(_ query: OperationLogQuery) async throws -> [Int] {
                try await store.queryLog(query).map { Int($0.requestId.dropFirst(4))! }
            }
            #expect(try await requests(OperationLogQuery(bucket: "docs")) == Array((20..<30).reversed()))
            #expect(try await requests(OperationLogQuery(keyPrefix: "2025/")) == [25, 20, 15, 10, 5, 0])
            #expect(try await requests(OperationLogQuery(operation: "DeleteObject", statusRange: 500...599)) == [21, 0])
            #expect(try await requests(OperationLogQuery(since: at(10), until: at(13))) == [12, 11, 10])
            #expect(try await requests(OperationLogQuery(limit: 2, bucket: "photos", keyPrefix: "misc/")) == [19, 18])
            #expect(try await store.queryLog(OperationLogQuery(bucket: "nothing")).isEmpty)
        }
    }
}
