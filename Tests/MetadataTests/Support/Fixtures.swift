import Foundation
import Testing

@testable import Metadata

/// A fixed clock: whole seconds, so dates survive both databases exactly.
let epoch = Date(timeIntervalSince1970: 1_750_000_000)

func at(_ seconds: Int) -> Date {
    epoch.addingTimeInterval(TimeInterval(seconds))
}

/// Small helpers that build realistic commits.
struct Fixture: Sendable {
    let store: any MetadataStore

    init(_ store: any MetadataStore) {
        self.store = store
    }

    @discardableResult
    func bucket(_ name: String = "photos", versioning: VersioningState = .unversioned, at time: Int = 0) async throws -> Bucket {
        let bucket = Bucket(name: name, createdAt: at(time), owner: "alice", region: "eu-north-1", versioning: versioning)
        try await store.createBucket(bucket)
        return bucket
    }

    func version(
        bucket: String = "photos", key: String, versionId: String? = nil, storageId: String? = nil,
        size: Int64 = 11, etag: String = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", time: Int = 0,
        zones: [String] = ["FI-HEL-ST-1"], requiredCopies: Int? = nil
    ) -> ObjectVersion {
        ObjectVersion(
            storageId: storageId ?? Identifiers.make(), versionId: versionId ?? Identifiers.make(),
            bucket: bucket, key: key, size: size, etag: etag, headers: ObjectHeaders(contentType: "text/plain"),
            createdAt: at(time),
            placement: PlacementInfo(
                policySetHash: "sha256:abc", residencyPolicies: ["fi-only"], replicationPolicy: "two-copies",
                plannedZones: zones, requiredCopies: requiredCopies ?? zones.count, writeQuorum: 1
            )
        )
    }

    /// Commits a version whose first zone is written and the others pending.
    @discardableResult
    func put(
        bucket: String = "photos", key: String, versionId: String? = nil, size: Int64 = 11,
        etag: String = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", time: Int = 0, zones: [String] = ["FI-HEL-ST-1"],
        precondition: WritePrecondition = .none, log: OperationLogEntry? = nil
    ) async throws -> CommitResult {
        let version = self.version(bucket: bucket, key: key, versionId: versionId, size: size, etag: etag, time: time, zones: zones)
        return try await store.commit(VersionCommit(
            version: version,
            replicas: Fixture.replicas(for: version, complete: 1),
            precondition: precondition, log: log
        ))
    }

    @discardableResult
    func deleteMarker(bucket: String = "photos", key: String, versionId: String? = nil, time: Int = 0) async throws -> CommitResult {
        try await store.commit(VersionCommit(version: .deleteMarker(
            storageId: Identifiers.make(), versionId: versionId ?? Identifiers.make(), bucket: bucket, key: key,
            createdAt: at(time)
        )))
    }

    static func backendKey(_ version: ObjectVersion) -> String {
        "\(version.bucket)/\(version.key)/\(version.storageId)"
    }

    /// The first `complete` planned zones written, the rest pending.
    static func replicas(for version: ObjectVersion, complete: Int) -> [CommitReplica] {
        version.placement.plannedZones.enumerated().map { index, zone in
            CommitReplica(
                zone: zone, status: index < complete ? .complete : .pending, backendKey: backendKey(version),
                etag: index < complete ? version.etag : nil
            )
        }
    }
}

/// Expects `body` to throw a ``MetadataError`` with `code`.
func expectError<T>(
    _ code: MetadataError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as MetadataError {
        #expect(error.code == code, "\(error.debugDescription)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected MetadataError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
