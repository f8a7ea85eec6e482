import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import Prometheus
import Synchronization
import Testing

@testable import Gateway

/// A read whose replica breaks off part-way goes on from another replica: the client gets the
/// whole body (or range), byte for byte, instead of a body cut short.
@Suite("Reads go on from another replica when one breaks off", .timeLimit(.minutes(1)))
struct ReadResumeTests {
    static let breakOffs: [FlakyBackend.BreakOff] = [.fail(after: 1_000_000), .end(after: 1_000_000), .fail(after: 0)]

    /// Writes `body` under `key` in the bucket `data` through `degraded` (`gw` with some zones
    /// replaced) and lets `gw`'s replication worker make the other copies: every replica is
    /// complete afterwards.
    static func writeReplicated(_ body: [UInt8], key: String, through degraded: TestGateway, of gw: TestGateway) async throws {
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "data")
            #expect(try await degraded.put(client, "/data/\(key)", body).status == .ok)
        }
        _ = try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120))
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        #expect(try await gw.store.replicas(storageId: version.storageId).allSatisfy { $0.status == .complete })
    }

    @Test(arguments: breakOffs)
    func aReadThatBreaksOffGoesOnFromTheNextReplica(_ breakOff: FlakyBackend.BreakOff) async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/resume.bin"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let flaky = FlakyBackend(gw.state.backends[planned[0]]!)
        let degraded = gw.replacing([planned[0]: flaky])
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        try await Self.writeReplicated(body, key: key, through: degraded, of: gw)

        flaky.breakOff.withLock { $0 = breakOff }
        try await degraded.withClient { client in
            let whole = try await degraded.get(client, "/data/\(key)")
            #expect(whole.status == .ok)
            // Compared before #expect, which would diff two arrays of megabytes on a mismatch.
            let same = Array(buffer: whole.body) == body
            #expect(same, "the body differs from what was written (\(whole.body.readableBytes) bytes)")
            let range = try await degraded.get(client, "/data/\(key)", range: "bytes=500000-2500000")
            #expect(range.status == .partialContent)
            let sameRange = Array(buffer: range.body) == Array(body[500_000...2_500_000])
            #expect(sameRange, "the range differs from what was written (\(range.body.readableBytes) bytes)")
        }
        #expect(flaky.readsStarted == 2, "the first planned zone was not read first")
        let metrics = degraded.state.metricsRegistry.emitToString()
        #expect(metrics.contains(#"gateway_reads_resumed_total{zone="\#(planned[1])"} 2"#), "\(metrics)")
        // The break is the zone's failure (its opening, a success, came before it).
        #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures == 1)
    }

    /// A body of up to 64 KiB is read whole before the answer starts, so that it leaves in one
    /// write. A replica that breaks off is still left for the next one, and with no replica to go
    /// on from the client is answered `503 ServiceUnavailable`, an S3 error it retries, instead of
    /// a response cut short.
    @Test func aSmallBodyIsReadWholeBeforeTheAnswerStarts() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/small.bin"
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let (first, second) = (FlakyBackend(gw.state.backends[planned[0]]!), FlakyBackend(gw.state.backends[planned[1]]!))
        let degraded = gw.replacing([planned[0]: first, planned[1]: second])
        let body = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        try await Self.writeReplicated(body, key: key, through: degraded, of: gw)

        first.breakOff.withLock { $0 = .fail(after: 5_000) }
        try await degraded.withClient { client in
            let whole = try await degraded.get(client, "/data/\(key)")
            #expect(whole.status == .ok)
            #expect(Array(buffer: whole.body) == body)
            let range = try await degraded.get(client, "/data/\(key)", range: "bytes=4000-12999")
            #expect(range.status == .partialContent)
            #expect(Array(buffer: range.body) == Array(body[4000...12999]))

            second.breakOff.withLock { $0 = .end(after: 3_000) }
            let failed = try await degraded.get(client, "/data/\(key)")
            #expect(failed.status == .serviceUnavailable)
            let text = String(buffer: failed.body)
            #expect(text.contains("<Code>ServiceUnavailable</Code>"), "\(text)")
            #expect(failed.headers[.contentLength] == String(failed.body.readableBytes))
        }
        #expect(first.readsStarted == 3 && second.readsStarted == 3, "\(first.readsStarted), \(second.readsStarted)")
    }

    /// With nothing to go on from (the other replica gone too), the read fails as before: the
    /// breaker counts both zones' failures.
    @Test func aReadWithNoReplicaLeftToGoOnFromFails() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/resume.bin"
        let planned = gw.planned("data", key)
        let (first, second) = (FlakyBackend(gw.state.backends[planned[0]]!), FlakyBackend(gw.state.backends[planned[1]]!))
        let degraded = gw.replacing([planned[0]: first, planned[1]: second])
        let body = [UInt8](repeating: 7, count: 2 << 20)
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "data")
            #expect(try await degraded.put(client, "/data/\(key)", body).status == .ok)
        }
        _ = try await ReplicationWorker(state: gw.state).runOnce(now: Date().addingTimeInterval(120))
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        first.breakOff.withLock { $0 = .fail(after: 100_000) }
        second.set(failReads: true)
        let stream = try await ReadPath(state: degraded.state).open(version, range: nil, logger: degraded.state.logger)
        var read = 0
        await #expect(throws: BackendError.self) {
            for try await chunk in stream { read += chunk.readableBytes }
        }
        #expect(read == 100_000)
        #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures == 1)
    }

    /// A body that ends early with no replica to go on from (here the only complete one) fails
    /// the read instead of ending short of its length: the response breaks off, and the client
    /// sees the connection closed rather than waiting for bytes that never come.
    @Test func aBodyThatEndsEarlyWithNoReplicaLeftFails() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let key = "docs/resume.bin"
        let planned = gw.planned("data", key)
        let zones = TestGateway.zones
        let flaky = zones.map { FlakyBackend(gw.state.backends[$0]!) }
        let degraded = gw.replacing(Dictionary(uniqueKeysWithValues: zip(zones, flaky.map { $0 as any ObjectBackend })))
        // Every zone but the first planned one fails the write: the quorum (one) is met with it alone.
        for (zone, backend) in zip(zones, flaky) where zone != planned[0] { backend.set(failWrites: true) }
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "data")
            #expect(try await degraded.put(client, "/data/\(key)", [UInt8](repeating: 5, count: 1 << 20)).status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        let complete = try await gw.store.replicas(storageId: version.storageId).filter { $0.status == .complete }
        try #require(complete.count == 1, "\(complete)")
        for backend in flaky { backend.breakOff.withLock { $0 = .end(after: 100_000) } }
        let stream = try await ReadPath(state: degraded.state).open(version, range: nil, logger: degraded.state.logger)
        var read = 0
        await #expect(throws: BackendError.self) {
            for try await chunk in stream { read += chunk.readableBytes }
        }
        #expect(read == 100_000)
        #expect(degraded.state.health.snapshot[complete[0].zone]?.consecutiveFailures == 1)
    }
}
