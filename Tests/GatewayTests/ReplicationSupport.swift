import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metadata
import NIOCore
import PolicyEngine
import Synchronization
import Testing

@testable import Gateway

/// A backend that fails on demand in front of a real one, counting what reaches it.
final class FlakyBackend: ObjectBackend {
    let base: any ObjectBackend
    private let flags = Mutex<(failWrites: Bool, failReads: Bool, failProbes: Bool, writes: Int, reads: Int, probes: Int)>(
        (false, false, false, 0, 0, 0))

    init(_ base: any ObjectBackend) { self.base = base }

    var zone: String { base.zone }
    var writesStarted: Int { flags.withLock { $0.writes } }
    var readsStarted: Int { flags.withLock { $0.reads } }
    var probes: Int { flags.withLock { $0.probes } }

    func set(failWrites: Bool? = nil, failReads: Bool? = nil, failProbes: Bool? = nil) {
        flags.withLock {
            if let failWrites { $0.failWrites = failWrites }
            if let failReads { $0.failReads = failReads }
            if let failProbes { $0.failProbes = failProbes }
        }
    }

    /// Whose doing a failed write is (the provider's unless set).
    let writeFailureCause = Mutex<BackendError.Cause>(.provider)

    func makeWriter(key: String, expectedSize: Int64?, lock: BackendObjectLock?) async throws -> any BackendWriter {
        let fail = flags.withLock { $0.writes += 1; return $0.failWrites }
        if fail {
            throw BackendError(code: .unavailable, message: "\(zone): connection refused (test)", cause: writeFailureCause.withLock { $0 })
        }
        return try await base.makeWriter(key: key, expectedSize: expectedSize, lock: lock)
    }

    /// How a read breaks off part-way: after how many bytes, and whether it then fails (as on
    /// a reset connection) or ends (a body cut short).
    enum BreakOff: Sendable { case fail(after: Int), end(after: Int) }
    let breakOff = Mutex<BreakOff?>(nil)

    func read(key: String, range: ClosedRange<Int64>?) async throws -> BackendReadStream {
        let fail = flags.withLock { $0.reads += 1; return $0.failReads }
        if fail { throw BackendError(code: .unavailable, message: "\(zone): connection refused (test)") }
        let stream = try await base.read(key: key, range: range)
        guard let breakOff = breakOff.withLock({ $0 }) else { return stream }
        let cut = Cut(stream, breakOff, zone: zone)
        return BackendReadStream { try await cut.next() }
    }

    /// The bytes of a stream up to its break-off.
    final class Cut: @unchecked Sendable {
        private var iterator: BackendReadStream.AsyncIterator
        private var left: Int
        private let fails: Bool
        private let zone: String

        init(_ stream: BackendReadStream, _ breakOff: BreakOff, zone: String) {
            iterator = stream.makeAsyncIterator()
            switch breakOff {
            case .fail(let after): (left, fails) = (after, true)
            case .end(let after): (left, fails) = (after, false)
            }
            self.zone = zone
        }

        func next() async throws -> ByteBuffer? {
            guard left > 0, var chunk = try await iterator.next() else {
                if fails { throw BackendError(code: .unavailable, message: "\(zone): connection reset by peer (test)") }
                return nil
            }
            if chunk.readableBytes > left { chunk = chunk.getSlice(at: chunk.readerIndex, length: left)! }
            left -= chunk.readableBytes
            return chunk
        }
    }

    func size(of key: String) async throws -> Int64? { try await base.size(of: key) }
    func delete(key: String) async throws { try await base.delete(key: key) }
    /// How long each probe takes before it answers.
    let probeDelay = Mutex<Duration>(.zero)
    /// Awaited by each probe before it answers (after the delay).
    let probeGate = Mutex<(@Sendable () async -> Void)?>(nil)

    func probe() async -> Bool {
        let fail = flags.withLock { flags -> Bool in
            flags.probes += 1
            return flags.failProbes
        }
        let delay = probeDelay.withLock { $0 }
        if delay > .zero { try? await Task.sleep(for: delay) }
        if let gate = probeGate.withLock({ $0 }) { await gate() }
        return fail ? false : await base.probe()
    }
    func initialize(objectLock: Bool) async throws { try await base.initialize(objectLock: objectLock) }

