import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import Metadata
import Metrics
import NIOCore
import NIOHTTP1
import NIOSSL
import S3Protocol
import SigV4
import Synchronization

/// A zone kept at an S3-compatible provider (`http(s)://host[:port]` in the backends file).
/// Path-style requests (`ENDPOINT/BUCKET/KEY`), every one SigV4-signed with the backend's
/// keys; uploads (UNSIGNED-PAYLOAD) are streamed with back-pressure, or sent whole when small;
/// reads are streamed.
struct S3Backend: ObjectBackend {
    let zone: String
    let bucket: String
    let endpoint: S3Endpoint
    /// The SigV4 signing region.
    let region: String
    /// CreateBucket's `LocationConstraint`; nil sends no CreateBucketConfiguration.
    let locationConstraint: String?
    let signer: SigV4Signer
    let clients: BackendHTTPClients
    /// The requests in flight to this backend's host (those of other backends there too).
    let load: ConnectionLoad
    /// The client of the event loop this task runs on (see ``BackendHTTPClients``).
    var client: HTTPClient { clients.current }
    /// Deadline of requests without a body worth streaming (HEAD, DELETE, PUT bucket).
    var requestTimeout: TimeAmount = .seconds(30)
    /// Deadline of the cheap health probe.
    var probeTimeout: TimeAmount = .seconds(3)
    /// Deadline of a whole streamed GET or PUT (idle connections fail earlier by the client's read timeout).
    var transferTimeout: TimeAmount = .hours(6)
    /// How long ``readOnce(key:range:)`` waits for the response's head: a reader with another
    /// replica asks that one instead of waiting for the client's read timeout (30 s) on a
    /// provider that stopped answering.
    var failoverTimeout: TimeAmount = .seconds(3)
    /// How long a streamed PUT may leave a buffer of its body untaken (the provider stopped
    /// reading it) before it fails (``watchingForStalls(of:key:_:)``), and how long a small PUT
    /// sent whole (``S3GatheredWriter``) may wait for its answer. Shorter than the gateway's
    /// idle timeout, which closes a client connection whose body is not read.
    var stallTimeout: Duration = .seconds(10)
    /// ``stallTimeout`` as async-http-client's deadlines take it.
    var stallTimeoutAmount: TimeAmount {
        let (seconds, attoseconds) = stallTimeout.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
    /// The read timeout of the backend's HTTP clients, which ``S3BodyReader`` uses to tell a
    /// provider that went silent from a reader that stopped reading.
    var readTimeout: TimeAmount { clients.readTimeout }
    /// Attempts of idempotent calls (GET, HEAD, DELETE, PUT bucket).
    var attempts = 3
    /// Whether the physical bucket has Object Lock enabled, once asked.
    let objectLockState = ObjectLockState()
    /// Where requests are counted and timed, if anywhere.
    var metrics: BackendRequestMetrics?

    /// `region` signs and, unless it is us-east-1, is the LocationConstraint.
    init(zone: String, endpoint: String, bucket: String, region: String, accessKey: String, secretKey: String,
         client: HTTPClient) throws {
        try self.init(zone: zone, endpoint: endpoint, bucket: bucket, region: BackendRegion(name: region),
                      accessKey: accessKey, secretKey: secretKey, clients: BackendHTTPClients(client))
    }

    init(zone: String, endpoint: String, bucket: String, region: BackendRegion, accessKey: String, secretKey: String,
         client: HTTPClient) throws {
        try self.init(zone: zone, endpoint: endpoint, bucket: bucket, region: region, accessKey: accessKey, secretKey: secretKey,
                      clients: BackendHTTPClients(client))
    }

    /// `region` signs and, unless it is us-east-1, is the LocationConstraint.
    init(zone: String, endpoint: String, bucket: String, region: String, accessKey: String, secretKey: String,
         clients: BackendHTTPClients) throws {
        try self.init(zone: zone, endpoint: endpoint, bucket: bucket, region: BackendRegion(name: region),
                      accessKey: accessKey, secretKey: secretKey, clients: clients)
    }

    init(zone: String, endpoint: String, bucket: String, region: BackendRegion, accessKey: String, secretKey: String,
         clients: BackendHTTPClients) throws {
        guard let parsed = S3Endpoint(endpoint) else {
            throw BackendError(code: .io, message: "\(zone): '\(endpoint)' is not an http(s) endpoint URL")
        }
        self.zone = zone
        self.bucket = bucket
        self.endpoint = parsed
        self.region = region.name
        self.locationConstraint = region.locationConstraint
        self.signer = SigV4Signer(credentials: SigV4Credentials(accessKeyID: accessKey, secretAccessKey: secretKey),
                                  region: region.name)
        self.clients = clients
        self.load = clients.load(of: parsed.origin)
    }

    /// How long a backend connection may receive nothing, while a response is awaited or read,
    /// before async-http-client fails its request. It also runs while the reader of a body
    /// applies backpressure (async-http-client then stops reading the socket).
    /// The default; `GATEWAY_BACKEND_READ_TIMEOUT` sets it.
    static let clientReadTimeout: TimeAmount = .seconds(30)

    /// A client for the S3 backends: connect 5 s, read `readTimeout`. `connectionsPerHost` bounds the
    /// requests in flight to one backend: with a provider tens of milliseconds away, async-http-client's default of 8
    /// would cap a zone at a few hundred requests per second however many clients wait.
    /// `tlsConfiguration` is that of HTTPS backends (``GatewayApp/backendTLSConfiguration(_:)``);
    /// nil is the client's default, which trusts the system's roots.
    static func makeHTTPClient(connectionsPerHost: Int = 64, eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup,
                               tlsConfiguration: TLSConfiguration? = nil, readTimeout: TimeAmount = clientReadTimeout) -> HTTPClient {
        HTTPClient(eventLoopGroup: eventLoopGroup,
                   configuration: clientConfiguration(connectionsPerHost: connectionsPerHost, tlsConfiguration: tlsConfiguration,
                                                      readTimeout: readTimeout))
    }

    static func clientConfiguration(connectionsPerHost: Int, tlsConfiguration: TLSConfiguration? = nil,
                                    readTimeout: TimeAmount = clientReadTimeout) -> HTTPClient.Configuration {
        // HTTPS backends are held to TLS 1.2 or later, as the listeners are.
        var tls = tlsConfiguration ?? .makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls,
                                                     timeout: .init(connect: .seconds(5), read: readTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connectionsPerHost))
        // A connection that cannot be made fails its requests at once (refused, unreachable, a
        // TLS handshake refused) instead of being tried again with back-off until the connect
        // timeout: a backend that went down would otherwise hold every request to it for 5 s,
        // and an idempotent one for 5 s per attempt, before the write's other zones or the
        // read's next replica were used. The gateway's own retries, the circuit breaker and
        // the replication worker deal with a backend that is down.
        configuration.connectionPool.retryConnectionEstablishment = false
        // The gateway bootstraps no tracer: without this, every backend request would run in a
        // span of the global no-op tracer, a cast and a task-local context per request for nothing.
        configuration.tracing.tracer = nil
        return configuration
    }

