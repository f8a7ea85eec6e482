import Foundation

/// What the SQLite and the PostgreSQL stores have in common: every operation of
/// ``MetadataStore`` but the lifecycle, forwarded to the shared core (``SQLMetadataCore``) over
/// the store's engine. The two stores subclass it and add their lifecycle (opening, running,
/// closing, pinging), each in its own way.
public class SQLMetadataStore: @unchecked Sendable {
    // @unchecked: its one stored property is a constant of a Sendable type; the class is not
    // final only so that the two stores can share these methods.
    let core: SQLMetadataCore

    init(core: SQLMetadataCore) {
        self.core = core
    }

    public func createBucket(_ bucket: Bucket) async throws { try await core.createBucket(bucket) }
    public func bucket(named name: String) async throws -> Bucket? { try await core.bucket(named: name) }
    public func listBuckets() async throws -> [Bucket] { try await core.listBuckets() }
    public func deleteBucket(named name: String) async throws { try await core.deleteBucket(named: name) }
    public func setVersioning(_ state: VersioningState, bucket name: String) async throws -> Bucket {
        try await core.setVersioning(state, bucket: name)
    }
    public func setObjectLock(enabled: Bool, defaultRetention: DefaultRetention?, bucket name: String) async throws -> Bucket {
        try await core.setObjectLock(enabled: enabled, defaultRetention: defaultRetention, bucket: name)
    }

    public func recordIntent(_ intent: WriteIntent) async throws { try await core.recordIntent(intent) }
    public func abandonIntent(storageId: String) async throws { try await core.abandonIntent(storageId: storageId) }
    public func staleIntents(olderThan date: Date, limit: Int) async throws -> [WriteIntent] {
        try await core.staleIntents(olderThan: date, limit: limit)
    }
    public func reclaimIntent(storageId: String, now: Date) async throws -> WriteIntent? {
        try await core.reclaimIntent(storageId: storageId, now: now)
    }
    public func finishReclaim(storageId: String, now: Date) async throws { try await core.finishReclaim(storageId: storageId, now: now) }
    public func purgeReclaimedIntents(cleanedBefore date: Date) async throws -> Int {
        try await core.purgeReclaimedIntents(cleanedBefore: date)
    }

    public func commit(_ commit: VersionCommit) async throws -> CommitResult { try await core.commit(commit) }
    public func latestVersion(bucket: String, key: String) async throws -> ObjectVersion? {
        try await core.latestVersion(bucket: bucket, key: key)
    }
    public func version(bucket: String, key: String, versionId: String) async throws -> ObjectVersion? {
        try await core.version(bucket: bucket, key: key, versionId: versionId)
    }
    public func version(storageId: String) async throws -> ObjectVersion? { try await core.version(storageId: storageId) }
    public func listObjects(_ request: ListObjectsRequest) async throws -> ObjectListing { try await core.listObjects(request) }
    public func listVersions(_ request: ListVersionsRequest) async throws -> VersionListing { try await core.listVersions(request) }
    public func deleteVersion(_ request: DeleteVersionRequest) async throws -> DeletedVersion { try await core.deleteVersion(request) }
    public func updateTags(bucket: String, key: String, versionId: String, tags: [ObjectTag]) async throws -> ObjectVersion {
        try await core.updateTags(bucket: bucket, key: key, versionId: versionId, tags: tags)
    }
    public func updateRetention(
        bucket: String, key: String, versionId: String, retention: ObjectRetention?, bypassGovernance: Bool, now: Date
    ) async throws -> ObjectVersion {
        try await core.updateRetention(
            bucket: bucket, key: key, versionId: versionId, retention: retention, bypassGovernance: bypassGovernance, now: now
        )
    }
    public func updateLegalHold(bucket: String, key: String, versionId: String, legalHold: Bool) async throws -> ObjectVersion {
        try await core.updateLegalHold(bucket: bucket, key: key, versionId: versionId, legalHold: legalHold)
    }