    /// Creating an upload and uploading parts fail with the writes.
    func createMultipartUpload(key: String) async throws -> String {
        let fail = flags.withLock { $0.writes += 1; return $0.failWrites }
        if fail { throw BackendError(code: .unavailable, message: "\(zone): connection refused (test)") }
        return try await base.createMultipartUpload(key: key)
    }

    func makePartWriter(key: String, uploadId: String, partNumber: Int, expectedSize: Int64?) async throws -> any BackendPartWriter {
        let fail = flags.withLock { $0.writes += 1; return $0.failWrites }
        if fail { throw BackendError(code: .unavailable, message: "\(zone): connection refused (test)") }
        return try await base.makePartWriter(key: key, uploadId: uploadId, partNumber: partNumber, expectedSize: expectedSize)
    }

    func completeMultipartUpload(key: String, uploadId: String, parts: [BackendPart], size: Int64,
                                 lock: BackendObjectLock?) async throws -> String? {
        try await base.completeMultipartUpload(key: key, uploadId: uploadId, parts: parts, size: size, lock: lock)
    }

    func abortMultipartUpload(key: String, uploadId: String) async throws {
        try await base.abortMultipartUpload(key: key, uploadId: uploadId)
    }

    func abortMultipartUploads(key: String) async throws { try await base.abortMultipartUploads(key: key) }
}

extension TestGateway {
    /// The same gateway (store, folders, policies) with some zones' backends replaced; its
    /// start-up gate is open if this one's is, unless `started` says otherwise.
    func replacing(_ replacements: [String: any ObjectBackend], started: Bool? = nil) -> TestGateway {
        var backends = state.backends
        for (zone, backend) in replacements { backends[zone] = backend }
        let s = state
        let newState = GatewayState(configuration: s.configuration, store: s.store, policies: s.policies,
                                    policyDiagnostics: s.policyDiagnostics, backends: backends,
                                    backendDefinitions: s.backendDefinitions, credentials: s.credentials, logger: s.logger)
        if started ?? s.startup.isOpen { newState.startup.open() }
        return TestGateway(directory: directory, state: newState, store: store)
    }

    /// Writes `object` at `data/key` and makes its second copy: the version, complete in both
    /// zones of its plan, and those zones in plan order.
    func twoCopies(of object: [UInt8], key: String) async throws -> (version: ObjectVersion, planned: [String]) {
        let planned = planned("data", key)
        try #require(planned.count == 2)
        try await withClient { client in
            try await createBucket(client, "data")
            #expect(try await put(client, "/data/\(key)", object).status == .ok)
        }
        _ = try await ReplicationWorker(state: state).runOnce(now: Date().addingTimeInterval(120))
        return (try #require(try await store.latestVersion(bucket: "data", key: key)), planned)
    }

    /// The zones the policies plan for an untagged object, in plan order.
    func planned(_ bucket: String, _ key: String) -> [String] {
        state.policies.plan(for: .init(bucket: bucket, key: key, tags: [:])).zones.map(\.code)
    }

    func createBucket(_ client: any TestClientProtocol, _ bucket: String) async throws {
        try await client.execute(uri: "/\(bucket)", method: .put, headers: signed("PUT", "/\(bucket)")) { r in
            #expect(r.status == .ok)
        }
    }

    @discardableResult
    func put(_ client: any TestClientProtocol, _ path: String, _ body: [UInt8]) async throws -> TestResponse {
        try await client.execute(uri: path, method: .put, headers: signed("PUT", path, body: body), body: ByteBuffer(bytes: body)) { $0 }
    }

    func get(_ client: any TestClientProtocol, _ path: String, method: HTTPRequest.Method = .get,
             range: String? = nil) async throws -> TestResponse {
        var headers = signed(method.rawValue, path, headers: range.map { [("range", $0)] } ?? [])
        if let range { headers[.range] = range }
        return try await client.execute(uri: path, method: method, headers: headers) { $0 }
    }

    /// Files of unfinished backend multipart uploads in a local-disk zone, relative paths.
    func uploadFiles(in zone: String) -> [String] {
        regularFiles(below: directory + "/zones/" + zone + "/_multipart")
    }

    /// The file of a backend key in a local-disk zone.
    func file(zone: String, key: String) -> String {
        (state.backends[zone] as? LocalDiskBackend)?.path(for: key)
            ?? ((state.backends[zone] as? FlakyBackend)?.base as? LocalDiskBackend)!.path(for: key)
    }
}
