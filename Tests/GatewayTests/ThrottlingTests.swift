import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import PolicyEngine
import Prometheus
import S3Protocol
import Synchronization
import Testing

@testable import Gateway

/// An S3 server that keeps objects in memory and answers the first `throttled` requests
/// (every request when nil) with `status` and the S3 error `code`, as a provider over its
/// request rate does (`503 SlowDown`; some send `429`): requests of any method, or only those
/// of `methods`, until `calm()`.
struct ThrottlingS3: HTTPResponder {
    typealias Context = BasicRequestContext

    final class Log: Sendable {
        let objects = Mutex<[String: [UInt8]]>([:])
        let requests = Mutex<[String]>([])
        let calm = Mutex(false)
    }

    let log = Log()
    let throttled: Int?
    var status: HTTPResponse.Status = .serviceUnavailable
    var code = "SlowDown"
    var methods: Set<HTTPRequest.Method>?
    /// The `Retry-After` of its answers asking to slow down.
    var retryAfter: String?

    /// Stops asking to slow down.
    func calm() { log.calm.withLock { $0 = true } }

    /// Requests answered, as "METHOD path", in order.
    var requests: [String] { log.requests.withLock { $0 } }
    func count(_ method: HTTPRequest.Method) -> Int { requests.filter { $0.hasPrefix(method.rawValue + " ") }.count }
    func object(_ path: String) -> [UInt8]? { log.objects.withLock { $0[path] } }

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = Array((try await request.body.collect(upTo: 16 << 20)).readableBytesView)
        let path = request.uri.path
        let n = log.requests.withLock { requests in
            requests.append("\(request.method.rawValue) \(path)")
            return requests.count
        }
        if throttled.map({ n <= $0 }) ?? true, methods?.contains(request.method) ?? true, !log.calm.withLock({ $0 }) {
            let xml = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>\#(code)</Code><Message>Please reduce your request rate.</Message></Error>"#
            var headers: HTTPFields = [.contentType: "application/xml", .contentLength: "\(xml.utf8.count)"]
            if let retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: xml)))
        }
        switch request.method {
        case .put:
            log.objects.withLock { $0[path] = body }
            let etag = Insecure.MD5.hash(data: body).map { String(format: "%02x", $0) }.joined()
            return Response(status: .ok, headers: [.eTag: "\"\(etag)\"", .contentLength: "0"])
        case .get:
            guard let object = object(path) else { return Response(status: .notFound, headers: [.contentLength: "0"]) }
            return Response(status: .ok, headers: [.contentLength: "\(object.count)"],
                            body: .init(byteBuffer: ByteBuffer(bytes: object)))
        case .post:
            let xml = request.uri.queryParameters.has("uploads")
                ? "<InitiateMultipartUploadResult><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>"
                : #"<CompleteMultipartUploadResult><ETag>"joined-2"</ETag></CompleteMultipartUploadResult>"#
            return Response(status: .ok, headers: [.contentLength: "\(xml.utf8.count)"], body: .init(byteBuffer: ByteBuffer(string: xml)))
        case .head where path.dropFirst().contains("/"):
            guard let object = object(path) else { return Response(status: .notFound, headers: [.contentLength: "0"]) }
            return Response(status: .ok, headers: [.contentLength: "\(object.count)"])
        default:
            return Response(status: .ok, headers: [.contentLength: "0"])
        }
    }
}

/// A provider that asks the gateway to slow down is up: its circuit breaker does not count it,
/// a small write is sent to it again after a pause, a read asks the next replica, and a request
/// that still fails is answered `503 SlowDown`, which S3's clients take as a sign to back off.
@Suite("A provider that asks to slow down")
struct ThrottlingTests {
    /// Runs `body` with `server` listening and an S3 backend of `zone` on it.
    static func withServer(_ server: ThrottlingS3, zone: String = "FI-HEL-ST-1",
                           _ body: @escaping @Sendable (S3Backend) async throws -> Void) async throws {
        let app = Application(responder: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let backend = try S3Backend(zone: zone, endpoint: "http://127.0.0.1:\(port)", bucket: "2025-datatransfer",
                                        region: "us-east-1", accessKey: "AKID", secretKey: "secret", client: Moto.client)
            try await body(backend)
        }
    }

    static func put(_ backend: S3Backend, _ key: String, _ bytes: [UInt8]) async throws {
        let writer = try await backend.makeWriter(key: key, expectedSize: Int64(bytes.count), lock: nil)
        try await writer.write(ByteBuffer(bytes: bytes))
        try await writer.finish()
    }

