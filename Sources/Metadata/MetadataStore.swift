import Foundation

/// The metadata authority: buckets, object versions, replicas, the sync-job queue, multipart
/// uploads, the provider catalog, loaded policy sets and the operations log.
///
/// Two implementations pass one conformance suite: ``PostgresMetadataStore`` (shared by several
/// gateway instances) and ``SQLiteMetadataStore`` (the embedded single-instance default).
/// Every method throws ``MetadataError``; `.unavailable` means the database cannot be reached.
///
/// Lifecycle: run ``run()`` in a long-running task (it has the shape of a swift-service-lifecycle
/// `Service`), then call ``migrate()`` once before serving.
public protocol MetadataStore: Sendable {
    // MARK: Lifecycle

    /// Runs the store's background work (the PostgreSQL connection pool) until the task is
    /// cancelled, then releases its connections.
    func run() async throws
    /// Creates or upgrades the schema; idempotent, safe to call from several instances at once.
    func migrate() async throws
    /// Cheap round trip for `/health`; throws `.unavailable` when the database is down.
    func ping() async throws

    // MARK: Buckets

    /// Throws `.alreadyExists` when the name is taken.
    func createBucket(_ bucket: Bucket) async throws
    func bucket(named name: String) async throws -> Bucket?
    /// All buckets sorted by name (byte order).
    func listBuckets() async throws -> [Bucket]
    /// Throws `.notEmpty` while any version, delete marker or multipart upload exists,
    /// `.notFound` when there is no such bucket.
    func deleteBucket(named name: String) async throws
    func setVersioning(_ state: VersioningState, bucket name: String) async throws -> Bucket
    func setObjectLock(enabled: Bool, defaultRetention: DefaultRetention?, bucket name: String) async throws -> Bucket

    // MARK: Write intents

    /// Recorded before data is streamed; removed by the commit of the same storage id.
    func recordIntent(_ intent: WriteIntent) async throws
    /// Removes an intent after the gateway deleted the partial copies (no error if absent).
    func abandonIntent(storageId: String) async throws
    /// Intents older than `date` whose cleanup is not finished, oldest first: crashed or
    /// abandoned writes to clean up.
    func staleIntents(olderThan date: Date, limit: Int) async throws -> [WriteIntent]
    /// Claims an uncommitted intent for cleanup; from then on a commit of the same storage id
    /// throws `.conflict` (``MetadataError/isReclaimedWrite``). Returns nil when the intent is
    /// gone (committed or abandoned): its data must then be left alone. Idempotent.
    func reclaimIntent(storageId: String, now: Date) async throws -> WriteIntent?
    /// Records that a reclaimed intent's backend objects are deleted; the intent stays as a
    /// tombstone (not returned by ``staleIntents(olderThan:limit:)``) until purged.
    func finishReclaim(storageId: String, now: Date) async throws
    /// Drops tombstones of reclaimed intents cleaned before `date`; returns how many.
    func purgeReclaimedIntents(cleanedBefore date: Date) async throws -> Int

    // MARK: Object versions

    /// One transaction: the version, its replica rows, `replicate` jobs for the copies still to
    /// make, the log row, removal of the write intent; for a "null" version also the removal of
    /// the previous "null" version of the key, whose replicas become `delete` jobs.
    /// Throws `.notFound` (no bucket), `.preconditionFailed`, `.alreadyExists` (storage id reused).
    func commit(_ commit: VersionCommit) async throws -> CommitResult
    /// The key's newest version, which may be a delete marker.
    func latestVersion(bucket: String, key: String) async throws -> ObjectVersion?
    func version(bucket: String, key: String, versionId: String) async throws -> ObjectVersion?
    func version(storageId: String) async throws -> ObjectVersion?
    /// The key's newest version (`versionId` nil) or the given one, with its replicas in zone
    /// order, read in one statement (one round trip to PostgreSQL, one snapshot).
    func versionWithReplicas(bucket: String, key: String, versionId: String?) async throws -> VersionWithReplicas?
    /// Keys whose latest version is not a delete marker, in UTF-8 byte order.
    func listObjects(_ request: ListObjectsRequest) async throws -> ObjectListing
    func listVersions(_ request: ListVersionsRequest) async throws -> VersionListing
    /// Permanently removes one version; its replicas become `delete` jobs in the same
    /// transaction. Throws `.notFound`, `.objectLocked`.
    func deleteVersion(_ request: DeleteVersionRequest) async throws -> DeletedVersion
    func updateTags(bucket: String, key: String, versionId: String, tags: [ObjectTag]) async throws -> ObjectVersion
    /// Object Lock rules: a COMPLIANCE retention can only be extended; an active GOVERNANCE one
    /// can be shortened or removed only with `bypassGovernance`. Throws `.objectLocked`.
    func updateRetention(
        bucket: String, key: String, versionId: String, retention: ObjectRetention?,
        bypassGovernance: Bool, now: Date
    ) async throws -> ObjectVersion
    func updateLegalHold(bucket: String, key: String, versionId: String, legalHold: Bool) async throws -> ObjectVersion