    public func replicas(storageId: String) async throws -> [Replica] { try await core.replicas(storageId: storageId) }
    public func replicas(storageIds: [String]) async throws -> [String: [Replica]] {
        try await core.replicas(storageIds: storageIds)
    }
    public func versionWithReplicas(bucket: String, key: String, versionId: String?) async throws -> VersionWithReplicas? {
        try await core.versionWithReplicas(bucket: bucket, key: key, versionId: versionId)
    }
    public func upsertReplica(_ replica: Replica) async throws { try await core.upsertReplica(replica) }
    public func claimServiceRun(name: String, holder: String, now: Date, lease: TimeInterval,
                                interval: TimeInterval) async throws -> Bool {
        try await core.claimServiceRun(name: name, holder: holder, now: now, lease: lease, interval: interval)
    }
    public func renewServiceRun(name: String, holder: String, now: Date, lease: TimeInterval) async throws -> Bool {
        try await core.renewServiceRun(name: name, holder: holder, now: now, lease: lease)
    }
    public func finishServiceRun(name: String, holder: String, now: Date) async throws {
        try await core.finishServiceRun(name: name, holder: holder, now: now)
    }
    public func completeReplicas(after: ReplicaCursor?, limit: Int) async throws -> [Replica] {
        try await core.completeReplicas(after: after, limit: limit)
    }
    public func retireReplica(storageId: String, zone: String, keeping: Set<String>, copies: Int, reason: String,
                              log: OperationLogEntry?, now: Date) async throws -> ReplicaRetirement {
        try await core.retireReplica(storageId: storageId, zone: zone, keeping: keeping, copies: copies, reason: reason,
                                     log: log, now: now)
    }
    public func sealLog(limit: Int, seal: @escaping @Sendable (String?, OperationLogEntry) -> String) async throws -> LogSealBatch {
        try await core.sealLog(limit: limit, seal: seal)
    }
    public func sealedLog(afterSequence: Int64, limit: Int) async throws -> [(entry: OperationLogEntry, seal: LogSeal)] {
        try await core.sealedLog(afterSequence: afterSequence, limit: limit)
    }
    public func unsealedLog() async throws -> UnsealedLog { try await core.unsealedLog() }
    public func logSealHead() async throws -> LogSeal? { try await core.logSealHead() }
    public func markReplicaLost(storageId: String, zone: String, reason: String, now: Date) async throws -> Bool {
        try await core.markReplicaLost(storageId: storageId, zone: zone, reason: reason, now: now)
    }
    public func underReplicated(afterSequence: Int64?, limit: Int) async throws -> [ReplicationStatus] {
        try await core.underReplicated(afterSequence: afterSequence, limit: limit)
    }
    public func requeueReplicas(storageId: String, zones: [String], copies: Int, counting: Set<String>?,
                                now: Date) async throws -> [SyncJob] {
        try await core.requeueReplicas(storageId: storageId, zones: zones, copies: copies, counting: counting, now: now)
    }

    public func enqueueJobs(_ jobs: [NewSyncJob], now: Date) async throws -> [SyncJob] { try await core.enqueueJobs(jobs, now: now) }
    public func job(id: Int64) async throws -> SyncJob? { try await core.job(id: id) }
    public func claimJobs(worker: String, limit: Int, now: Date, leaseSeconds: Int,
                          skippingZones: Set<String>) async throws -> [SyncJob] {
        try await core.claimJobs(worker: worker, limit: limit, now: now, leaseSeconds: leaseSeconds, skippingZones: skippingZones)
    }
    public func completeJob(id: Int64, etag: String?, now: Date) async throws { try await core.completeJob(id: id, etag: etag, now: now) }
    public func failJob(id: Int64, error: String, retryAt: Date?, now: Date) async throws -> SyncJob {
        try await core.failJob(id: id, error: error, retryAt: retryAt, now: now)
    }
    public func deferJob(id: Int64, worker: String, reason: String, until: Date, now: Date) async throws -> SyncJob {
        try await core.deferJob(id: id, worker: worker, reason: reason, until: until, now: now)
    }
    public func lateJobs(now: Date, limit: Int) async throws -> [SyncJob] { try await core.lateJobs(now: now, limit: limit) }
    public func jobCounts(now: Date) async throws -> SyncJobCounts { try await core.jobCounts(now: now) }

    public func createUpload(_ upload: MultipartUpload) async throws { try await core.createUpload(upload) }
    public func upload(id: String) async throws -> MultipartUpload? { try await core.upload(id: id) }
    public func listUploads(_ request: ListUploadsRequest) async throws -> UploadListing { try await core.listUploads(request) }
    public func putPart(_ part: MultipartPart) async throws -> MultipartPart? { try await core.putPart(part) }
    public func listParts(uploadId: String, partNumberMarker: Int?, maxParts: Int) async throws -> PartListing {
        try await core.listParts(uploadId: uploadId, partNumberMarker: partNumberMarker, maxParts: maxParts)
    }
    public func completeUpload(id: String, commit: VersionCommit) async throws -> CommitResult {
        try await core.completeUpload(id: id, commit: commit)
    }
    public func abortUpload(id: String) async throws -> AbortedUpload { try await core.abortUpload(id: id) }
    public func uploads(initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload] {
        try await core.uploads(initiatedBefore: date, limit: limit)
    }

    public func replaceProviders(_ providers: [ProviderRecord]) async throws { try await core.replaceProviders(providers) }
    public func listProviders() async throws -> [ProviderRecord] { try await core.listProviders() }
    public func recordPolicySet(_ record: PolicySetRecord) async throws -> Bool { try await core.recordPolicySet(record) }
    public func listPolicySets() async throws -> [PolicySetRecord] { try await core.listPolicySets() }

    public func appendLog(_ entry: OperationLogEntry) async throws -> Int64 { try await core.appendLog(entry) }
    public func queryLog(_ query: OperationLogQuery) async throws -> [OperationLogEntry] { try await core.queryLog(query) }
}
