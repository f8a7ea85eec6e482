import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import NIOHTTP1
import PolicyEngine
import SigV4
import Testing

@testable import Gateway

/// The moto S3 servers started by `scripts/test.sh` (`MOTO_URLS`, comma-separated). Without
/// them these tests are skipped, unless `REQUIRE_MOTO=1` says they must run (then they fail).
enum Moto {
    static let urls: [String] = (ProcessInfo.processInfo.environment["MOTO_URLS"] ?? "")
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    static let required = ProcessInfo.processInfo.environment["REQUIRE_MOTO"] == "1"
    static var enabled: Bool { !urls.isEmpty || required }
    /// One client for all tests (never shut down: it lives as long as the test process).
    static let client = S3Backend.makeHTTPClient()

    /// The servers' URLs; fails the test when fewer than `count` are there.
    static func require(_ count: Int) throws -> [String] {
        guard urls.count >= count else {
            throw MotoMissing(description: "REQUIRE_MOTO=1 but MOTO_URLS names \(urls.count) moto servers; \(count) needed (start them with scripts/moto.sh)")
        }
        return urls
    }

    struct MotoMissing: Error, CustomStringConvertible { var description: String }

    static func backend(_ url: String, bucket: String, zone: String = "FI-HEL-ST-1") throws -> S3Backend {
        try S3Backend(zone: zone, endpoint: url, bucket: bucket, region: "us-east-1",
                      accessKey: "moto-key", secretKey: "moto-secret", client: client)
    }

