import Foundation
import HTTPTypes
import Hummingbird
import Metadata
import PolicyEngine
import S3Protocol

/// S3 Object Lock: bucket configuration (default retention), per-version retention and legal
/// hold. The data-sovereignty policy's `immutability` is a floor: nothing here can lower a
/// version's protection below what the policy that planned it requires.
extension S3Handlers {
    // MARK: Retention arithmetic

    /// The retention and legal hold asked for by `x-amz-object-lock-*` headers (PutObject,
    /// CopyObject, CreateMultipartUpload). Refused on a bucket without Object Lock, as S3 does.
    func requestedObjectLock(_ bucket: Bucket) throws -> (retention: Metadata.ObjectRetention?, legalHold: Bool) {
        let modeText = header("x-amz-object-lock-mode")
        let dateText = header("x-amz-object-lock-retain-until-date")
        let holdText = header("x-amz-object-lock-legal-hold")
        if modeText == nil && dateText == nil && holdText == nil { return (nil, false) }
        guard bucket.objectLockEnabled else {
            throw S3Error(.invalidRequest, message: "Bucket is missing Object Lock Configuration")
        }
        var retention: Metadata.ObjectRetention?
        switch (modeText, dateText) {
        case (nil, nil): break
        case (let mode?, let date?):
            guard let m = Metadata.RetentionMode(rawValue: mode.uppercased()) else {
                throw S3Error.invalidArgument("Unknown wormMode directive.", name: "x-amz-object-lock-mode", value: mode)
            }
            guard let until = ISO8601Timestamp.parse(date) else {
                throw S3Error.invalidArgument("The retain until date must be provided in ISO 8601 format",
                                              name: "x-amz-object-lock-retain-until-date", value: date)
            }
            guard until > Date() else {
                throw S3Error.invalidArgument("The retain until date must be in the future!",
                                              name: "x-amz-object-lock-retain-until-date", value: date)
            }
            retention = Metadata.ObjectRetention(mode: m, retainUntil: until)
        default:
            throw S3Error(.invalidArgument, message: "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
        }
        var hold = false
        if let holdText {
            switch holdText.uppercased() {
            case "ON": hold = true
            case "OFF": hold = false
            default:
                throw S3Error.invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", name: "x-amz-object-lock-legal-hold", value: holdText)
            }
        }
        return (retention, hold)
    }

    /// The bucket's default retention applied to a version created at `now`.
    static func defaultRetention(_ bucket: Bucket, now: Date) -> Metadata.ObjectRetention? {
        guard bucket.objectLockEnabled, let rule = bucket.defaultRetention else { return nil }
        let until: Date
        switch rule.period {
        case .days(let days):
            until = now.addingTimeInterval(TimeInterval(days) * 86_400)
        case .years(let years):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            until = calendar.date(byAdding: .year, value: years, to: now) ?? now.addingTimeInterval(TimeInterval(years) * 365 * 86_400)
        }
        return Metadata.ObjectRetention(mode: rule.mode, retainUntil: until)
    }

    /// The retention the policy's `immutability` requires of a version created at `createdAt`.
    static func policyFloor(_ plan: PlacementPlan, createdAt: Date) -> Metadata.ObjectRetention? {
        guard plan.allowed, let im = plan.immutability else { return nil }
        return Metadata.ObjectRetention(mode: im.mode == .compliance ? .compliance : .governance,
                                        retainUntil: createdAt.addingTimeInterval(TimeInterval(im.retentionSeconds)))
    }

    /// The latest retain-until date of the candidates; COMPLIANCE when any candidate is
    /// COMPLIANCE (a stricter mode is never weakened by a longer GOVERNANCE retention).
    static func strongestRetention(_ candidates: [Metadata.ObjectRetention?]) -> Metadata.ObjectRetention? {
        let present = candidates.compactMap { $0 }
        guard let latest = present.max(by: { $0.retainUntil < $1.retainUntil }) else { return nil }
        let compliance = present.contains { $0.mode == .compliance }
        return Metadata.ObjectRetention(mode: compliance ? .compliance : latest.mode, retainUntil: latest.retainUntil)
    }

    /// The policy floor of an existing version: the plan of its bucket, key and tags.
    func policyFloor(of version: ObjectVersion) -> (retention: Metadata.ObjectRetention, policy: String)? {
        let plan = policies.plan(for: ObjectRef(bucket: version.bucket, key: version.key,
                                                      tags: version.tags.map { .init(key: $0.key, value: $0.value) }))
        guard let floor = Self.policyFloor(plan, createdAt: version.createdAt) else { return nil }
        return (floor, plan.replicationPolicy?.metadata.name ?? "none")
    }

    // MARK: Bucket configuration

    func getObjectLockConfiguration(_ name: String) async throws -> Response {
        let bucket = try await requireBucket(name)
        guard bucket.objectLockEnabled else {
            throw S3Error(.objectLockConfigurationNotFoundError).adding("BucketName", name)
        }
        let rule = bucket.defaultRetention.map { r in
            ObjectLockConfiguration.DefaultRetention(
                mode: r.mode == .compliance ? .compliance : .governance,
                period: { switch r.period { case .days(let d): .days(d); case .years(let y): .years(y) } }())
        }
        return Self.xml(ObjectLockConfiguration(objectLockEnabled: true, defaultRetention: rule))
    }

    func putObjectLockConfiguration(_ name: String) async throws -> Response {
        let bucket = try await requireBucket(name)
        let config = try ObjectLockConfiguration.decode(try await smallBody())
        guard bucket.objectLockEnabled else {
            throw S3Error(.invalidBucketState, message: "Object Lock configuration cannot be enabled on existing buckets")
        }
        guard config.objectLockEnabled else { throw S3Error.malformedXML }
        let rule = config.defaultRetention.map { r in
            DefaultRetention(mode: r.mode == .compliance ? .compliance : .governance,
                             period: { switch r.period { case .days(let d): .days(d); case .years(let y): .years(y) } }())
        }
        _ = try await store.setObjectLock(enabled: true, defaultRetention: rule, bucket: name)
        _ = try? await store.appendLog(log("PutObjectLockConfiguration", bucket: name, key: nil, status: 200,
                                           detail: rule.map { "\($0.mode.rawValue) \($0.period)" } ?? "no default retention"))
        return Self.empty()
    }

    // MARK: Retention

    func getObjectRetention(_ bucket: String, _ key: String) async throws -> Response {
        let v = try await resolveVersion(bucket, key)
        guard let r = v.retention else {
            throw S3Error(.noSuchObjectLockConfiguration, message: "The specified object does not have a ObjectLock configuration")
        }
        var response = Self.xml(S3Protocol.ObjectRetention(mode: r.mode == .compliance ? .compliance : .governance,
                                                           retainUntilDate: r.retainUntil))
        if v.versionId != nullVersionID { response.headers[.amzVersionID] = v.versionId }
        return response
    }

    func putObjectRetention(_ bucketName: String, _ key: String) async throws -> Response {
        let bucket = try await requireBucket(bucketName)
        let v = try await resolveVersion(bucketName, key)
        let body = try S3Protocol.ObjectRetention.decode(try await smallBody())
        let floor = policyFloor(of: v)
        guard bucket.objectLockEnabled || v.retention != nil || floor != nil else {
            throw S3Error(.invalidRequest, message: "Bucket is missing Object Lock Configuration")
        }
        let now = Date()
        var retention: Metadata.ObjectRetention?
        if let mode = body.mode, let until = body.retainUntilDate {
            guard until > now else {
                throw S3Error(.invalidArgument, message: "The retain until date must be in the future!")
            }
            retention = Metadata.ObjectRetention(mode: mode == .compliance ? .compliance : .governance, retainUntil: until)
        }
        // The policy is a floor: no request, not even an administrator's, goes below it.
        if let (f, policy) = floor, f.isActive(at: now) {
            let weaker = retention.map { $0.retainUntil < f.retainUntil || (f.mode == .compliance && $0.mode != .compliance) } ?? true
            if weaker {
                state.metrics.recordRefusal(operation: "PutObjectRetention")
                throw S3Error(.accessDenied, message: "Refused by data-sovereignty policy (\(policy)): it requires \(f.mode.rawValue) retention until \(ISO8601Timestamp.format(f.retainUntil)).")
            }
        }
        let bypass = header("x-amz-bypass-governance-retention")?.lowercased() == "true"
        if bypass && !principal.isAdmin {
            throw S3Error(.accessDenied, message: "Only an administrator may bypass governance retention.")
        }
        do {
            _ = try await store.updateRetention(bucket: bucketName, key: key, versionId: v.versionId, retention: retention,
                                                bypassGovernance: bypass, now: now)
        } catch let error as MetadataError where error.code == .objectLocked {
            throw S3Error(.accessDenied, message: "Access Denied because object protected by object lock.")
        }
        _ = try? await store.appendLog(log("PutObjectRetention", bucket: bucketName, key: key, versionId: v.versionId, status: 200,
                                           detail: retention.map { "\($0.mode.rawValue) until \(ISO8601Timestamp.format($0.retainUntil))" } ?? "removed"))
        var headers = HTTPFields()
        if v.versionId != nullVersionID { headers[.amzVersionID] = v.versionId }
        return Self.empty(headers: headers)
    }

    // MARK: Legal hold

    func getObjectLegalHold(_ bucket: String, _ key: String) async throws -> Response {
        let v = try await resolveVersion(bucket, key)
        var response = Self.xml(ObjectLegalHold(status: v.legalHold ? .on : .off))
        if v.versionId != nullVersionID { response.headers[.amzVersionID] = v.versionId }
        return response
    }

    func putObjectLegalHold(_ bucketName: String, _ key: String) async throws -> Response {
        let bucket = try await requireBucket(bucketName)
        guard bucket.objectLockEnabled else {
            throw S3Error(.invalidRequest, message: "Bucket is missing Object Lock Configuration")
        }
        let v = try await resolveVersion(bucketName, key)
        let hold = try ObjectLegalHold.decode(try await smallBody())
        _ = try await store.updateLegalHold(bucket: bucketName, key: key, versionId: v.versionId, legalHold: hold.status == .on)
        _ = try? await store.appendLog(log("PutObjectLegalHold", bucket: bucketName, key: key, versionId: v.versionId, status: 200,
                                           detail: hold.status.rawValue))
        var headers = HTTPFields()
        if v.versionId != nullVersionID { headers[.amzVersionID] = v.versionId }
        return Self.empty(headers: headers)
    }
}