    // MARK: Requests

    /// A signed request for the bucket (`key` nil) or one of its objects.
    func request(_ method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [],
                 headers: [(name: String, value: String)] = [], payload: SigV4PayloadMode = .sha256(SigV4PayloadMode.emptySHA256),
                 date: Date = Date()) -> HTTPClientRequest {
        var rawPath = endpoint.basePath + "/" + bucket
        if let key { rawPath += "/" + key }
        let signing = SigV4SigningRequest(method: method.rawValue, host: endpoint.host, rawPath: rawPath,
                                          queryItems: query, headers: headers)
        let signed = signer.sign(signing, payload: payload, date: date)
        var request = HTTPClientRequest(url: endpoint.origin + signing.target)
        request.method = method
        request.headers.add(name: "Host", value: endpoint.host)
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        return request
    }

    /// Sends a request; connection failures and timeouts become `.unavailable`.
    /// With `closedConnection`, a failure on a connection closed under the request
    /// (``isClosedConnection(_:)``) is thrown as ``ClosedConnection``. `queuedTimeout`, when
    /// given, is the deadline instead of `timeout` for a request that waited for a connection
    /// (``ConnectionLoad``): `timeout` is then one meant for the provider alone, and the
    /// connection a waiting request is handed may still be finishing its last response.
    /// The request is counted in flight (``load``) until its response's head. Without
    /// `waitForConnection`, see ``sendHeld(_:timeout:queuedTimeout:closedConnection:waitForConnection:)``.
    func send(_ request: HTTPClientRequest, timeout: TimeAmount, queuedTimeout: TimeAmount? = nil,
              closedConnection: Bool = false, waitForConnection: Bool = true) async throws -> HTTPClientResponse {
        let (response, client) = try await sendHeld(request, timeout: timeout, queuedTimeout: queuedTimeout,
                                                    closedConnection: closedConnection, waitForConnection: waitForConnection)
        load.leave(client)
        return response
    }