    static func uniqueName(_ prefix: String) -> String {
        prefix + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// Keys under `prefix` in the backend's physical bucket (signed ListObjectsV2).
    static func list(_ backend: S3Backend, prefix: String) async throws -> [String] {
        let request = backend.request(.GET, key: nil, query: [("list-type", "2"), ("prefix", prefix)])
        let response = try await backend.client.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
        guard response.status.code == 200 else { throw Moto.MotoMissing(description: "list failed: \(response.status) \(body)") }
        var keys: [String] = []
        var rest = body[...]
        while let start = rest.range(of: "<Key>"), let end = rest.range(of: "</Key>", range: start.upperBound..<rest.endIndex) {
            keys.append(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return keys
    }
}

func collect(_ stream: BackendReadStream) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in stream { bytes += chunk.readableBytesView }
    return bytes
}

@Suite("S3 backend against moto", .enabled(if: Moto.enabled))
struct S3BackendTests {
    @Test func putGetRangeHeadDeleteRoundTrip() async throws {
        let url = try Moto.require(1)[0]
        let backend = try Moto.backend(url, bucket: Moto.uniqueName("roundtrip"))
        #expect(await backend.probe() == false)
        try await backend.initialize(objectLock: false)
        try await backend.initialize(objectLock: false)  // BucketAlreadyOwnedByYou is success
        #expect(await backend.probe())

        let key = "dir/a b+c~ü/obj%.txt"
        let writer = try await backend.makeWriter(key: key, expectedSize: 11)
        try await writer.write(ByteBuffer(string: "hello "))
        try await writer.write(ByteBuffer(string: "world"))
        try await writer.finish()

        #expect(try await backend.size(of: key) == 11)
        #expect(try await collect(backend.read(key: key, range: nil)) == Array("hello world".utf8))
        #expect(try await collect(backend.read(key: key, range: 6...10)) == Array("world".utf8))
        #expect(try await Moto.list(backend, prefix: "dir/") == [key])

        // Unknown size: chunked transfer encoding.
        let chunked = try await backend.makeWriter(key: "chunked", expectedSize: nil)
        try await chunked.write(ByteBuffer(string: "abc"))
        try await chunked.write(ByteBuffer(string: "def"))
        try await chunked.finish()
        #expect(try await collect(backend.read(key: "chunked", range: nil)) == Array("abcdef".utf8))

        try await backend.delete(key: key)
        #expect(try await backend.size(of: key) == nil)
        try await backend.delete(key: key)  // already gone: no error
        await #expect(throws: BackendError.self) { _ = try await backend.read(key: key, range: nil) }
        #expect(try await backend.size(of: "never-written") == nil)
    }

    @Test func tenMebibyteStreamedWriteReadsBackIdentical() async throws {
        let url = try Moto.require(1)[0]
        let backend = try Moto.backend(url, bucket: Moto.uniqueName("big"))
        try await backend.initialize(objectLock: false)
        let size = 10 * 1024 * 1024
        var generator = SystemRandomNumberGenerator()
        let data = (0..<size / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        let writer = try await backend.makeWriter(key: "big.bin", expectedSize: Int64(size))
        var offset = 0
        while offset < size {
            let end = min(offset + 64 * 1024, size)
            try await writer.write(ByteBuffer(bytes: data[offset..<end]))
            offset = end
        }
        try await writer.finish()
        #expect(try await backend.size(of: "big.bin") == Int64(size))
        let read = try await collect(backend.read(key: "big.bin", range: nil))
        #expect(read.count == size)
        #expect(read == data)
    }
}

@Suite("Upload hand-off")
struct UploadChannelTests {
    @Test func uploadChannelHandsOverOneBufferAtATime() async throws {
        let channel = UploadChannel(keepLimit: 1024)
        let consumed = ManagedCounter()
        let sender = Task {
            for i in 0..<3 {
                try await channel.send(ByteBuffer(string: "\(i)"))
                // `send` returned: the reader has taken buffer i.
                #expect(consumed.value >= i)
            }
            channel.finish()
        }
        var received: [String] = []
        for try await buffer in channel.reader() {
            try await Task.sleep(for: .milliseconds(20))
            received.append(String(buffer: buffer))
            consumed.increment()
        }
        try await sender.value
        #expect(received == ["0", "1", "2"])
    }

    /// Whichever side comes first (a reader already waiting, or a buffer already pending),
    /// every buffer arrives once and in order, and the end after the last one.
    @Test func aWaitingReaderAndAPendingBufferBothHandOver() async throws {
        let channel = UploadChannel(keepLimit: 1024)
        let reader = Task { () -> [String] in
            var received: [String] = []
            for try await buffer in channel.reader() { received.append(String(buffer: buffer)) }
            return received
        }
        try await Task.sleep(for: .milliseconds(20))  // the reader waits first
        try await channel.send(ByteBuffer(string: "a"))
        let late = Task { try await channel.send(ByteBuffer(string: "b")) }  // may be pending
        try await late.value
        try await channel.send(ByteBuffer(string: "c"))
        channel.finish()
        #expect(try await reader.value == ["a", "b", "c"])
    }

    @Test func aFailedChannelFailsBothSides() async throws {
        let channel = UploadChannel(keepLimit: 1024)
        channel.fail(BackendError(code: .io, message: "aborted"))
        await #expect(throws: BackendError.self) { try await channel.send(ByteBuffer(string: "x")) }
        await #expect(throws: BackendError.self) { try await channel.receive() }
        let finished = UploadChannel(keepLimit: 1024)
        finished.finish()
        #expect(try await finished.receive() == nil)
        await #expect(throws: BackendError.self) { try await finished.send(ByteBuffer(string: "x")) }
    }

    /// After a rewind a new reader gets what the old one took, then the rest; the old reader
    /// gets an error, and the writer notices nothing.
    @Test func aRewindDeliversTheTakenBuffersAgain() async throws {
        let channel = UploadChannel(keepLimit: 1024)
        let writer = Task {
            for part in ["a", "b", "c", "d"] { try await channel.send(ByteBuffer(string: part)) }
            channel.finish()
        }
        var first = channel.reader().makeAsyncIterator()
        #expect(try await first.next().map { String(buffer: $0) } == "a")
        #expect(try await first.next().map { String(buffer: $0) } == "b")
        #expect(channel.rewind())
        await #expect(throws: BackendError.self) { _ = try await first.next() }
        var second = channel.reader().makeAsyncIterator()
        #expect(try await second.next().map { String(buffer: $0) } == "a")
        // A rewind while buffers are still being delivered again: the taken one comes first.
        #expect(channel.rewind())
        var received: [String] = []
        for try await buffer in channel.reader() { received.append(String(buffer: buffer)) }
        try await writer.value
        #expect(received == ["a", "b", "c", "d"])
    }

    @Test func noRewindOnceTheTakenBuffersPassedTheLimit() async throws {
        let channel = UploadChannel(keepLimit: 10)
        let writer = Task {
            for _ in 0..<3 { try await channel.send(ByteBuffer(string: "12345")) }
            channel.finish()
        }
        var reader = channel.reader().makeAsyncIterator()
        _ = try await reader.next()
        _ = try await reader.next()
        #expect(channel.rewind())  // 10 bytes taken: still kept
        var again = channel.reader().makeAsyncIterator()
        _ = try await again.next()
        _ = try await again.next()
        _ = try await again.next()  // 15 bytes taken
        #expect(!channel.rewind())
        #expect(try await again.next() == nil)
        try await writer.value
        let failed = UploadChannel(keepLimit: 10)
        failed.fail(BackendError(code: .io, message: "aborted"))
        #expect(!failed.rewind())
    }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

@Suite("Gateway on moto zones", .enabled(if: Moto.enabled))
struct GatewayOnMotoTests {
    static func gateway() async throws -> (TestGateway, [String: S3Backend]) {
        let urls = try Moto.require(3)
        var endpoints: [String: String] = [:]
        for (zone, url) in zip(TestGateway.zones, urls) { endpoints[zone] = url }
        let gw = try await TestGateway.make(backends: endpoints, httpClient: Moto.client)
        var backends: [String: S3Backend] = [:]
        for zone in TestGateway.zones {
            backends[zone] = try #require(gw.state.backends[zone] as? S3Backend)
        }
        return (gw, backends)
    }

    @Test func personalDataLandsOnlyOnThePlannedZonesServers() async throws {
        let (gw, backends) = try await Self.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("hr")
        let body = Array(repeating: UInt8(ascii: "p"), count: 50_000)
        try await gw.withClient { client in
            try await client.execute(uri: "/\(bucket)", method: .put, headers: gw.signed("PUT", "/\(bucket)")) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/\(bucket)/personal/p.bin", method: .put,
                                     headers: gw.signed("PUT", "/\(bucket)/personal/p.bin", body: body), body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/\(bucket)/personal/p.bin", method: .get, headers: gw.signed("GET", "/\(bucket)/personal/p.bin")) { r in
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == body)
            }
        }
        let planned = gw.state.policies.plan(for: .init(bucket: bucket, key: "personal/p.bin", tags: [:])).zones.map(\.code)
        #expect(planned.count == 2)
        #expect(!planned.contains("FI-HEL-HZ-1"))
        for zone in TestGateway.zones {
            let keys = try await Moto.list(backends[zone]!, prefix: bucket + "/")
            #expect(keys.count == (planned.contains(zone) ? 1 : 0), "zone \(zone): \(keys)")
            if let key = keys.first {
                #expect(try await collect(backends[zone]!.read(key: key, range: nil)) == body)
            }
        }
        #expect(try await Moto.list(backends["FI-HEL-HZ-1"]!, prefix: bucket + "/").isEmpty)
    }

    @Test func replicationWorkerCopiesTheMissingReplica() async throws {
        let (gw, backends) = try await Self.gateway()
        defer { gw.cleanUp() }
        let bucket = Moto.uniqueName("data")
        let key = "docs/report.txt"
        let plan = gw.state.policies.plan(for: .init(bucket: bucket, key: key, tags: [:]))
        #expect(plan.replicationPolicy?.metadata.name == "eu-default-replication")
        #expect(plan.copies == 2 && plan.writeQuorum == 1)
        let planned = plan.zones.map(\.code)
        try #require(planned.count == 2)
        // Only the first planned zone is up: the write stands with one copy.
        for zone in TestGateway.zones where zone != planned[0] { gw.state.setHealth(zone, false) }
        let body = Array("replicate me, please".utf8)
        try await gw.withClient { client in
            try await client.execute(uri: "/\(bucket)", method: .put, headers: gw.signed("PUT", "/\(bucket)")) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/\(bucket)/\(key)", method: .put,
                                     headers: gw.signed("PUT", "/\(bucket)/\(key)", body: body), body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
            }
        }
        #expect(try await Moto.list(backends[planned[0]]!, prefix: bucket + "/").count == 1)
        #expect(try await Moto.list(backends[planned[1]]!, prefix: bucket + "/").isEmpty)
        let version = try #require(try await gw.store.latestVersion(bucket: bucket, key: key))
        var replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.first { $0.zone == planned[0] }?.status == .complete)
        #expect(replicas.first { $0.zone == planned[1] }?.status == .pending)

        let worker = ReplicationWorker(state: gw.state, workerId: "test-worker")
        // The target zone is still down: the job is left for later.
        #expect(try await worker.runOnce() == 0)
        for zone in TestGateway.zones { gw.state.setHealth(zone, true) }
        // The skipped job is leased for a minute; claim as if that minute had passed.
        #expect(try await worker.runOnce(now: Date().addingTimeInterval(120)) == 1)

        let copies = try await Moto.list(backends[planned[1]]!, prefix: bucket + "/")
        #expect(copies.count == 1)
        if let copy = copies.first {
            #expect(try await collect(backends[planned[1]]!.read(key: copy, range: nil)) == body)
        }
        replicas = try await gw.store.replicas(storageId: version.storageId)
        #expect(replicas.count == 2)
        #expect(replicas.allSatisfy { $0.status == .complete })
        #expect(try await worker.runOnce() == 0)
    }
}
