import Foundation
import Hummingbird
import Metadata
import S3Protocol

extension S3Handlers {
    func listBuckets() async throws -> Response {
        let buckets = try await store.listBuckets()
        return Self.xml(ListAllMyBucketsResult(
            owner: S3Owner(id: principal.accessKey, displayName: principal.accessKey),
            buckets: buckets.map { .init(name: $0.name, creationDate: $0.createdAt, region: $0.region) }))
    }

    func createBucket(_ name: String) async throws -> Response {
        guard BucketNameValidator.isValid(name) else { throw S3Error.invalidBucketName(name) }
        let body = try await smallBody()
        var region = state.configuration.region
        if body.readableBytes > 0 {
            let config = try CreateBucketConfiguration.decode(body)
            if let constraint = config.locationConstraint, !constraint.isEmpty { region = constraint }
        }
        let objectLock = header("x-amz-bucket-object-lock-enabled")?.lowercased() == "true"
        let bucket = Bucket(name: name, createdAt: Date(), owner: principal.accessKey, region: region,
                            versioning: objectLock ? .enabled : .unversioned, objectLockEnabled: objectLock)
        do {
            try await store.createBucket(bucket)
        } catch let error as MetadataError where error.code == .alreadyExists {
            let existing = try await store.bucket(named: name)
            throw S3Error(existing?.owner == principal.accessKey ? .bucketAlreadyOwnedByYou : .bucketAlreadyExists)
        }
        _ = try? await store.appendLog(log("CreateBucket", bucket: name, key: nil, status: 200))
        return Self.empty(headers: [.location: "/" + name])
    }

    func deleteBucket(_ name: String) async throws -> Response {
        do {
            try await store.deleteBucket(named: name)
        } catch let error as MetadataError where error.code == .notEmpty {
            throw S3Error(.bucketNotEmpty).adding("BucketName", name)
        } catch let error as MetadataError where error.code == .notFound {
            throw S3Error.noSuchBucket(name)
        }
        _ = try? await store.appendLog(log("DeleteBucket", bucket: name, key: nil, status: 204))
        return Self.empty(.noContent)
    }

    func getBucketLocation(_ name: String) async throws -> Response {
        let bucket = try await requireBucket(name)
        return Self.xml(LocationConstraintResult(region: bucket.region == "us-east-1" ? nil : bucket.region))
    }

    func getBucketVersioning(_ name: String) async throws -> Response {
        let bucket = try await requireBucket(name)
        let status: VersioningConfiguration.Status? = switch bucket.versioning {
        case .enabled: .enabled
        case .suspended: .suspended
        case .unversioned: nil
        }
        return Self.xml(VersioningConfiguration(status: status))
    }

    /// Within what the policy allows: the state is the bucket's own, and it matters only for
    /// objects whose replication policy says `versioning: bucket`. Suspending is refused on a
    /// bucket with Object Lock, as S3 does.
    func putBucketVersioning(_ name: String) async throws -> Response {
        let bucket = try await requireBucket(name)
        let config = try VersioningConfiguration.decode(try await smallBody())
        let state: VersioningState
        switch config.status {
        case .enabled?: state = .enabled
        case .suspended?:
            if bucket.objectLockEnabled {
                throw S3Error(.invalidBucketState, message: "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
            }
            state = .suspended
        case nil: throw S3Error(.malformedXML)
        }
        _ = try await store.setVersioning(state, bucket: name)
        _ = try? await store.appendLog(log("PutBucketVersioning", bucket: name, key: nil, status: 200, detail: state.rawValue))
        return Self.empty()
    }

}