    /// ``send(_:timeout:queuedTimeout:closedConnection:waitForConnection:)`` whose request stays counted in flight
    /// (``load``) on the returned client until the caller leaves it, once the response's body
    /// is read. Without `waitForConnection`, a request that finds every connection busy fails
    /// at once (``BackendError/Cause/connectionsBusy``) instead of waiting in line.
    func sendHeld(_ request: HTTPClientRequest, timeout: TimeAmount, queuedTimeout: TimeAmount? = nil,
                  closedConnection: Bool = false, waitForConnection: Bool = true) async throws -> (HTTPClientResponse, client: Int) {
        let index: Int
        var waited = false
        if let free = load.enter(clients.currentIndex) {
            index = free
        } else {
            Counter(label: "gateway_backend_connection_waits_total", dimensions: [("zone", zone)]).increment()
            guard waitForConnection else {
                throw BackendError(code: .unavailable,
                                   message: "\(zone): \(request.method.rawValue): every connection to the provider is busy with other requests",
                                   cause: .connectionsBusy)
            }
            (index, waited) = try await load.enterWaiting(clients.currentIndex, busy: """
                \(zone): \(request.method.rawValue): every connection to the provider stayed busy with other requests \
                for \(load.wait) (raise GATEWAY_BACKEND_CONNECTIONS)
                """)
        }
        let started = ContinuousClock.now
        do {
            let response = try await clients.client(index).execute(request, timeout: waited ? queuedTimeout ?? timeout : timeout)
            metrics?.record(method: request.method, status: response.status.code, duration: ContinuousClock.now - started)
            return (response, index)
        } catch {
            load.leave(index)
            if error is BackendError { throw error }
            if error is CancellationError { throw CancellationError() }
            metrics?.record(method: request.method, status: nil, duration: ContinuousClock.now - started)
            if let pool = error as? HTTPClientError, pool == .getConnectionFromPoolTimeout {
                // The connection handed over was still busy with its last response for longer
                // than the client's connect timeout.
                throw BackendError(code: .unavailable,
                                   message: "\(zone): \(request.method.rawValue): every connection to the provider stayed busy with other requests (raise GATEWAY_BACKEND_CONNECTIONS)",
                                   cause: .connectionsBusy)
            }
            let failure = BackendError(code: .unavailable, message: "\(zone): \(request.method.rawValue) failed: \(error)")
            if closedConnection, Self.isClosedConnection(error) { throw ClosedConnection(error: failure) }
            throw failure
        }
    }

