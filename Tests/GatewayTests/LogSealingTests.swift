import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Metadata
import NIOCore
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// The operations log is sealed into a hash chain, and a change to a sealed entry, or its
/// removal, is found by `GET /api/operations/log/verify`.
@Suite("Sealed operations log")
struct LogSealingTests {
    /// A gateway with a bucket and three objects written (four log entries).
    static func gatewayWithWrites(key: String? = nil) async throws -> TestGateway {
        let gw = try await TestGateway.make { $0.logSealKey = key }
        try await gw.withClient { client in
            try await gw.createBucket(client, "ledger")
            for n in 1...3 { #expect(try await gw.put(client, "/ledger/entry-\(n).txt", Array("entry \(n)".utf8)).status == .ok) }
        }
        return gw
    }

    func verify(_ gw: TestGateway, _ query: String = "", status: HTTPResponse.Status = .ok) async throws -> [String: Any] {
        let body = Mutex(Data())
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/api/operations/log/verify" + query, method: .get) { r in
                #expect(r.status == status)
                body.withLock { $0 = Data(r.body.readableBytesView) }
            }
        }
        return try #require(try JSONSerialization.jsonObject(with: body.withLock { $0 }) as? [String: Any])
    }

    /// Changes the metadata database behind the gateway's back, as someone with access to it could.
    func tamper(_ gw: TestGateway, _ sql: SQL) async throws {
        try await gw.store.core.engine.transaction { db in try await db.execute(sql) }
    }

    func sealer(_ gw: TestGateway) -> LogSealer {
        LogSealer(state: gw.state, chain: LogChain(key: gw.state.configuration.logSealKey))
    }

    @Test func aSealedLogVerifiesAndAChangedEntryIsFound() async throws {
        let gw = try await Self.gatewayWithWrites()
        defer { gw.cleanUp() }
        let before = try await verify(gw)
        #expect(before["ok"] as? Bool == true && before["checked"] as? Int == 0)
        #expect((before["unsealed"] as? [String: Any])?["entries"] as? Int == 4)

        let batch = try await sealer(gw).sealOnce()
        #expect(batch.sealed == 4 && batch.head?.sequence == 4)
        #expect(gw.state.metricsRegistry.emitToString().contains("gateway_log_sealed_entries 4"))
        let sealed = try await verify(gw)
        #expect(sealed["ok"] as? Bool == true && sealed["checked"] as? Int == 4 && sealed["algorithm"] as? String == "sha256")
        #expect((sealed["head"] as? [String: Any])?["hash"] as? String == batch.head?.hash)
        #expect((sealed["unsealed"] as? [String: Any])?["entries"] as? Int == 0)

        // Later entries extend the chain.
        try await gw.withClient { client in
            let put = try await gw.put(client, "/ledger/entry-4.txt", Array("entry 4".utf8))
            #expect(put.status == .ok)
        }
        #expect(try await sealer(gw).sealOnce().sealed == 1)
        #expect(try await verify(gw)["checked"] as? Int == 5)

        // Someone rewrites what the second write did: found at that entry.
        let second = try #require(try await gw.store.sealedLog(afterSequence: 1, limit: 1).first)
        try await tamper(gw, "UPDATE operations_log SET zones = '[\"SE-STO-SS-1\"]' WHERE id = \(second.entry.id)")
        let changed = try await verify(gw)
        #expect(changed["ok"] as? Bool == false)
        let problem = try #require(changed["problem"] as? [String: Any])
        #expect(problem["sequence"] as? Int == 2 && problem["id"] as? Int == Int(second.entry.id))
        #expect((problem["what"] as? String)?.contains("was changed") == true)
    }

    @Test func aRemovedEntryIsFoundAndSoIsARecomputedHashWithoutTheKey() async throws {
        let gw = try await Self.gatewayWithWrites(key: "ledger-key")
        defer { gw.cleanUp() }
        let head = try #require(try await sealer(gw).sealOnce().head)
        #expect(head.hash.hasPrefix("hmac-sha256:"))
        #expect(try await verify(gw)["ok"] as? Bool == true)

        // Another key does not verify the chain; no key says it cannot check it.
        let report = try await LogVerification(store: gw.store, chain: LogChain(key: "other-key")).run()
        #expect(report.problem?.sequence == 1 && report.checked == 0)
        #expect(try await LogVerification(store: gw.store, chain: LogChain(key: nil)).run().problem?.what.contains("not set here") == true)

        // An entry is removed from the middle.
        let third = try #require(try await gw.store.sealedLog(afterSequence: 2, limit: 1).first)
        try await tamper(gw, "DELETE FROM operations_log WHERE id = \(third.entry.id)")
        let removed = try await verify(gw)
        #expect(removed["ok"] as? Bool == false && removed["checked"] as? Int == 2)
        #expect(((removed["problem"] as? [String: Any])?["what"] as? String)?.contains("missing") == true)
    }

    @Test func whoCanWriteTheDatabaseButHasNoKeyCannotRewriteTheChain() async throws {
        let gw = try await Self.gatewayWithWrites(key: "ledger-key")
        defer { gw.cleanUp() }
        try await sealer(gw).sealOnce()
        // The first entry is changed and its seal recomputed with the unkeyed hash: the
        // downgrade is found, and so is a keyed hash made with a guessed key.
        let first = try #require(try await gw.store.sealedLog(afterSequence: 0, limit: 1).first)
        var forged = first.entry
        forged.detail = "nothing happened"
        let unkeyed = LogChain(key: nil).hash(previous: nil, forged)
        try await tamper(gw, "UPDATE operations_log SET detail = 'nothing happened', seal_hash = \(unkeyed) WHERE id = \(first.entry.id)")
        #expect(try await verify(gw)["ok"] as? Bool == false)
        let guessed = LogChain(key: "guess").hash(previous: nil, forged)
        try await tamper(gw, "UPDATE operations_log SET seal_hash = \(guessed) WHERE id = \(first.entry.id)")
        let report = try await verify(gw)
        #expect(report["ok"] as? Bool == false)
        #expect((report["problem"] as? [String: Any])?["sequence"] as? Int == 1)
    }

    /// The daily check finds a change on its own and says so in the metrics.
    @Test func theScheduledCheckRaisesTheAlarm() async throws {
        let gw = try await Self.gatewayWithWrites()
        defer { gw.cleanUp() }
        try await sealer(gw).sealOnce()
        let clock = Mutex(Date())
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let checker = LogChainChecker(state: gw.state, chain: LogChain(key: nil), interval: .seconds(3600))
        #expect(!gw.state.metricsRegistry.emitToString().contains("gateway_log_chain_intact"))
        #expect(try await checker.runIfDue(now: now)?.checked == 4)
        #expect(gw.state.metricsRegistry.emitToString().contains("gateway_log_chain_intact 1"))
        #expect(try await checker.runIfDue(now: now) == nil)

        let first = try #require(try await gw.store.sealedLog(afterSequence: 0, limit: 1).first)
        try await tamper(gw, "UPDATE operations_log SET http_status = 403 WHERE id = \(first.entry.id)")
        clock.withLock { $0 = $0.addingTimeInterval(3601) }
        #expect(try await checker.runIfDue(now: now)?.problem?.sequence == 1)
        #expect(gw.state.metricsRegistry.emitToString().contains("gateway_log_chain_intact 0"))
    }

    /// The export has what it takes to recompute the chain without the gateway's store.
    @Test func theExportCarriesEveryFieldTheChainCovers() async throws {
        let gw = try await Self.gatewayWithWrites(key: "ledger-key")
        defer { gw.cleanUp() }
        try await sealer(gw).sealOnce()
        let text = Mutex("")
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/api/operations/log/export?after=1", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "application/x-ndjson")
                text.withLock { $0 = r.body.text }
            }
        }
        let lines = text.withLock { $0 }.split(separator: "\n")
        #expect(lines.count == 3)
        let chain = LogChain(key: "ledger-key")
        var previous = try #require(try await gw.store.sealedLog(afterSequence: 0, limit: 1).first).seal.hash
        for line in lines {
            let e = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let entry = OperationLogEntry(
                id: Int64(e["id"] as? Int ?? 0), time: Date(timeIntervalSince1970: Double(e["time_us"] as? Int ?? 0) / 1_000_000),
                requestId: e["request_id"] as? String ?? "", principal: e["principal"] as? String,
                operation: e["operation"] as? String ?? "", bucket: e["bucket"] as? String, key: e["key"] as? String,
                versionId: e["version_id"] as? String, httpStatus: e["http_status"] as? Int ?? 0,
                zones: e["zones"] as? [String] ?? [], policySetHash: e["policy_set_hash"] as? String,
                bytes: Int64(e["bytes"] as? Int ?? 0), durationMs: Int64(e["duration_ms"] as? Int ?? 0), detail: e["detail"] as? String)
            let hash = try #require(e["hash"] as? String)
            #expect(chain.hash(previous: previous, entry) == hash)
            previous = hash
        }
    }

    /// From an anchor, only what was sealed after it is checked, and a wrong anchor is found.
    @Test func aCheckFromAnAnchorCoversWhatCameAfterIt() async throws {
        let gw = try await Self.gatewayWithWrites()
        defer { gw.cleanUp() }
        let anchor = try #require(try await sealer(gw).sealOnce().head)
        try await gw.withClient { client in
            let put = try await gw.put(client, "/ledger/entry-4.txt", Array("entry 4".utf8))
            #expect(put.status == .ok)
        }
        try await sealer(gw).sealOnce()
        let query = "?anchor=\(anchor.sequence):\(anchor.hash)"
        let fromAnchor = try await verify(gw, query)
        #expect(fromAnchor["ok"] as? Bool == true && fromAnchor["checked"] as? Int == 1)
        #expect((fromAnchor["head"] as? [String: Any])?["sequence"] as? Int == 5)

        // The entry after the anchor is changed: found.
        let fifth = try #require(try await gw.store.sealedLog(afterSequence: 4, limit: 1).first)
        try await tamper(gw, "UPDATE operations_log SET bytes = 1 WHERE id = \(fifth.entry.id)")
        #expect((try await verify(gw, query)["problem"] as? [String: Any])?["sequence"] as? Int == 5)
        // An anchor the chain does not carry: the chain up to it was rewritten.
        let wrong = try await verify(gw, "?anchor=\(anchor.sequence):sha256:00")
        #expect(wrong["ok"] as? Bool == false)
        #expect(((wrong["problem"] as? [String: Any])?["what"] as? String)?.contains("up to the anchor") == true)
        #expect(try await verify(gw, "?anchor=99:sha256:00")["ok"] as? Bool == false)
        _ = try await verify(gw, "?anchor=nonsense", status: .badRequest)
    }

    @Test func theCanonicalFormTellsFieldsApart() {
        let base = OperationLogEntry(id: 7, time: Date(timeIntervalSince1970: 1_800_000_000.123456), requestId: "r",
                                     operation: "PutObject", bucket: "ab", key: "c", httpStatus: 200)
        var moved = base
        (moved.bucket, moved.key) = ("a", "bc")
        var absent = base
        absent.principal = ""
        #expect(LogChain.canonical(base) != LogChain.canonical(moved))
        #expect(LogChain.canonical(base) != LogChain.canonical(absent))
        let chain = LogChain(key: nil)
        #expect(chain.hash(previous: nil, base) == chain.hash(previous: nil, base))
        #expect(chain.hash(previous: "sha256:00", base) != chain.hash(previous: nil, base))
    }
}
