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

    @Test(arguments: StoreKind.testCases)
    func entriesAreSealedInBatchesIntoOneChain(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.sealLog(limit: 10, seal: Self.seal) == LogSealBatch(sealed: 0, head: nil))
            var ids: [Int64] = []
            for n in 1...5 { ids.append(try await store.appendLog(Self.entry(n))) }
            #expect(try await store.unsealedLog() == UnsealedLog(count: 5, oldest: at(1)))

            let first = try await store.sealLog(limit: 3, seal: Self.seal)
            #expect(first.sealed == 3 && first.head?.sequence == 3 && first.head?.id == ids[2])
            #expect(try await store.unsealedLog() == UnsealedLog(count: 2, oldest: at(4)))
            let second = try await store.sealLog(limit: 10, seal: Self.seal)
            #expect(second.sealed == 2 && second.head?.sequence == 5)
            #expect(try await store.sealLog(limit: 10, seal: Self.seal).sealed == 0)
            #expect(try await store.unsealedLog() == UnsealedLog(count: 0, oldest: nil))

            let sealed = try await store.sealedLog(afterSequence: 0, limit: 100)
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
            #expect(try await store.sealLog(limit: 10, seal: Self.seal).head?.sequence == 6)
        }
    }
}
