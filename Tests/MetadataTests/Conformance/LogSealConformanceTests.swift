import Foundation
import Testing

@testable import Metadata

/// The operations log's hash chain, as the store keeps it: entries sealed in batches, one
/// sealer at a time, each with the next sequence number and a hash of the one before.
@Suite("Conformance: sealing the operations log")
struct LogSealConformanceTests {
    static func entry(_ n: Int) -> OperationLogEntry {
        OperationLogEntry(time: at(n), requestId: "r\(n)", operation: "PutObject", bucket: "photos", key: "k\(n)",
                          httpStatus: 200, zones: ["FI-HEL-ST-1"], bytes: Int64(n))
    }

    /// A stand-in chain: the previous hash and the entry's id and request id.
    static let seal: @Sendable (String?, OperationLogEntry) -> String = { "\($0 ?? "genesis")>\($1.id):\($1.requestId)" }

    /// Seals until nothing is left. On PostgreSQL an entry waits for every transaction older
    /// than its own to end, in any schema of the database (other tests run beside this one).
    static func sealAll(_ store: any MetadataStore) async throws -> Int {
        var total = 0
        for _ in 0..<400 {
            total += try await store.sealLog(limit: 100, seal: seal).sealed
            if try await store.unsealedLog().count == 0 { return total }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("entries stayed unsealed for 20 s")
        return total
    }

    @Test(arguments: StoreKind.testCases)
    func entriesAreSealedInBatchesIntoOneChain(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.sealLog(limit: 10, seal: Self.seal) == LogSealBatch(sealed: 0, head: nil))
            #expect(try await store.logSealHead() == nil)
            var ids: [Int64] = []
            for n in 1...5 { ids.append(try await store.appendLog(Self.entry(n))) }
            #expect(try await store.unsealedLog() == UnsealedLog(count: 5, oldest: at(1)))

            // At most a batch at a time, from the oldest.
            let first = try await store.sealLog(limit: 3, seal: Self.seal)
            #expect(first.sealed <= 3)
            if kind.isSQLite {
                #expect(first.sealed == 3 && first.head?.sequence == 3 && first.head?.id == ids[2])
                #expect(try await store.unsealedLog() == UnsealedLog(count: 2, oldest: at(4)))
            }
            #expect(try await Self.sealAll(store) == 5 - first.sealed)
            #expect(try await store.sealLog(limit: 10, seal: Self.seal) == LogSealBatch(
                sealed: 0, head: try await store.sealedLog(afterSequence: 4, limit: 1).first?.seal))
            #expect(try await store.unsealedLog() == UnsealedLog(count: 0, oldest: nil))

            let sealed = try await store.sealedLog(afterSequence: 0, limit: 100)
            try #require(sealed.count == 5)
            #expect(try await store.logSealHead() == sealed.last?.seal)
            #expect(sealed.map(\.seal.sequence) == [1, 2, 3, 4, 5])
            #expect(sealed.map(\.entry.id) == ids)
            #expect(sealed.map(\.entry.requestId) == ["r1", "r2", "r3", "r4", "r5"])
            // Each hash was made from the one before, the entries as they were stored.
            #expect(sealed[0].seal.hash == "genesis>\(ids[0]):r1")
            #expect(sealed[3].seal.hash == "\(sealed[2].seal.hash)>\(ids[3]):r4")
            #expect(try await store.sealedLog(afterSequence: 3, limit: 1).map(\.seal.sequence) == [4])
            // Entries of a commit are sealed too.
            let fixture = Fixture(store)
            try await fixture.bucket("photos")
            let log = OperationLogEntry(time: at(9), requestId: "put", operation: "PutObject", bucket: "photos", key: "a", httpStatus: 200)
            _ = try await fixture.put(key: "a", time: 9, log: log)
            #expect(try await Self.sealAll(store) == 1)
            #expect(try await store.sealedLog(afterSequence: 5, limit: 10).map(\.entry.requestId) == ["put"])
        }
    }
}