    @Test func slowDownAndTooManyRequestsAreThrottling() {
        #expect(S3Backend.isThrottling(status: 503, code: "SlowDown"))
        #expect(S3Backend.isThrottling(status: 429, code: nil))
        #expect(S3Backend.isThrottling(status: 429, code: "TooManyRequests"))
        #expect(!S3Backend.isThrottling(status: 503, code: "ServiceUnavailable"))
        #expect(!S3Backend.isThrottling(status: 503, code: nil))
        #expect(!S3Backend.isThrottling(status: 500, code: "SlowDown"))
    }

    /// A health probe answered `429` finds the provider up; one answered `503` (a HEAD's answer
    /// has no body that could say `SlowDown`) finds it down.
    @Test(arguments: [(HTTPResponse.Status.tooManyRequests, true), (HTTPResponse.Status.serviceUnavailable, false)])
    func aProbeAnsweredTooManyRequestsFindsTheProviderUp(status: HTTPResponse.Status, up: Bool) async throws {
        let server = ThrottlingS3(throttled: nil, status: status)
        try await Self.withServer(server) { backend in
            #expect(await backend.probe() == up)
        }
        #expect(server.count(.head) == 1)
    }

    /// A small body (sent whole) goes out again after each `SlowDown`, within the backend's attempts.
    @Test func aSmallWriteIsSentAgainAfterSlowDown() async throws {
        let server = ThrottlingS3(throttled: 2)
        try await Self.withServer(server) { backend in
            try #require(backend.attempts == 3)
            try await Self.put(backend, "docs/a.txt", Array("after two pauses".utf8))
        }
        #expect(server.count(.put) == 3)
        #expect(server.object("/2025-datatransfer/docs/a.txt") == Array("after two pauses".utf8))
    }

    /// A streamed body (over 64 KiB) goes out again after a `SlowDown` while the channel still
    /// keeps what the request took (up to 1 MiB); a larger one fails as throttled at once.
    @Test(arguments: [(200 << 10, true), (3 << 20, false)])
    func aStreamedWriteIsSentAgainWhileItsBodyIsKept(size: Int, again: Bool) async throws {
        let server = ThrottlingS3(throttled: 1)
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await Self.withServer(server) { backend in
            let writer = try await backend.makeWriter(key: "docs/streamed.bin", expectedSize: Int64(size), lock: nil)
            #expect(writer is S3Writer)
            for start in stride(from: 0, to: size, by: 64 << 10) {
                try await writer.write(ByteBuffer(bytes: body[start..<min(size, start + (64 << 10))]))
            }
            if again {
                try await writer.finish()
            } else {
                let error = await #expect(throws: BackendError.self) { try await writer.finish() }
                #expect(error?.cause == .throttled)
            }
        }
        #expect(server.count(.put) == (again ? 2 : 1))
        #expect(server.object("/2025-datatransfer/docs/streamed.bin") == (again ? body : nil))
    }

    /// CreateMultipartUpload and CompleteMultipartUpload go out again after a `SlowDown` (the
    /// provider did nothing then, so no upload is left behind).
    @Test func multipartCallsAreSentAgainAfterSlowDown() async throws {
        let create = ThrottlingS3(throttled: 1)
        try await Self.withServer(create) { backend in
            let uploadId = try await backend.createMultipartUpload(key: "docs/big.bin")
            #expect(uploadId == "upload-1")
        }
        #expect(create.count(.post) == 2)
        let complete = ThrottlingS3(throttled: 2)
        try await Self.withServer(complete) { backend in
            let etag = try await backend.completeMultipartUpload(key: "docs/big.bin", uploadId: "upload-1",
                                                                 parts: [BackendPart(number: 1, etag: "p1")], size: 1, lock: nil)
            #expect(etag == "joined-2")
        }
        #expect(complete.count(.post) == 3)
    }