    // MARK: Replicas

    /// Replicas of a version in zone order.
    func replicas(storageId: String) async throws -> [Replica]
    /// Replicas of several versions (at most 1,000), by storage id, each in zone order.
    func replicas(storageIds: [String]) async throws -> [String: [Replica]]
    /// Inserts or replaces the replica of (`storageId`, `zone`).
    func upsertReplica(_ replica: Replica) async throws
    /// Versions (not delete markers) with fewer complete replicas than `requiredCopies`, by
    /// sequence; page with `afterSequence` = the last sequence of the previous page.
    func underReplicated(afterSequence: Int64?, limit: Int) async throws -> [ReplicationStatus]
    /// Repair of an under-replicated version: in one transaction (serialised per key), takes
    /// the first zones of `zones` (preference order) that hold no complete replica and have no
    /// open `replicate` job, as many as `copies` still needs after complete replicas and open
    /// jobs, marks their replicas `pending` and queues a `replicate` job for each. Returns the
    /// queued jobs (none when the version is gone, complete, or already being repaired).
    /// With `counting`, only complete replicas in those zones count towards `copies` (a copy
    /// the policies in force no longer allow does not stand for one that they do).
    func requeueReplicas(storageId: String, zones: [String], copies: Int, counting: Set<String>?,
                         now: Date) async throws -> [SyncJob]
    /// Takes the copy of `storageId` in `zone` out of service, in one transaction under the
    /// key's lock: when at least `copies` (and at least one) other replicas are complete in
    /// `keeping`, Object Lock does not protect the version and no `replicate` job to the zone
    /// is open, the replica becomes `deleting` with `reason` as its error, a `delete` job is
    /// queued for its object and `log` is appended. What moves a copy out of a zone the
    /// policies in force no longer allow.
    func retireReplica(storageId: String, zone: String, keeping: Set<String>, copies: Int, reason: String,
                       log: OperationLogEntry?, now: Date) async throws -> ReplicaRetirement
    /// Complete replicas in (storage id, zone) order, after `after`: what verification walks.
    func completeReplicas(after: ReplicaCursor?, limit: Int) async throws -> [Replica]
    /// A complete replica whose copy was found missing or wrong in its zone becomes `pending`
    /// with `reason` as its error, under the key's lock, and the version's complete copies are
    /// counted again (so the reconciler queues the copy anew). False when the replica was no
    /// longer complete (deleted, or changed meanwhile): nothing is changed.
    func markReplicaLost(storageId: String, zone: String, reason: String, now: Date) async throws -> Bool

    // MARK: Runs of background work shared by the instances

    /// Claims the run of `name` for `holder` until `now + lease`: only when no other holder's
    /// lease is still running and the last run ended at least `interval` ago (or never ran).
    /// True when `holder` now runs it.
    func claimServiceRun(name: String, holder: String, now: Date, lease: TimeInterval, interval: TimeInterval) async throws -> Bool
    /// Extends `holder`'s lease of `name` to `now + lease`; false when `holder` no longer holds it.
    func renewServiceRun(name: String, holder: String, now: Date, lease: TimeInterval) async throws -> Bool
    /// Ends `holder`'s run of `name` at `now` (the next is due `interval` later); nothing when
    /// `holder` does not hold it.
    func finishServiceRun(name: String, holder: String, now: Date) async throws

    // MARK: Sync jobs

