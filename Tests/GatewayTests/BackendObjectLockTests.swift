import AsyncHTTPClient
import HTTPTypes
import HummingbirdTesting
import Foundation
import Metadata
import NIOCore
import NIOHTTP1
import S3Protocol
import Testing

@testable import Gateway

@Suite("Backend Object Lock on moto zones", .enabled(if: Moto.enabled))
struct BackendObjectLockTests {
    /// The Object Lock headers of a backend object (HEAD).
    static func lockHeaders(_ backend: S3Backend, _ key: String) async throws -> (mode: String?, until: String?) {
        let response = try await backend.client.execute(backend.request(.HEAD, key: key), timeout: .seconds(30))
        #expect(response.status.code == 200, "HEAD \(key) on \(backend.zone)")
        return (response.headers.first(name: "x-amz-object-lock-mode"),
                response.headers.first(name: "x-amz-object-lock-retain-until-date"))
    }

    @Test func retentionReachesZonesWithObjectLockOnly() async throws {
        let (plain, _) = try await GatewayOnMotoTests.gateway()
        defer { plain.cleanUp() }
        let urls = try Moto.require(3)
        // ST supports Object Lock in the catalog and its bucket has it; UC's bucket has it but
        // the catalog does not list the capability; HZ has neither.
        let st = try Moto.backend(urls[0], bucket: Moto.uniqueName("phys-lock"), zone: "FI-HEL-ST-1")
        let uc = try Moto.backend(urls[1], bucket: Moto.uniqueName("phys-lock"), zone: "FI-HEL-UC-1")
        let hz = try #require(plain.state.backends["FI-HEL-HZ-1"] as? S3Backend)
        try await st.initialize(objectLock: true)
        try await uc.initialize(objectLock: true)
        #expect(try await st.bucketHasObjectLock())
        #expect(try await hz.bucketHasObjectLock() == false)
        let gw = plain.replacing(["FI-HEL-ST-1": st, "FI-HEL-UC-1": uc])

        // Audit buckets: three copies, compliance retention of seven years (the policy's floor).
        let bucket = Moto.uniqueName("audit")
        let key = "2025/06/events.jsonl"
        try await gw.withClient { client in
            try await gw.createBucket(client, bucket)
            let r = try await gw.put(client, "/\(bucket)/\(key)", Array("{\"event\":1}\n".utf8))
            #expect(r.status == .ok)
        }
        let version = try #require(try await gw.store.latestVersion(bucket: bucket, key: key))
        let retention = try #require(version.retention)
        #expect(retention.mode == .compliance)
        let backendKey = WriteIntent.backendKey(bucket: bucket, key: key, storageId: version.storageId)
        let stLock = try await Self.lockHeaders(st, backendKey)
        #expect(stLock.mode == "COMPLIANCE")
        #expect(stLock.until.flatMap(ISO8601Timestamp.parse).map { abs($0.timeIntervalSince(retention.retainUntil)) < 1 } == true,
                "\(stLock.until ?? "nil") vs \(retention.retainUntil)")
        #expect(try await Self.lockHeaders(uc, backendKey).mode == nil)
        #expect(try await Self.lockHeaders(hz, backendKey).mode == nil)

        // A copy the replication worker makes later carries the lock as well.
        gw.state.setHealth("FI-HEL-ST-1", false)
        let later = "2025/06/later.jsonl"
        try await gw.withClient { client in
            let r = try await gw.put(client, "/\(bucket)/\(later)", Array("{\"event\":2}\n".utf8))
            #expect(r.status == .ok)
        }
        gw.state.setHealth("FI-HEL-ST-1", true)
        let copied = try #require(try await gw.store.latestVersion(bucket: bucket, key: later))
        #expect(try await ReplicationWorker(state: gw.state).runOnce() == 1)
        let copyKey = WriteIntent.backendKey(bucket: bucket, key: later, storageId: copied.storageId)
        #expect(try await Self.lockHeaders(st, copyKey).mode == "COMPLIANCE")
    }
}