    /// A provider that goes on asking fails the write as throttled, not as the provider's
    /// failure; so does `429`. Another `503` is the provider's failure, and is not sent again.
    @Test(arguments: [(HTTPResponse.Status.serviceUnavailable, "SlowDown", true),
                      (HTTPResponse.Status.tooManyRequests, "TooManyRequests", true),
                      (HTTPResponse.Status.serviceUnavailable, "ServiceUnavailable", false)])
    func aProviderThatGoesOnAskingFailsTheWriteAsThrottled(status: HTTPResponse.Status, code: String, throttling: Bool) async throws {
        let server = ThrottlingS3(throttled: nil, status: status, code: code)
        let registry = PrometheusCollectorRegistry()
        try await Self.withServer(server) { backend in
            var backend = backend
            backend.metrics = BackendRequestMetrics(zone: backend.zone, registry: registry)
            let error = await #expect(throws: BackendError.self) {
                try await Self.put(backend, "docs/b.txt", Array("never taken".utf8))
            }
            #expect(error?.code == .unavailable)
            #expect(error?.cause == (throttling ? .throttled : .provider))
            let failure = try #require(error)
            #expect(BackendHealth.isBackendFailure(failure) == !throttling)
        }
        #expect(server.count(.put) == (throttling ? 3 : 1))
        let throttles = OperationalMetricsTests.series(registry.emitToString(), "gateway_backend_throttled_total")
        #expect(throttles == (throttling ? [#"gateway_backend_throttled_total{zone="FI-HEL-ST-1"} 3"#] : []))
    }

    /// Through the S3 API, a key whose two copies are both needed (`personal/`: write quorum 2),
    /// with one of its zones always asking to slow down: the client gets `503 SlowDown`, nothing
    /// is stored, and the zone's breaker has counted nothing. A provider that fails instead
    /// (`503 ServiceUnavailable`) gets its failure counted and the client `ServiceUnavailable`.
    @Test(arguments: [("SlowDown", true), ("ServiceUnavailable", false)])
    func theClientIsToldToSlowDownAndTheZoneStaysUp(code: String, throttling: Bool) async throws {
        let key = "personal/throttled-\(code).txt"
        let server = ThrottlingS3(throttled: nil, code: code)
        try await Self.putWithSecondZoneOn(server, key: key, Array("needs both zones".utf8)) { (gw, degraded, put) async throws in
            #expect(put.status == .serviceUnavailable, "\(String(buffer: put.body))")
            #expect(String(buffer: put.body).contains("<Code>\(throttling ? "SlowDown" : "ServiceUnavailable")</Code>"),
                    "\(String(buffer: put.body))")
            let breaker = degraded.state.health.snapshot[gw.planned("data", key)[1]]
            #expect((breaker?.consecutiveFailures ?? 0) == (throttling ? 0 : 1))
            #expect(try await gw.store.latestVersion(bucket: "data", key: key) == nil)
        }
        #expect(server.count(.put) == (throttling ? 3 : 1))
    }

    /// PUTs `body` at `data/KEY` (two copies, a write quorum of two) through a gateway whose
    /// second planned zone is an S3 backend on `server`, and hands `check` the gateway, the one
    /// with that zone, and the answer.
    static func putWithSecondZoneOn(
        _ server: ThrottlingS3, key: String, _ body: [UInt8],
        _ check: @escaping @Sendable (TestGateway, TestGateway, TestResponse) async throws -> Void
    ) async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        try #require(gw.state.policies.plan(for: .init(bucket: "data", key: key, tags: [:])).writeQuorum == 2)
        try await Self.withServer(server, zone: planned[1]) { backend in
            let degraded = gw.replacing([planned[1]: backend])
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                try await check(gw, degraded, try await degraded.put(client, "/data/\(key)", body))
            }
        }
    }

    /// A small write whose provider asks twice to slow down is stored in both zones.
    @Test func aWriteGoesThroughWhenTheProviderTakesItOnAnotherTry() async throws {
        let key = "personal/throttled-twice.txt"
        let server = ThrottlingS3(throttled: 2)
        try await Self.putWithSecondZoneOn(server, key: key, Array("stored on the third try".utf8)) { (gw, degraded, put) async throws in
            #expect(put.status == .ok, "\(String(buffer: put.body))")
            let planned = gw.planned("data", key)
            let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
            let replicas = try await gw.store.replicas(storageId: version.storageId)
            #expect(Set(replicas.filter { $0.status == .complete }.map(\.zone)) == Set(planned))
            #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures ?? 0 == 0)
        }
        #expect(server.count(.put) == 3)
    }

    /// A read whose first replica's provider asks to slow down is served by the next one at
    /// once; with every replica's provider asking, the client gets `503 SlowDown`.
    @Test func aReadAsksTheNextReplicaAndTellsTheClientToSlowDownWhenNoneServes() async throws {
        let key = "docs/throttled-read.txt"
        let object = Array("two copies, one of them behind a busy provider".utf8)
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let (_, planned) = try await gw.twoCopies(of: object, key: key)
        let first = ThrottlingS3(throttled: nil)
        try await Self.withServer(first, zone: planned[0]) { throttled in
            let degraded = gw.replacing([planned[0]: throttled])
            try await degraded.withClient { client in
                let r = try await degraded.get(client, "/data/\(key)")
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == object)
            }
            #expect(first.count(.get) >= 1, "the throttled zone was not asked first")
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures ?? 0 == 0)

            let second = ThrottlingS3(throttled: nil)
            try await Self.withServer(second, zone: planned[1]) { alsoThrottled in
                let both = gw.replacing([planned[0]: throttled, planned[1]: alsoThrottled])
                try await both.withClient { client in
                    let r = try await both.get(client, "/data/\(key)")
                    #expect(r.status == .serviceUnavailable)
                    #expect(String(buffer: r.body).contains("<Code>SlowDown</Code>"), "\(String(buffer: r.body))")
                }
                #expect(both.state.health.snapshot[planned[1]]?.consecutiveFailures ?? 0 == 0)
            }
        }
    }
}