    func enqueueJobs(_ jobs: [NewSyncJob], now: Date) async throws -> [SyncJob]
    func job(id: Int64) async throws -> SyncJob?
    /// Claims up to `limit` jobs that are queued and due, or running with an expired lease;
    /// never hands one job to two concurrent claimers. Jobs for `skippingZones` (zones known to
    /// be down) are left in the queue for a worker that can reach them.
    func claimJobs(worker: String, limit: Int, now: Date, leaseSeconds: Int, skippingZones: Set<String>) async throws -> [SyncJob]
    /// Marks a job done; a `replicate` job marks its replica complete (with the copy's backend
    /// ETag), a `delete` job removes its replica row.
    func completeJob(id: Int64, etag: String?, now: Date) async throws
    /// Records a failed attempt (attempts + 1): re-queued for `retryAt`, or `failed` for good
    /// when `retryAt` is nil (a `replicate` job's replica then becomes `failed`).
    func failJob(id: Int64, error: String, retryAt: Date?, now: Date) async throws -> SyncJob
    /// Puts a running job back in the queue until `until` without counting an attempt, as for
    /// a provider that asked to slow down: nothing failed, the job only has to wait. Its (and a
    /// `replicate` job's replica's) `lastError` says why. A job that `worker` is not running
    /// is `notFound`, as is one that another worker claimed since (its lease ran out).
    func deferJob(id: Int64, worker: String, reason: String, until: Date, now: Date) async throws -> SyncJob
    /// Unfinished jobs past their deadline, earliest deadline first.
    func lateJobs(now: Date, limit: Int) async throws -> [SyncJob]
    func jobCounts(now: Date) async throws -> SyncJobCounts

    // MARK: Multipart uploads

    /// Throws `.notFound` (no bucket), `.alreadyExists` (upload id or storage id reused).
    func createUpload(_ upload: MultipartUpload) async throws
    func upload(id: String) async throws -> MultipartUpload?
    func listUploads(_ request: ListUploadsRequest) async throws -> UploadListing
    /// Stores a part, replacing (and returning) a previous part with the same number.
    func putPart(_ part: MultipartPart) async throws -> MultipartPart?
    func listParts(uploadId: String, partNumberMarker: Int?, maxParts: Int) async throws -> PartListing
    /// Removes the upload and its parts and commits the resulting version, in one transaction.
    func completeUpload(id: String, commit: VersionCommit) async throws -> CommitResult
    /// Removes the upload and its parts and returns them.
    func abortUpload(id: String) async throws -> AbortedUpload
    /// Uploads of every bucket initiated before `date`, oldest first: abandoned uploads to expire.
    func uploads(initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload]

    // MARK: Provider catalog and policy sets

    /// Replaces the whole catalog snapshot.
    func replaceProviders(_ providers: [ProviderRecord]) async throws
    /// The catalog by zone code.
    func listProviders() async throws -> [ProviderRecord]
    /// Records a compiled policy set; returns false when that hash was already recorded.
    func recordPolicySet(_ record: PolicySetRecord) async throws -> Bool
    /// Recorded policy sets, most recently loaded first.
    func listPolicySets() async throws -> [PolicySetRecord]

    // MARK: Operations log

    /// Appends an entry and returns its id.
    func appendLog(_ entry: OperationLogEntry) async throws -> Int64
    /// Seals up to `limit` entries of the operations log that are not sealed yet and whose
    /// transaction has ended, in id order, in one transaction that one caller at a time runs:
    /// each gets the next sequence number and `seal(previous hash, entry)` as its hash (nil
    /// before the first). Returns how many were sealed and the chain's head.
    func sealLog(limit: Int, seal: @escaping @Sendable (String?, OperationLogEntry) -> String) async throws -> LogSealBatch
    /// Sealed entries in sequence order, after `afterSequence`: what a verification walks.
    func sealedLog(afterSequence: Int64, limit: Int) async throws -> [(entry: OperationLogEntry, seal: LogSeal)]
    /// Entries not sealed yet.
    func unsealedLog() async throws -> UnsealedLog
    /// The last entry sealed (nil before the first seal).
    func logSealHead() async throws -> LogSeal?
    /// Entries newest first, filtered and paged by ``OperationLogQuery``.
    func queryLog(_ query: OperationLogQuery) async throws -> [OperationLogEntry]
}

extension MetadataStore {
    /// Repair counting every complete replica.
    public func requeueReplicas(storageId: String, zones: [String], copies: Int, now: Date) async throws -> [SyncJob] {
        try await requeueReplicas(storageId: storageId, zones: zones, copies: copies, counting: nil, now: now)
    }

    /// Claims due jobs of every zone.
    public func claimJobs(worker: String, limit: Int, now: Date, leaseSeconds: Int) async throws -> [SyncJob] {
        try await claimJobs(worker: worker, limit: limit, now: now, leaseSeconds: leaseSeconds, skippingZones: [])
    }
}
