import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Metadata
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// A zone whose S3 server went away after start-up (nothing listens on its port any more)
/// costs a refused connection, not the HTTP client's connect timeout: a write goes on with its
/// other zones and a read fails over to the next replica at once.
///
/// The gone backend has the gateway's client configuration with a connect timeout of 20 s, so
/// that a client which waited for a connection (as async-http-client does by default, trying
/// again with back-off until the connect timeout) would make each request take 20 s or more.
@Suite("A backend that went down")
struct BackendOutageTests {
    static let limit = Duration.seconds(15)

    static func withGoneBackend(_ body: (_ gw: TestGateway, _ gone: @escaping (String) throws -> S3Backend) async throws -> Void)
        async throws {
        var configuration = S3Backend.clientConfiguration(connectionsPerHost: 4)
        configuration.timeout.connect = .seconds(20)
        let port = try await ManagementAPITests.closedPort()
        try await HTTPClient.withHTTPClient(configuration: configuration) { client in
            let gw = try await TestGateway.make()
            defer { gw.cleanUp() }
            try await body(gw) { zone in
                try S3Backend(zone: zone, endpoint: "http://127.0.0.1:\(port)", bucket: "2025-datatransfer",
                              region: "us-east-1", accessKey: "k", secretKey: "s", client: client)
            }
        }
    }

    /// Writes `data/KEY` (two copies, both on folders), then reads it with the first zone in
    /// read order served by `replacement(zone)`, which its breaker does not know to be down:
    /// the second zone answers within the limit, and the first zone's failure is counted once.
    static func expectReadFailsOver(_ gw: TestGateway, key: String, what: String,
                                    to replacement: (String) throws -> any ObjectBackend) async throws {
        let planned = gw.planned("data", key)
        try #require(planned.count == 2)
        let body = Array("still readable from the second zone".utf8)
        try await gw.withClient { client in
            try await gw.createBucket(client, "data")
            #expect(try await gw.put(client, "/data/\(key)", body).status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: "data", key: key))
        #expect(try await gw.store.replicas(storageId: version.storageId).filter { $0.status == .complete }.count == 2)

        let degraded = gw.replacing([planned[0]: try replacement(planned[0])])
        #expect(degraded.state.isHealthy(planned[0]))
        let started = ContinuousClock.now
        try await degraded.withClient { client in
            let r = try await degraded.get(client, "/data/\(key)")
            #expect(r.status == .ok)
            #expect(Array(r.body.readableBytesView) == body)
        }
        let took = ContinuousClock.now - started
        #expect(took < limit, "the read waited \(took) for a zone that \(what)")
        #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures == 1)
    }

    @Test func aReadFailsOverToTheNextReplicaAtOnce() async throws {
        try await Self.withGoneBackend { gw, gone in
            try await Self.expectReadFailsOver(gw, key: "docs/outage-read.txt", what: "refuses connections", to: gone)
        }
    }

    @Test func aWriteGoesOnWithItsOtherZonesAtOnce() async throws {
        try await Self.withGoneBackend { gw, gone in
            let key = "docs/outage-write.txt"
            let planned = gw.planned("data", key)
            try #require(planned.count == 2)
            let degraded = gw.replacing([planned[0]: try gone(planned[0])])
            let started = ContinuousClock.now
            try await degraded.withClient { client in
                try await degraded.createBucket(client, "data")
                // Two copies, a write quorum of one: the zone that is up acknowledges it.
                let put = try await degraded.put(client, "/data/\(key)", Array("written while a zone is down".utf8))
                #expect(put.status == .ok, "\(String(buffer: put.body))")
                let r = try await degraded.get(client, "/data/\(key)", method: .head)
                #expect(r.header("x-gateway-replicas") == "\(planned[0])=PENDING,\(planned[1])=COMPLETED")
            }
            let took = ContinuousClock.now - started
            #expect(took < Self.limit, "the write waited \(took) for a zone that refuses connections")
            #expect(degraded.state.health.snapshot[planned[0]]?.consecutiveFailures == 1)
        }
    }

    /// A provider that accepts connections and never answers: the read asks the next replica
    /// after the backend's failover timeout, not the HTTP client's read timeout (30 s).
    @Test func aReadFailsOverFromAZoneThatStoppedAnswering() async throws {
        let server = try await WriteStragglerTests.SilentServer()
        do {
            try await readThroughSilentZone(server)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    func readThroughSilentZone(_ server: WriteStragglerTests.SilentServer) async throws {
        try await HTTPClient.withHTTPClient(configuration: S3Backend.clientConfiguration(connectionsPerHost: 4)) { client in
            let gw = try await TestGateway.make()
            defer { gw.cleanUp() }
            try await Self.expectReadFailsOver(gw, key: "docs/outage-silent.txt", what: "does not answer") { zone in
                var silent = try S3Backend(zone: zone, endpoint: server.url, bucket: "2025-datatransfer",
                                           region: "us-east-1", accessKey: "k", secretKey: "s", client: client)
                silent.failoverTimeout = .milliseconds(300)
                return silent
            }
            #expect(server.connections >= 1, "the silent zone was never asked")
        }
    }
}