/// The replication worker waits for a provider that asks to slow down: the job goes back in
/// the queue for the zone's pause (1 s, doubling while the provider goes on asking) without
/// using up an attempt, and the zone gets no other job until the pause is over.
@Suite("Copies that wait for a provider that asks to slow down, or for a connection")
struct ThrottledReplicationTests {
    @Test func aZonesPauseDoublesUpToAMinuteAndEndsWithASuccess() {
        let throttles = ZoneThrottles()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var at = start
        var pauses: [TimeInterval] = []
        for _ in 0..<9 {
            let until = throttles.record("FI-HEL-UC-1", now: at)
            // The other answers of the same batch do not lengthen the pause.
            #expect(throttles.record("FI-HEL-UC-1", now: at) == until)
            #expect(throttles.record("FI-HEL-UC-1", now: until.addingTimeInterval(-0.5)) == until)
            pauses.append(until.timeIntervalSince(at))
            at = until
        }
        #expect(pauses == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        #expect(throttles.paused(at: at.addingTimeInterval(-1)) == ["FI-HEL-UC-1"])
        #expect(throttles.paused(at: at).isEmpty)
        throttles.recordSuccess("FI-HEL-UC-1")
        #expect(throttles.pause(of: "FI-HEL-UC-1") == nil)
        #expect(throttles.record("FI-HEL-UC-1", now: at).timeIntervalSince(at) == 1)
        #expect(throttles.paused(at: at) == ["FI-HEL-UC-1"])
    }

    @Test func aRetryAfterIsSecondsOrADate() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(S3Backend.retryAfter("5", now: now) == 5)
        #expect(S3Backend.retryAfter(" 120 ", now: now) == 120)
        #expect(S3Backend.retryAfter("0", now: now) == 0)
        #expect(S3Backend.retryAfter("99999999999999", now: now) == 3600)
        #expect(S3Backend.retryAfter(HTTPDate.format(now.addingTimeInterval(30)), now: now) == 30)
        #expect(S3Backend.retryAfter(HTTPDate.format(now.addingTimeInterval(-30)), now: now) == 0)
        for bad in ["", "-3", "1.5", "soon", "5 s"] { #expect(S3Backend.retryAfter(bad, now: now) == nil, "\(bad)") }
    }

    /// A longer `Retry-After` than the pause's back-off makes the pause that long; a later
    /// answer of the same batch may lengthen it, not shorten it.
    @Test func aRetryAfterLengthensTheZonesPause() {
        let throttles = ZoneThrottles()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(throttles.record("FI-HEL-UC-1", now: now, retryAfter: 10) == now.addingTimeInterval(10))
        #expect(throttles.record("FI-HEL-UC-1", now: now, retryAfter: 20) == now.addingTimeInterval(20))
        #expect(throttles.record("FI-HEL-UC-1", now: now, retryAfter: 5) == now.addingTimeInterval(20))
        #expect(throttles.record("FI-HEL-UC-1", now: now) == now.addingTimeInterval(20))
        // The back-off goes on doubling beneath: 2 s after the second answer.
        let later = now.addingTimeInterval(20)
        #expect(throttles.record("FI-HEL-UC-1", now: later, retryAfter: 0) == later.addingTimeInterval(2))
    }