    /// Runs an idempotent call up to `attempts` times (the backend's ``attempts`` unless
    /// given) while it fails with `.unavailable` (and `again` says so; it is asked only when
    /// another attempt is left, so it may also make that attempt ready), waiting 200 ms, then
    /// 400 ms... between attempts.
    func retrying<T>(attempts: Int? = nil, when again: (BackendError) -> Bool = { _ in true },
                     _ operation: () async throws -> T) async throws -> T {
        let attempts = attempts ?? self.attempts
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error as BackendError where error.code == .unavailable && attempt < attempts && again(error) {
                try await Task.sleep(for: .milliseconds(100 * (1 << attempt)))
                attempt += 1
            }
        }
    }

    /// Whether an answer asks the client to slow down: S3's `503 SlowDown` (also sent by
    /// Ceph RGW, MinIO and most providers when a bucket's request rate is over its limit), or
    /// `429 Too Many Requests`, which some providers send instead.
    static func isThrottling(status: UInt, code: String?) -> Bool {
        status == 429 || (status == 503 && code == "SlowDown")
    }

    /// The error of an answer asking to slow down (``isThrottling(status:code:)``), counted,
    /// with the wait its `Retry-After` asks for; nil for any other answer.
    func throttling(status: UInt, code: String?, headers: HTTPHeaders, message: @autoclosure () -> String) -> BackendError? {
        guard Self.isThrottling(status: status, code: code) else { return nil }
        metrics?.recordThrottled()
        return BackendError(code: .unavailable, message: message(), cause: .throttled,
                            retryAfter: Self.retryAfter(in: headers))
    }

    /// The seconds an answer's `Retry-After` asks for, if it has a valid one.
    static func retryAfter(in headers: HTTPHeaders) -> TimeInterval? {
        headers.first(name: "retry-after").flatMap { retryAfter($0) }
    }

    /// The seconds a `Retry-After` value asks for (RFC 9110 §10.2.3: a number of seconds or an
    /// HTTP date), at most an hour; nil when it is neither.
    static func retryAfter(_ value: String, now: Date = Date()) -> TimeInterval? {
        let value = value.trimmingCharacters(in: .whitespaces)
        let seconds: TimeInterval
        if !value.isEmpty, value.utf8.allSatisfy({ (48...57).contains($0) }) {
            seconds = TimeInterval(value.prefix(7)) ?? 0
        } else if let date = HTTPDate.parse(value) {
            seconds = max(0, date.timeIntervalSince(now))
        } else {
            return nil
        }
        return min(seconds, 3600)
    }

    /// The error of a non-2xx response (its body is read, up to 64 KiB, for the S3 error code).
    func failure(_ response: HTTPClientResponse, _ what: String) async -> BackendError {
        let body = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        let code = S3ErrorBody.code(in: body)
        let message = "\(zone): \(what): HTTP \(response.status.code)" + (code.map { " \($0)" } ?? "")
        if let throttled = throttling(status: response.status.code, code: code, headers: response.headers, message: message) {
            return throttled
        }
        switch response.status.code {
        case 404: return BackendError(code: .notFound, message: message)
        case 500...599: return BackendError(code: .unavailable, message: message)
        default: return BackendError(code: .io, message: message)
        }
    }

    /// The error of a HEAD's non-2xx response. A HEAD's answer has no body, so a `503` cannot
    /// say whether the provider asks to slow down (S3 answers a HEAD over its request rate
    /// so) or is down; it is taken as the first, which the replication worker waits for
    /// without using up a job's attempts. A zone that is down fails its health probe (a HEAD
    /// too, which counts a `503` as down), and its jobs wait for it all the same.
    func headFailure(_ response: HTTPClientResponse, _ key: String) async -> BackendError {
        guard response.status.code == 503 else { return await failure(response, "HEAD \(key)") }
        return BackendError(code: .unavailable, message: "\(zone): HEAD \(key): HTTP 503 (SlowDown, or the provider is down)",
                            cause: .throttled,
                            retryAfter: Self.retryAfter(in: response.headers))
    }

    // MARK: ObjectBackend

    func initialize(objectLock: Bool) async throws {
        objectLockState.forget()
        try await retrying {
            var headers: [(name: String, value: String)] = []
            if objectLock { headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
            let body = Self.createBucketBody(locationConstraint: locationConstraint)
            var request = self.request(.PUT, key: nil, headers: headers,
                                       payload: body.isEmpty ? .sha256(SigV4PayloadMode.emptySHA256) : .sha256(of: body))
            if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await send(request, timeout: requestTimeout)
            if (200..<300).contains(response.status.code) {
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return
            }
            let error = await failure(response, "create bucket \(bucket)")
            if error.message.hasSuffix("BucketAlreadyOwnedByYou") || error.message.hasSuffix("BucketAlreadyExists") { return }
            throw error
        }
    }

    /// CreateBucket's body: a CreateBucketConfiguration naming the LocationConstraint, or none.
    static func createBucketBody(locationConstraint: String?) -> [UInt8] {
        guard let locationConstraint else { return [] }
        return Array("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <LocationConstraint>\(XMLWriter.escaped(locationConstraint))</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
    }

    func makeWriter(key: String, expectedSize: Int64?, lock: BackendObjectLock?) async throws -> any BackendWriter {
        // The lock goes on with PutObjectRetention / PutObjectLegalHold once the object exists:
        // those small requests carry the Content-MD5 that S3 demands of locked uploads, which a
        // streamed PUT cannot know in advance.
        let lock = try await lock.asyncFilter { _ in try await bucketHasObjectLock() }
        let afterwards: @Sendable () async throws -> Void = { [self] in
            if let lock { try await apply(lock, to: key) }
        }
        if writerOpensAtOnce(expectedSize: expectedSize) {
            return S3GatheredWriter(backend: self, key: key, afterwards: afterwards)
        }
        return streamingPut(key: key, expectedSize: expectedSize, afterwards: afterwards)
    }

    /// A small body of known length is gathered (``S3GatheredWriter``): nothing is sent
    /// before it is complete.
    func writerOpensAtOnce(expectedSize: Int64?) -> Bool {
        expectedSize.map { $0 <= Self.gatheredPutLimit } ?? false
    }

    /// Bodies of known length up to this size are gathered and sent in one request
    /// (``S3GatheredWriter``) rather than streamed.
    static let gatheredPutLimit: Int64 = 64 * 1024

    /// A PUT of `key` (with `query`, a part of a multipart upload), sent again on another
    /// connection when the request dies on a connection closed under it (see
    /// ``isClosedConnection(_:)``: a kept-alive connection that the provider closed when it had
    /// been idle too long, just as the client took it), at most ``attempts`` times in all.
    /// `body` gives the body of each attempt (numbered from 1), or nil when it cannot be sent
    /// again.
    /// `timeout`: the deadline of each attempt (default ``transferTimeout``); `queuedTimeout`:
    /// that of an attempt that may wait for a connection (see ``send(_:timeout:queuedTimeout:closedConnection:waitForConnection:)``).
    func put(key: String, query: [(name: String, value: String)] = [], timeout: TimeAmount? = nil,
             queuedTimeout: TimeAmount? = nil,
             body: (_ attempt: Int) -> HTTPClientRequest.Body?) async throws -> HTTPClientResponse {
        var attempt = 1
        var next = body(attempt)
        while true {
            var request = request(.PUT, key: key, query: query, headers: [("content-type", "application/octet-stream")],
                                  payload: .unsigned)
            request.body = next
            do {
                return try await send(request, timeout: timeout ?? transferTimeout, queuedTimeout: queuedTimeout,
                                      closedConnection: true)
            } catch let closed as ClosedConnection {
                attempt += 1
                guard attempt <= attempts, let again = body(attempt) else { throw closed.error }
                // Rare (a connection closed at the moment it was taken): the handle is made here.
                Counter(label: "gateway_backend_puts_resent_total", dimensions: [("zone", zone)]).increment()
                next = again
            }
        }
    }

    /// The ETag of a successful PUT's response, or the error of a failed one.
    func outcome(of response: HTTPClientResponse, key: String, afterwards: () async throws -> Void) async throws -> String? {
        guard (200..<300).contains(response.status.code) else {
            throw await failure(response, "PUT \(key)")
        }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        try await afterwards()
        return response.headers.first(name: "etag").map { $0.trimmingQuotes() }
    }

    /// One streamed PUT of `key` (an object, or with `query` a part of a multipart upload);
    /// `afterwards` runs once the provider has accepted the bytes.
    ///
    /// After a closed connection the body goes out again (``put(key:query:body:)``) provided
    /// that the failed request had taken no more than ``replayLimit`` bytes of it (the
    /// ``UploadChannel`` keeps those); so it does after a provider asked to slow down
    /// (``BackendError/Cause/throttled``), after a pause, within the backend's ``attempts``.
    func streamingPut(key: String, query: [(name: String, value: String)] = [], expectedSize: Int64?,
                      afterwards: @escaping @Sendable () async throws -> Void = {}) -> S3Writer {
        let channel = UploadChannel(keepLimit: Self.replayLimit)
        let task = Task { [self] () throws -> String? in
            do {
                // Content-Length (or chunked transfer encoding) is set by the client from the body's length.
                let length: HTTPClientRequest.Body.Length = expectedSize.map { .known($0) } ?? .unknown
                // After a SlowDown the provider has answered, so that request is over: the next
                // one reads the body from its start (the rewind), if the buffers it took are kept.
                return try await retrying(when: { $0.cause == .throttled && channel.rewind() }) {
                    let response = try await watchingForStalls(of: channel, key: key) {
                        try await put(key: key, query: query) { attempt in
                            attempt == 1 || channel.rewind() ? .stream(channel.reader(), length: length) : nil
                        }
                    }
                    return try await outcome(of: response, key: key, afterwards: afterwards)
                }
            } catch {
                channel.fail(error)
                throw error
            }
        }
        return S3Writer(zone: zone, key: key, channel: channel, upload: task)
    }

    /// Runs `request` (the PUT reading `channel`) beside a watchdog that fails it with
    /// `.unavailable` once a writer has waited ``stallTimeout`` for the request to take a buffer,
    /// or the request has had the whole body and no answer for that long
    /// (``UploadChannel/stall(longerThan:now:)``). A request still waiting for a connection,
    /// behind others to the same provider, is not stalled: it has taken nothing yet.
    ///
    /// async-http-client has no write timeout: a provider that stops reading a body would hold
    /// the writer until the client's connection to the gateway went idle for its timeout and
    /// was closed, without an answer; one that has the body and does not answer, until the
    /// client's read timeout (30 s). With a zone the write quorum needs, the write now fails with
    /// 503 first; a zone beyond the quorum is left behind earlier, after the straggler grace.
    func watchingForStalls(of channel: UploadChannel, key: String,
                           _ request: @escaping @Sendable () async throws -> HTTPClientResponse) async throws -> HTTPClientResponse {
        let limit = stallTimeout
        let check = max(Duration.milliseconds(50), min(limit / 4, .seconds(1)))
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await request() }
            group.addTask { [zone] in
                while true {
                    try await Task.sleep(for: check)
                    if let stall = channel.stall(longerThan: limit) {
                        let what = stall == .body ? "took no bytes of the body for \(limit)" : "did not answer within \(limit) of the body's end"
                        let error = BackendError(code: .unavailable, message: "\(zone): PUT \(key): the provider \(what)")
                        // The writer waiting on the channel gets the error at once.
                        channel.fail(error)
                        throw error
                    }
                }
            }
            defer { group.cancelAll() }
            // The watchdog returns only by throwing; the request's response ends the group.
            while let first = try await group.next() {
                if let response = first { return response }
            }
            throw CancellationError()
        }
    }

    /// Up to this many bytes of a body that a request has taken can be sent again after a
    /// closed connection (``streamingPut(key:query:expectedSize:afterwards:)``). A request goes
    /// on taking the body until the client sees that the connection is gone: on loopback, with
    /// a writer that never waits (the worst case), 0.25–2.3 MiB; a client uploading to the
    /// gateway over a network feeds it far more slowly. The buffers kept are the ones sent
    /// (nothing is copied), and only until the request has taken more than this.
    static let replayLimit = 1024 * 1024

    /// A request that failed on a connection that was closed under it, before any answer.
    struct ClosedConnection: Error {
        let error: BackendError
    }

    /// Whether `error` says the connection was closed or reset under the request, before any
    /// answer: typically a kept-alive connection that the provider closed when it had been idle
    /// for its timeout, at the moment the client took it for a new request. Sending the request
    /// again on another connection is then safe for an idempotent request.
    static func isClosedConnection(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .remoteConnectionClosed
        }
        if let error = error as? IOError {
            return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        }
        if let error = error as? ChannelError {
            switch error {
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed: return true
            default: return false
            }
        }
        return false
    }

    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream {
        try await read(key: key, range: range, attempts: attempts, timeout: transferTimeout)
    }

    /// One attempt, whose response head must come within ``failoverTimeout`` (the body may
    /// take as long as it takes), unless it waited for a connection first.
    func readOnce(key: String, range: ClosedRange<Int64>?, waitForConnection: Bool) async throws -> BackendReadStream {
        try await read(key: key, range: range, attempts: 1, timeout: failoverTimeout, queuedTimeout: transferTimeout,
                       waitForConnection: waitForConnection)
    }

    /// `timeout` bounds the wait for the response's head (async-http-client's deadline ends
    /// when the head arrives). The request stays counted in flight until its body is read.
    private func read(key: String, range: ClosedRange<Int64>?, attempts: Int, timeout: TimeAmount,
                      queuedTimeout: TimeAmount? = nil, waitForConnection: Bool = true) async throws -> BackendReadStream {
        let (response, client) = try await retrying(attempts: attempts) { () throws -> (HTTPClientResponse, Int) in
            var headers: [(name: String, value: String)] = []
            if let range { headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
            let (response, client) = try await sendHeld(request(.GET, key: key, headers: headers), timeout: timeout,
                                                        queuedTimeout: queuedTimeout, waitForConnection: waitForConnection)
            guard response.status.code == 200 || response.status.code == 206 else {
                defer { load.leave(client) }
                throw await failure(response, "GET \(key)")
            }
            return (response, client)
        }
        let reader = S3BodyReader(zone: zone, iterator: response.body.makeAsyncIterator(), load: load, client: client,
                                  readTimeout: readTimeout)
        return BackendReadStream { try await reader.next() }
    }

    func size(of key: String) async throws -> Int64? {
        try await retrying { () throws -> Int64? in
            let response = try await send(request(.HEAD, key: key), timeout: requestTimeout)
            if response.status.code == 404 { return nil }
            guard response.status.code == 200 else { throw await headFailure(response, key) }
            guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
                throw BackendError(code: .io, message: "\(zone): HEAD \(key): no Content-Length")
            }
            return length
        }
    }

    /// The backend's ETag of an object (without quotes), nil when absent.
    func etag(of key: String) async throws -> String? {
        try await retrying { () throws -> String? in
            let response = try await send(request(.HEAD, key: key), timeout: requestTimeout)
            if response.status.code == 404 { return nil }
            guard response.status.code == 200 else { throw await headFailure(response, key) }
            return response.headers.first(name: "etag").map { $0.trimmingQuotes() }
        }
    }

    /// Removes the object. In a versioned bucket (every bucket with Object Lock is) a plain
    /// DELETE only hides the bytes behind a delete marker, so each version of the key is deleted
    /// by its id; a version still under the provider's retention is refused, and so is this call.
    func delete(key: String) async throws {
        if try await bucketHasObjectLock() {
            for versionId in try await versionIds(of: key) {
                try await deleteOnce(key: key, versionId: versionId)
            }
            return
        }
        try await deleteOnce(key: key, versionId: nil)
    }

    private func deleteOnce(key: String, versionId: String?) async throws {
        try await retrying {
            let query = versionId.map { [(name: "versionId", value: $0)] } ?? []
            let response = try await send(request(.DELETE, key: key, query: query), timeout: requestTimeout)
            if (200..<300).contains(response.status.code) || response.status.code == 404 {
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return
            }
            throw await failure(response, "DELETE \(key)")
        }
    }

    /// The version ids (versions and delete markers) of exactly `key` (ListObjectVersions).
    func versionIds(of key: String) async throws -> [String] {
        var ids: [String] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query: [(name: String, value: String)] = [("versions", ""), ("prefix", key), ("max-keys", "1000")]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let page = try await retrying { () throws -> S3XMLElement in
                let response = try await send(request(.GET, key: nil, query: query), timeout: requestTimeout)
                guard response.status.code == 200 else { throw await failure(response, "GET ?versions \(key)") }
                let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
                return try S3XMLParser(limits: .init(maxBytes: 16 * 1024 * 1024)).parse(Array(buffer: body))
            }
            for entry in page.children where entry.name == "Version" || entry.name == "DeleteMarker" {
                if entry.child("Key")?.text == key, let id = entry.child("VersionId")?.text { ids.append(id) }
            }
            guard page.child("IsTruncated")?.trimmedText == "true" else { break }
            keyMarker = page.child("NextKeyMarker")?.text
            versionMarker = page.child("NextVersionIdMarker")?.text
        } while keyMarker != nil
        return ids
    }

    /// Whether the physical bucket was created with Object Lock (GetObjectLockConfiguration),
    /// asked once and remembered.
    func bucketHasObjectLock() async throws -> Bool {
        if let known = objectLockState.value { return known }
        let enabled = try await retrying { () throws -> Bool in
            let response = try await send(request(.GET, key: nil, query: [("object-lock", "")]), timeout: requestTimeout)
            if response.status.code == 404 {
                let error = await failure(response, "GET ?object-lock")
                if error.message.hasSuffix("ObjectLockConfigurationNotFoundError") { return false }
                throw error
            }
            guard response.status.code == 200 else { throw await failure(response, "GET ?object-lock") }
            let body = String(buffer: try await response.body.collect(upTo: 64 * 1024))
            return body.contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")
        }
        objectLockState.set(enabled)
        return enabled
    }

    /// Puts the version's retention and legal hold on the backend object.
    func apply(_ lock: BackendObjectLock, to key: String) async throws {
        let ns = "http://s3.amazonaws.com/doc/2006-03-01/"
        var calls: [(String, String)] = []
        if let retention = lock.retention {
            calls.append(("retention", "<Retention xmlns=\"\(ns)\"><Mode>\(retention.mode.rawValue)</Mode>"
                + "<RetainUntilDate>\(ISO8601Timestamp.format(retention.retainUntil))</RetainUntilDate></Retention>"))
        }
        if lock.legalHold {
            calls.append(("legal-hold", "<LegalHold xmlns=\"\(ns)\"><Status>ON</Status></LegalHold>"))
        }
        for (subresource, xml) in calls {
            let body = Array(xml.utf8)
            let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
            try await retrying {
                var request = self.request(.PUT, key: key, query: [(subresource, "")],
                                           headers: [("content-md5", md5), ("content-type", "application/xml")],
                                           payload: .sha256(of: body))
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await send(request, timeout: requestTimeout)
                guard (200..<300).contains(response.status.code) else { throw await failure(response, "PUT \(key)?\(subresource)") }
                _ = try? await response.body.collect(upTo: 64 * 1024)
            }
        }
    }

    /// The text of the first `<name>` element (entities `&quot;` decoded, as in ETags).
    static func xmlValue(_ name: String, in body: String) -> String? {
        guard let start = body.range(of: "<\(name)>"), let end = body.range(of: "</\(name)>", range: start.upperBound..<body.endIndex) else {
            return nil
        }
        return String(body[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#34;", with: "\"")
    }

    /// HEAD of the physical bucket: healthy when it answers 2xx in time, or `429` (a provider
    /// over its request rate is up; a `503` to a HEAD has no body to tell `SlowDown` from an
    /// outage, so it counts as down). With every connection
    /// to the provider busy, the probe is not sent and the zone counts as healthy: the requests
    /// in flight are what tells, each failure reaching the circuit breaker, and a probe waiting
    /// in line behind them would hold up `/health` and, failing, open the breaker of a zone that
    /// is only busy.
    func probe() async -> Bool {
        do {
            let response = try await send(request(.HEAD, key: nil), timeout: probeTimeout, waitForConnection: false)
            return (200..<300).contains(response.status.code) || response.status.code == 429
        } catch let error as BackendError where error.cause == .connectionsBusy {
            return true
        } catch {
            return false
        }
    }
}

/// `scheme://authority[/base]` of a backend, and the exact Host that is signed and sent.
struct S3Endpoint: Sendable, Equatable {
    /// `http://host:port`
    var origin: String
    /// The Host header: the authority without a default port.
    var host: String
    /// A path prefix (no trailing slash), usually empty.
    var basePath: String

    init?(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains("?") else { return nil }
        var base = String(rest[authorityEnd...])
        while base.hasSuffix("/") { base.removeLast() }
        origin = scheme + "://" + authority
        let defaultPort = scheme == "http" ? ":80" : ":443"
        host = authority.hasSuffix(defaultPort) ? String(authority.dropLast(defaultPort.count)) : authority
        basePath = base
    }
}

enum S3ErrorBody {
    /// The `<Code>` of an S3 error document.
    static func code(in body: String) -> String? {
        guard let start = body.range(of: "<Code>"), let end = body.range(of: "</Code>", range: start.upperBound..<body.endIndex) else {
            return nil
        }
        return String(body[start.upperBound..<end.lowerBound])
    }
}

/// Pulls a GET body on demand for `BackendReadStream`.
///
/// async-http-client's read timeout also runs while the body is not being read: backpressure
/// stops it reading the socket, so a reader that pauses longer than the timeout (the gateway's
/// client paused its download) finds the request failed when it asks for more. That failure
/// is told apart from a provider that went silent by how long the failing `next` waited: a
/// silent provider makes it wait about the whole timeout, a pause makes the error come at
/// once. It is thrown with the cause ``BackendError/Cause/readerPaused``.
final class S3BodyReader: @unchecked Sendable {
    // Used by one consumer at a time (the response writer awaits each chunk).
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let zone: String
    /// Where the request is counted in flight until its body has been read, failed or dropped.
    private let load: ConnectionLoad
    private let client: Int
    private let readTimeout: TimeAmount
    private var done = false

    init(zone: String, iterator: HTTPClientResponse.Body.AsyncIterator, load: ConnectionLoad, client: Int,
         readTimeout: TimeAmount) {
        self.zone = zone
        self.iterator = iterator
        self.load = load
        self.client = client
        self.readTimeout = readTimeout
    }

    deinit {
        if !done { load.leave(client) }
    }

    func next() async throws -> ByteBuffer? {
        let asked = NIODeadline.now()
        do {
            if let chunk = try await iterator.next() { return chunk }
            end()
            return nil
        } catch is CancellationError {
            end()
            throw CancellationError()
        } catch {
            end()
            // Half the timeout: a silent provider fails a `next` that was asked right after
            // the last bytes came, so it waits nearly the whole timeout.
            if let timeout = error as? HTTPClientError, timeout == .readTimeout, NIODeadline.now() - asked < .nanoseconds(readTimeout.nanoseconds / 2) {
                throw BackendError(code: .unavailable,
                                   message: "\(zone): the body's connection timed out while it was not being read (\(error))",
                                   cause: .readerPaused)
            }
            throw BackendError(code: .unavailable, message: "\(zone): reading the body failed: \(error)")
        }
    }

    private func end() {
        guard !done else { return }
        done = true
        load.leave(client)
    }
}

/// A writer to an S3 provider, which learns the provider's ETag of what it wrote.
protocol S3ObjectWriter: BackendWriter {
    /// Finishes the write; returns the backend's ETag of the new object.
    func finishReturningETag() async throws -> String?
}

/// One PUT of a small body: `write` gathers the buffers, and `finish` sends them in one request
/// and waits for the provider's answer. No request is open while the body arrives, and no task
/// hands buffers to the HTTP client: for a body of a few KiB that hand-off costs more than the
/// bytes. The provider sees nothing before `finish`.
final class S3GatheredWriter: S3ObjectWriter, Sendable {
    let backend: S3Backend
    let key: String
    let afterwards: @Sendable () async throws -> Void
    private let buffers = Mutex<[ByteBuffer]>([])

    init(backend: S3Backend, key: String, afterwards: @escaping @Sendable () async throws -> Void) {
        self.backend = backend
        self.key = key
        self.afterwards = afterwards
    }

    func write(_ buffer: ByteBuffer) async throws {
        buffers.withLock { $0.append(buffer) }
    }

    @discardableResult
    func finishReturningETag() async throws -> String? {
        let body: ByteBuffer = buffers.withLock { parts in
            // Usually one buffer, sent as it is.
            if parts.count == 1 { return parts[0] }
            var whole = ByteBuffer()
            whole.reserveCapacity(parts.reduce(0) { $0 + $1.readableBytes })
            for part in parts { whole.writeImmutableBuffer(part) }
            return whole
        }
        // A body this small is sent at once: a provider that has not answered within the stall
        // timeout has stopped answering (as one that stops taking a streamed body).
        // (Waiting for a connection behind other requests to the provider is not its silence.)
        // The body is at hand, so a provider that asks to slow down gets it again after a pause.
        return try await backend.retrying(when: { $0.cause == .throttled }) {
            let response = try await backend.put(key: key, timeout: backend.stallTimeoutAmount,
                                                 queuedTimeout: backend.transferTimeout) { _ in .bytes(body) }
            return try await backend.outcome(of: response, key: key, afterwards: afterwards)
        }
    }

    func finish() async throws {
        try await finishReturningETag()
    }

    func abort() async {
        buffers.withLock { $0 = [] }
    }
}

/// One streamed PUT: `write` hands each buffer to the HTTP client and returns once the client
/// has taken it; `finish` ends the body and waits for the provider's answer.
final class S3Writer: S3ObjectWriter, Sendable {
    let zone: String
    let key: String
    let channel: UploadChannel
    let upload: Task<String?, any Error>

    init(zone: String, key: String, channel: UploadChannel, upload: Task<String?, any Error>) {
        self.zone = zone
        self.key = key
        self.channel = channel
        self.upload = upload
    }

    /// Cancelling the task fails the upload (the write coordinator cancels a zone it leaves
    /// behind, whose provider may not take the buffer for as long as the client's timeouts).
    func write(_ buffer: ByteBuffer) async throws {
        try await withTaskCancellationHandler {
            try await channel.send(buffer)
        } onCancel: { [channel, zone, key] in
            channel.fail(BackendError(code: .io, message: "\(zone): upload of \(key) cancelled"))
        }
    }

    /// Returns the backend's ETag of the new object. Cancelling the task cancels the upload.
    @discardableResult
    func finishReturningETag() async throws -> String? {
        channel.finish()
        return try await withTaskCancellationHandler {
            try await upload.value
        } onCancel: { [upload] in
            upload.cancel()
        }
    }

    func finish() async throws {
        try await finishReturningETag()
    }

    func abort() async {
        channel.fail(BackendError(code: .io, message: "\(zone): upload of \(key) aborted"))
        upload.cancel()
        _ = try? await upload.value
    }
}

/// The remembered answer of ``S3Backend/bucketHasObjectLock()``.
final class ObjectLockState: Sendable {
    private let state = Mutex<Bool?>(nil)
    var value: Bool? { state.withLock { $0 } }
    func set(_ enabled: Bool) { state.withLock { $0 = enabled } }
    func forget() { state.withLock { $0 = nil } }
}

extension Optional {
    /// Self when `isIncluded` holds for the wrapped value, else nil.
    func asyncFilter(_ isIncluded: (Wrapped) async throws -> Bool) async rethrows -> Wrapped? {
        guard let value = self, try await isIncluded(value) else { return nil }
        return value
    }
}