    /// Writes `object` at `data/KEY` (two copies, a write quorum of one) through a gateway
    /// whose second planned zone is an S3 backend on `server`, and hands `check` the gateway,
    /// the one with that zone, and the zones planned.
    static func writeWithSecondZoneOn(
        _ server: ThrottlingS3, key: String, _ object: [UInt8],
        _ check: @escaping @Sendable (TestGateway, TestGateway, [String]) async throws -> Void
    ) async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        try await ThrottlingTests.withServer(server, zone: planned[1]) { backend in
            let degraded = gw.replacing([planned[1]: backend])
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                #expect(try await degraded.put(client, "/data/\(key)", object).status == .ok)
            }
            try await check(gw, degraded, planned)
        }
    }

    /// The provider's `Retry-After` reaches the job: it waits that long, not the first 1 s.
    @Test func aCopyWaitsAsLongAsTheProviderSays() async throws {
        let server = ThrottlingS3(throttled: nil, methods: [.put], retryAfter: "30")
        try await Self.writeWithSecondZoneOn(server, key: "docs/throttled-retry-after.txt", Array("later".utf8)) { gw, degraded, planned in
            let backend = try #require(degraded.state.backends[planned[1]] as? S3Backend)
            let error = await #expect(throws: BackendError.self) { try await ThrottlingTests.put(backend, "direct.txt", [1, 2, 3]) }
            #expect(error?.cause == .throttled && error?.retryAfter == 30)
            let worker = ReplicationWorker(state: degraded.state)
            let start = Date().addingTimeInterval(120)
            #expect(try await worker.runOnce(now: start) == 0)
            #expect(worker.throttles.pause(of: planned[1]) == start.addingTimeInterval(30))
            server.calm()
            #expect(try await worker.runOnce(now: start.addingTimeInterval(29)) == 0)
            #expect(try await worker.runOnce(now: start.addingTimeInterval(30)) == 1)
        }
    }

    /// The copy's first request, a HEAD (is the object there already?), answered `503`: its
    /// answer has no body to say `SlowDown`, and the job waits as for one.
    @Test func aCopyWhoseHeadIsAnswered503Waits() async throws {
        let server = ThrottlingS3(throttled: nil, methods: [.head, .put])
        try await Self.writeWithSecondZoneOn(server, key: "docs/throttled-head.txt", Array("head first".utf8)) { (gw, degraded, planned) async throws in
            var worker = ReplicationWorker(state: degraded.state)
            worker.maxAttempts = 1
            let start = Date().addingTimeInterval(120)
            #expect(try await worker.runOnce(now: start) == 0)
            #expect(server.count(.head) == 3)
            #expect(try await gw.store.jobCounts(now: start) == SyncJobCounts(queued: 1))
            #expect(worker.throttles.paused(at: start) == [planned[1]])
            server.calm()
            #expect(try await worker.runOnce(now: start.addingTimeInterval(1)) == 1)
        }
    }

    /// A copy whose write found every connection to the provider busy (the gateway's doing)
    /// waits 5 s and is tried again, without using up an attempt or pausing the zone.
    @Test func aCopyThatFoundEveryConnectionBusyWaitsWithoutUsingUpItsAttempts() async throws {
        let key = "docs/busy-connections.txt"
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        // The write is stored in the first zone only: the others fail it.
        let others = TestGateway.zones.filter { $0 != planned[0] }.map { FlakyBackend(gw.state.backends[$0]!) }
        for flaky in others { flaky.set(failWrites: true) }
        let degraded = gw.replacing(Dictionary(uniqueKeysWithValues: others.map { ($0.zone, $0 as any ObjectBackend) }))
        try await degraded.withClient { client in
            try await degraded.createBucket(client, "data")
            #expect(try await degraded.put(client, "/data/\(key)", Array("busy".utf8)).status == .ok)
        }
        let writes = { others.map(\.writesStarted).reduce(0, +) }
        let written = writes()
        for flaky in others { flaky.writeFailureCause.withLock { $0 = .connectionsBusy } }
        var worker = ReplicationWorker(state: degraded.state)
        worker.maxAttempts = 1
        let start = Date().addingTimeInterval(120)
        #expect(try await worker.runOnce(now: start) == 0)
        #expect(writes() == written + 1)
        #expect(try await gw.store.jobCounts(now: start) == SyncJobCounts(queued: 1))
        #expect(worker.throttles.paused(at: start).isEmpty)
        #expect(try await worker.runOnce(now: start.addingTimeInterval(4)) == 0)
        #expect(writes() == written + 1, "tried again before its 5 s")
        for flaky in others { flaky.set(failWrites: false) }
        #expect(try await worker.runOnce(now: start.addingTimeInterval(5)) == 1)
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        #expect(try await gw.store.replicas(storageId: version.storageId).allSatisfy { $0.status == .complete })
    }

    @Test func aCopyWaitsForTheProviderWithoutUsingUpItsAttempts() async throws {
        let key = "docs/throttled-copy.txt"
        let object = Array("copied once the provider takes it".utf8)
        let server = ThrottlingS3(throttled: nil, methods: [.put])
        try await Self.writeWithSecondZoneOn(server, key: key, object) { gw, degraded, planned in
            let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
            var worker = ReplicationWorker(state: degraded.state)
            worker.maxAttempts = 2
            let start = Date().addingTimeInterval(120)
            // Three answers of SlowDown, more than the job's attempts: it stays queued, paused
            // 1 s, then 2 s, then 4 s.
            for at in [0.0, 1, 3] {
                let puts = server.count(.put)
                #expect(try await worker.runOnce(now: start.addingTimeInterval(at)) == 0)
                #expect(server.count(.put) > puts, "the copy was not sent at +\(at) s")
                #expect(try await gw.store.jobCounts(now: start) == SyncJobCounts(queued: 1))
            }
            #expect(worker.throttles.pause(of: planned[1]) == start.addingTimeInterval(7))
            let replica = try #require(try await gw.store.replicas(storageId: version.storageId).first { $0.zone == planned[1] })
            #expect(replica.status == .pending)
            #expect(replica.lastError?.contains("SlowDown") == true, "\(replica.lastError ?? "-")")
            // Nothing goes to the zone during its pause.
            let puts = server.count(.put)
            #expect(try await worker.runOnce(now: start.addingTimeInterval(6.5)) == 0)
            #expect(server.count(.put) == puts)

            server.calm()
            #expect(try await worker.runOnce(now: start.addingTimeInterval(7)) == 1)
            #expect(server.object("/2025-datatransfer/\(replica.backendKey)") == object)
            #expect(try await gw.store.replicas(storageId: version.storageId).allSatisfy { $0.status == .complete })
            #expect(worker.throttles.pause(of: planned[1]) == nil)
            #expect(degraded.state.health.snapshot[planned[1]]?.consecutiveFailures ?? 0 == 0)
        }
    }

    /// A copy whose only source's provider asks to slow down waits too, and the source's zone
    /// is paused.
    @Test func aCopyWaitsForItsSourceWithoutUsingUpItsAttempts() async throws {
        let key = "docs/throttled-source.txt"
        let object = Array("read from a busy provider".utf8)
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let server = ThrottlingS3(throttled: nil, methods: [.get])
        // The write is stored in the first zone only: the others fail it.
        let others = TestGateway.zones.filter { $0 != planned[0] }.map { FlakyBackend(gw.state.backends[$0]!) }
        for flaky in others { flaky.set(failWrites: true) }
        try await ThrottlingTests.withServer(server, zone: planned[0]) { backend in
            var backends: [String: any ObjectBackend] = [planned[0]: backend]
            for flaky in others { backends[flaky.zone] = flaky }
            let degraded = gw.replacing(backends)
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                #expect(try await degraded.put(client, "/data/\(key)", object).status == .ok)
            }
            for flaky in others { flaky.set(failWrites: false) }
            var worker = ReplicationWorker(state: degraded.state)
            worker.maxAttempts = 1
            let start = Date().addingTimeInterval(120)
            #expect(try await worker.runOnce(now: start) == 0)
            #expect(server.count(.get) >= 1)
            #expect(try await gw.store.jobCounts(now: start) == SyncJobCounts(queued: 1))
            #expect(worker.throttles.paused(at: start) == [planned[0]])
            // Nothing is read from the zone during its pause.
            let gets = server.count(.get)
            #expect(try await worker.runOnce(now: start.addingTimeInterval(0.5)) == 0)
            #expect(server.count(.get) == gets)
            server.calm()
            #expect(try await worker.runOnce(now: start.addingTimeInterval(1)) == 1)
            #expect(server.count(.get) > gets)
            let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
            #expect(try await gw.store.replicas(storageId: version.storageId).allSatisfy { $0.status == .complete })
        }
    }
}
