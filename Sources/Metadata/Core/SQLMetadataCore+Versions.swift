import Foundation

extension SQLMetadataCore {
    // MARK: Intents

    func recordIntent(_ intent: WriteIntent) async throws {
        let sql: SQL = """
            INSERT INTO write_intents (\(sql: Rows.intentColumns)) VALUES (
                \(intent.storageId), \(intent.bucket), \(intent.key), \(JSONColumn.encode(intent.zones)),
                \(intent.backendKey), \(intent.createdAt))
            """
        try await mapping(unique: MetadataError(.alreadyExists, "storage id \(intent.storageId) already has an intent")) {
            _ = try await engine.autocommit(sql)
        }
    }

    func abandonIntent(storageId: String) async throws {
        _ = try await engine.autocommit("DELETE FROM write_intents WHERE storage_id = \(storageId)")
    }

    func staleIntents(olderThan date: Date, limit: Int) async throws -> [WriteIntent] {
        let limit = try Self.checkLimit(limit, "limit")
        return try await engine.read { db in
            try await db.query("""
                SELECT \(sql: Rows.intentColumns) FROM write_intents WHERE created_at < \(date) AND cleaned_at IS NULL
                ORDER BY created_at, storage_id LIMIT \(limit)
                """).map(Rows.intent)
        }
    }

    func reclaimIntent(storageId: String, now: Date) async throws -> WriteIntent? {
        try await engine.transaction { db in
            try await db.first("""
                UPDATE write_intents SET reclaimed_at = COALESCE(reclaimed_at, \(now))
                WHERE storage_id = \(storageId) RETURNING \(sql: Rows.intentColumns)
                """).map(Rows.intent)
        }
    }

    func finishReclaim(storageId: String, now: Date) async throws {
        try await engine.transaction { db in
            try await db.execute("""
                UPDATE write_intents SET cleaned_at = \(now)
                WHERE storage_id = \(storageId) AND reclaimed_at IS NOT NULL AND cleaned_at IS NULL
                """)
        }
    }

    func purgeReclaimedIntents(cleanedBefore date: Date) async throws -> Int {
        try await engine.transaction { db in
            try await db.query("""
                DELETE FROM write_intents WHERE cleaned_at IS NOT NULL AND cleaned_at < \(date) RETURNING storage_id
                """).count
        }
    }

    // MARK: Commit

    func commit(_ commit: VersionCommit) async throws -> CommitResult {
        try Self.validate(commit.version)
        return try await mapping(
            unique: MetadataError(.alreadyExists, "storage id \(commit.version.storageId) is already used"),
            foreignKey: MetadataError.notFound("bucket \(commit.version.bucket) does not exist")
        ) {
            if let result = try await commitInOneStatement(commit) { return result }
            return try await engine.transaction { db in
                try await Self.commit(commit, in: db)
            }
        }
    }

    /// The common commit on PostgreSQL in one statement, outside an explicit transaction: one
    /// round trip to the server instead of four (BEGIN, the two statements of
    /// ``commitInTwoStatements(_:in:)``, COMMIT). It applies to an unconditional write of a
    /// version that is not the "null" one and has every copy written (nothing follows it: no
    /// job to queue, no version to retire); nil means "use the transaction".
    ///
    /// The statement takes the key's lock before it changes anything, as the transaction does,
    /// so no writer holding the lock sees it change the key halfway. Its snapshot is older than
    /// the lock, though: a version committed by another writer in between is not seen, is not
    /// demoted, and the new row then meets it in the unique index of latest versions. That
    /// failure rolls the statement back and returns nil, and the transaction (whose second
    /// statement starts after the lock) does the commit. A reclaimed intent (the reconciler is
    /// deleting the write's data) leaves everything as it was, the intent included.
    func commitInOneStatement(_ commit: VersionCommit) async throws -> CommitResult? {
        let request = commit.version
        let replicas = request.isDeleteMarker ? [] : commit.replicas
        guard engine.dialect == .postgres, commit.precondition == WritePrecondition.none,
              request.versionId != nullVersionID,
              replicas.allSatisfy({ $0.status == .complete }) else { return nil }
        let now = request.createdAt
        let lockName = request.bucket + "/" + request.key
        var parts: [SQL] = [
            "locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended(\(lockName), 0)))",
            "intent AS (SELECT reclaimed_at FROM write_intents WHERE storage_id = \(request.storageId))",
            // A reclaim that commits after the snapshot changes the row under the DELETE, which
            // then skips it: fewer removed than seen, and nothing is written.
            """
            removed AS (
                DELETE FROM write_intents
                WHERE storage_id = \(request.storageId) AND reclaimed_at IS NULL AND (SELECT count(*) FROM locked) = 1
                RETURNING storage_id)
            """,
            """
            ok AS (SELECT NOT EXISTS (SELECT 1 FROM intent WHERE reclaimed_at IS NOT NULL)
                   AND (SELECT count(*) FROM removed) = (SELECT count(*) FROM intent) AS go)
            """,
            """
            demoted AS (
                UPDATE object_versions SET is_latest = FALSE
                WHERE bucket = \(request.bucket) AND key = \(request.key) AND is_latest AND (SELECT go FROM ok)
                RETURNING seq)
            """,
            """
            inserted AS (
                INSERT INTO object_versions (\(sql: Self.versionInsertColumns))
                SELECT \(sql: Self.versionInsertValues(request, completeCopies: replicas.count))
                WHERE (SELECT go FROM ok) AND (SELECT count(*) FROM demoted) >= 0
                RETURNING \(sql: Rows.versionColumns))
            """,
        ]
        if !replicas.isEmpty {
            parts.append("""
                replicas AS (
                    INSERT INTO object_replicas (\(sql: Rows.replicaColumns))
                    SELECT * FROM (VALUES \(sql: Self.replicaRows(replicas, of: request.storageId, size: request.size, now: now))) AS r
                    WHERE (SELECT go FROM ok))
                """)
        }
        var logId: SQL = "NULL::bigint"
        if let entry = commit.log {
            parts.append("logged AS (\(sql: Self.logInsert(entry, when: "(SELECT go FROM ok)")))")
            logId = "(SELECT id FROM logged)"
        }
        let rows: [SQLRow]
        do {
            rows = try await engine.autocommit("""
                WITH \(sql: SQL.joined(parts, separator: ",\n"))
                SELECT (SELECT go FROM ok) AS go, \(sql: logId) AS log_id, inserted.*
                FROM (SELECT 1) AS one LEFT JOIN inserted ON TRUE
                """)
        } catch let error as MetadataError where error.violation == .unique {
            // Another version of the key (or this storage id) came first: the transaction
            // decides, with a snapshot taken after the lock.
            return nil
        }
        guard let row = rows.first else { throw MetadataError(.internal, "commit failed", details: "no result row") }
        guard try row.bool("go") else { throw MetadataError(.conflict, MetadataError.reclaimedWriteMessage) }
        // As stored (sequence assigned, dates at the database's precision).
        let version = try Rows.version(row)
        return CommitResult(version: version, replaced: nil, replicationJobs: [], deleteJobs: [],
                            logId: try row.optionalInt("log_id"))
    }

    static func validate(_ version: ObjectVersion) throws {
        guard !version.bucket.isEmpty, !version.key.isEmpty else { throw MetadataError.invalid("bucket and key must not be empty") }
        guard !version.storageId.isEmpty, !version.versionId.isEmpty else {
            throw MetadataError.invalid("storage id and version id must not be empty")
        }
    }

    /// The commit transaction body (also used by CompleteMultipartUpload).
    static func commit(_ commit: VersionCommit, in db: any SQLExecutor) async throws -> CommitResult {
        if db.dialect == .postgres, commit.precondition == WritePrecondition.none {
            return try await commitInTwoStatements(commit, in: db)
        }
        let request = commit.version
        let now = request.createdAt
        try await lockKey(db, bucket: request.bucket, key: request.key)
        // Removing the intent first locks its row against a concurrent reclaim; a reclaimed
        // intent means the reconciler is deleting (or deleted) the data: nothing may commit.
        if let intent = try await db.first("""
            DELETE FROM write_intents WHERE storage_id = \(request.storageId) RETURNING reclaimed_at
            """), try intent.optionalDate("reclaimed_at") != nil {
            throw MetadataError(.conflict, MetadataError.reclaimedWriteMessage)
        }
        // A missing bucket fails the INSERT below (object_versions.bucket references buckets),
        // which the callers map to notFound; the whole transaction then rolls back.
        // The current version matters only to a conditional write.
        if commit.precondition != WritePrecondition.none {
            try check(commit.precondition, current: try await latest(db, bucket: request.bucket, key: request.key))
        }

        var replaced: ObjectVersion?
        var deleteJobs: [SyncJob] = []
        if request.versionId == nullVersionID,
           let row = try await db.first("""
               DELETE FROM object_versions
               WHERE bucket = \(request.bucket) AND key = \(request.key) AND version_id = \(nullVersionID)
               RETURNING \(sql: Rows.versionColumns)
               """) {
            let old = try Rows.version(row)
            replaced = old
            deleteJobs = try await retireReplicas(of: old, now: now, in: db)
        }
        try await db.execute("""
            UPDATE object_versions SET is_latest = FALSE
            WHERE bucket = \(request.bucket) AND key = \(request.key) AND is_latest
            """)

        let replicas = request.isDeleteMarker ? [] : commit.replicas
        let completeCopies = replicas.filter { $0.status == .complete }.count
        let inserted = try await db.first("""
            INSERT INTO object_versions (\(sql: versionInsertColumns))
            VALUES (\(sql: versionInsertValues(request, completeCopies: completeCopies)))
            RETURNING \(sql: Rows.versionColumns)
            """)
        guard let inserted else { throw MetadataError(.internal, "commit failed", details: "INSERT returned no row") }
        // As stored (sequence assigned, dates at the database's precision).
        let version = try Rows.version(inserted)

        var replicationJobs: [SyncJob] = []
        if !replicas.isEmpty {
            try await db.execute("""
                INSERT INTO object_replicas (\(sql: Rows.replicaColumns))
                VALUES \(sql: replicaRows(replicas, of: version.storageId, size: version.size, now: now))
                """)
            replicationJobs = try await insertJobs(Self.replicationJobs(for: version, replicas: replicas, now: now), now: now, in: db)
        }
        let logId = try await commit.log.asyncMap { try await insertLog($0, in: db) }
        return CommitResult(
            version: version, replaced: replaced, replicationJobs: replicationJobs,
            deleteJobs: deleteJobs, logId: logId
        )
    }

    /// An unconditional commit on PostgreSQL, where every statement is a round trip to the
    /// server: the same steps as the general path in two statements instead of six to eight.
    /// The first takes the key's lock and removes the intent; the second, which must start
    /// after the lock is held (its snapshot then sees every earlier commit of the key), removes
    /// a replaced "null" version, demotes the latest version and inserts the new one with its
    /// replicas and log row. Within one statement, sub-statements run in no fixed order: the
    /// insert reads the counts of the removal and the demotion first, so both are done before
    /// the new row meets the unique indexes (rows deleted or updated by the same transaction
    /// no longer conflict). Jobs for pending copies and for the replaced version's replicas
    /// follow as before, in the same transaction.
    static func commitInTwoStatements(_ commit: VersionCommit, in db: any SQLExecutor) async throws -> CommitResult {
        let request = commit.version
        let now = request.createdAt
        let lockName = request.bucket + "/" + request.key
        let intent = try await db.first("""
            WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended(\(lockName), 0))),
            removed AS (DELETE FROM write_intents WHERE storage_id = \(request.storageId) RETURNING reclaimed_at)
            SELECT (SELECT count(*) FROM locked) AS locks, (SELECT reclaimed_at FROM removed) AS reclaimed_at
            """)
        if try intent?.optionalDate("reclaimed_at") != nil {
            throw MetadataError(.conflict, MetadataError.reclaimedWriteMessage)
        }

        let replacesNull = request.versionId == nullVersionID
        let replicas = request.isDeleteMarker ? [] : commit.replicas
        let completeCopies = replicas.filter { $0.status == .complete }.count
        var parts: [SQL] = []
        if replacesNull {
            parts.append("""
                nulled AS (
                    DELETE FROM object_versions
                    WHERE bucket = \(request.bucket) AND key = \(request.key) AND version_id = \(nullVersionID)
                    RETURNING \(sql: Rows.versionColumns))
                """)
        }
        // The null version, if latest, is removed above; a row must not be changed twice.
        let notNull: SQL = replacesNull ? " AND version_id <> \(nullVersionID)" : ""
        parts.append("""
            demoted AS (
                UPDATE object_versions SET is_latest = FALSE
                WHERE bucket = \(request.bucket) AND key = \(request.key) AND is_latest\(sql: notNull)
                RETURNING seq)
            """)
        let before: SQL = replacesNull
            ? "(SELECT count(*) FROM demoted) + (SELECT count(*) FROM nulled)"
            : "(SELECT count(*) FROM demoted)"
        parts.append("""
            inserted AS (
                INSERT INTO object_versions (\(sql: versionInsertColumns))
                SELECT \(sql: versionInsertValues(request, completeCopies: completeCopies))
                WHERE \(sql: before) >= 0
                RETURNING \(sql: Rows.versionColumns))
            """)
        if !replicas.isEmpty {
            parts.append("""
                replicas AS (
                    INSERT INTO object_replicas (\(sql: Rows.replicaColumns))
                    VALUES \(sql: replicaRows(replicas, of: request.storageId, size: request.size, now: now)))
                """)
        }
        var logId: SQL = "NULL::bigint"
        if let entry = commit.log {
            parts.append("logged AS (\(sql: logInsert(entry)))")
            logId = "(SELECT id FROM logged)"
        }
        let replacedRow: SQL = replacesNull ? "UNION ALL SELECT FALSE, NULL::bigint, \(sql: Rows.versionColumns) FROM nulled" : ""
        var rows = try await db.query("""
            WITH \(sql: SQL.joined(parts, separator: ",\n"))
            SELECT TRUE AS is_new, \(sql: logId) AS log_id, \(sql: Rows.versionColumns) FROM inserted
            \(sql: replacedRow)
            """)
        guard let index = try rows.firstIndex(where: { try $0.bool("is_new") }) else {
            throw MetadataError(.internal, "commit failed", details: "INSERT returned no row")
        }
        let inserted = rows.remove(at: index)
        // As stored (sequence assigned, dates at the database's precision).
        let version = try Rows.version(inserted)
        let replaced = try rows.first.map(Rows.version)
        let deleteJobs = try await replaced.asyncMap { try await retireReplicas(of: $0, now: now, in: db) } ?? []
        let replicationJobs = try await insertJobs(replicationJobs(for: version, replicas: replicas, now: now), now: now, in: db)
        return CommitResult(
            version: version, replaced: replaced, replicationJobs: replicationJobs,
            deleteJobs: deleteJobs, logId: try inserted.optionalInt("log_id")
        )
    }

    /// A `replicate` job for each copy still to make, copied from a complete one (the first
    /// complete zone in the plan's order).
    static func replicationJobs(for version: ObjectVersion, replicas: [CommitReplica], now: Date) -> [NewSyncJob] {
        let complete = Set(replicas.filter { $0.status == .complete }.map(\.zone))
        let source = version.placement.plannedZones.first(where: complete.contains) ?? replicas.first { $0.status == .complete }?.zone
        return replicas.filter { $0.status == .pending || $0.status == .failed }.map {
            NewSyncJob(
                kind: .replicate, storageId: version.storageId, zone: $0.zone, sourceZone: source,
                bucket: version.bucket, key: version.key, backendKey: $0.backendKey, notBefore: now,
                deadline: version.placement.replicationDeadline
            )
        }
    }

    static func check(_ precondition: WritePrecondition, current: ObjectVersion?) throws {
        switch precondition {
        case .none:
            return
        case .keyAbsent:
            if let current, !current.isDeleteMarker {
                throw MetadataError(.preconditionFailed, "the key already exists")
            }
        case .latestETag(let etag):
            guard let current, !current.isDeleteMarker, Self.sameETag(current.etag, etag) else {
                throw MetadataError(.preconditionFailed, "the current object does not match the ETag")
            }
        }
    }

    static func sameETag(_ a: String, _ b: String) -> Bool {
        let strip: (String) -> Substring = { $0.hasPrefix("\"") && $0.hasSuffix("\"") && $0.count >= 2 ? $0.dropFirst().dropLast() : Substring($0) }
        return strip(a) == strip(b)
    }

    /// The columns a commit inserts into `object_versions`, and their values for `request`.
    static let versionInsertColumns: SQL = """
        storage_id, bucket, key, version_id, is_latest, is_delete_marker, size, etag,
        content_type, cache_control, content_disposition, content_encoding, content_language, expires,
        user_metadata, tags, checksums, checksum_type, parts_count, created_at, policy_set_hash,
        residency_policies, replication_policy, planned_zones, required_copies, write_quorum,
        replication_deadline, complete_copies, retention_mode, retain_until, legal_hold
        """

    static func versionInsertValues(_ request: ObjectVersion, completeCopies: Int) -> SQL {
        """
        \(request.storageId), \(request.bucket), \(request.key), \(request.versionId), TRUE,
        \(request.isDeleteMarker), \(request.size), \(request.etag),
        \(sql: headerValues(request.headers)),
        \(JSONColumn.encode(request.userMetadata)), \(JSONColumn.encode(request.tags)),
        \(JSONColumn.encode(request.checksums.values)), \(request.checksums.type?.rawValue),
        \(request.partsCount), \(request.createdAt),
        \(sql: placementValues(request.placement)),
        \(completeCopies), \(request.retention?.mode.rawValue), \(request.retention?.retainUntil),
        \(request.legalHold)
        """
    }

    /// `(...), (...)`: the replica rows a commit inserts.
    static func replicaRows(_ replicas: [CommitReplica], of storageId: String, size: Int64, now: Date) -> SQL {
        SQL.joined(replicas.map {
            Rows.replicaValues(Replica(
                storageId: storageId, zone: $0.zone, status: $0.status, backendKey: $0.backendKey,
                size: size, etag: $0.etag, checksum: $0.checksum, updatedAt: now, lastError: $0.lastError
            ))
        }, separator: ", ")
    }

    static func headerValues(_ h: ObjectHeaders) -> SQL {
        """
        \(h.contentType), \(h.cacheControl), \(h.contentDisposition), \(h.contentEncoding), \
        \(h.contentLanguage), \(h.expires)
        """
    }

    static func placementValues(_ p: PlacementInfo) -> SQL {
        """
        \(p.policySetHash), \(JSONColumn.encode(p.residencyPolicies)), \(p.replicationPolicy), \
        \(JSONColumn.encode(p.plannedZones)), \(p.requiredCopies), \(p.writeQuorum), \(p.replicationDeadline)
        """
    }

    /// A removed version's replicas become `deleting` with one `delete` job each; copies not
    /// started yet are cancelled, and a delete waits for the lease of a copy in progress.
    static func retireReplicas(of version: ObjectVersion, now: Date, in db: any SQLExecutor) async throws -> [SyncJob] {
        let replicas = try await db.query("""
            UPDATE object_replicas SET status = \(ReplicaStatus.deleting.rawValue), updated_at = \(now)
            WHERE storage_id = \(version.storageId) RETURNING \(sql: Rows.replicaColumns)
            """).map(Rows.replica)
        guard !replicas.isEmpty else { return [] }
        try await db.execute("""
            DELETE FROM sync_jobs WHERE storage_id = \(version.storageId)
            AND kind = \(SyncJobKind.replicate.rawValue) AND status IN ('queued', 'failed')
            """)
        var leases: [String: Date] = [:]
        for row in try await db.query("""
            SELECT zone, lease_until FROM sync_jobs WHERE storage_id = \(version.storageId)
            AND kind = \(SyncJobKind.replicate.rawValue) AND status = \(SyncJobStatus.running.rawValue)
            """) {
            if let until = try row.optionalDate("lease_until") { leases[try row.string("zone")] = until }
        }
        let jobs = replicas.sorted { $0.zone < $1.zone }.map { replica in
            NewSyncJob(
                kind: .delete, storageId: version.storageId, zone: replica.zone, bucket: version.bucket,
                key: version.key, backendKey: replica.backendKey, notBefore: max(now, leases[replica.zone] ?? now)
            )
        }
        return try await insertJobs(jobs, now: now, in: db)
    }

    // MARK: Reads

    static func latest(_ db: any SQLExecutor, bucket: String, key: String) async throws -> ObjectVersion? {
        try await db.first("""
            SELECT \(sql: Rows.versionColumns) FROM object_versions
            WHERE bucket = \(bucket) AND key = \(key) AND is_latest
            """).map(Rows.version)
    }

    func latestVersion(bucket: String, key: String) async throws -> ObjectVersion? {
        try await engine.pointRead { db in try await Self.latest(db, bucket: bucket, key: key) }
    }

    func version(bucket: String, key: String, versionId: String) async throws -> ObjectVersion? {
        try await engine.pointRead { db in
            try await db.first("""
                SELECT \(sql: Rows.versionColumns) FROM object_versions
                WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionId)
                """).map(Rows.version)
        }
    }

    func version(storageId: String) async throws -> ObjectVersion? {
        try await engine.pointRead { db in
            try await db.first("""
                SELECT \(sql: Rows.versionColumns) FROM object_versions WHERE storage_id = \(storageId)
                """).map(Rows.version)
        }
    }

    // MARK: Deletion and updates

    func deleteVersion(_ request: DeleteVersionRequest) async throws -> DeletedVersion {
        try await engine.transaction { db in
            try await Self.lockKey(db, bucket: request.bucket, key: request.key)
            guard let version = try await Self.selectVersion(db, request.bucket, request.key, request.versionId) else {
                throw MetadataError.notFound("version \(request.versionId) of \(request.key) does not exist")
            }
            if version.isLocked(at: request.now, bypassGovernance: request.bypassGovernance) {
                throw MetadataError(.objectLocked, "the version is protected by Object Lock")
            }
            try await db.execute("DELETE FROM object_versions WHERE seq = \(version.sequence)")
            var newLatest: ObjectVersion?
            if version.isLatest {
                newLatest = try await db.first("""
                    UPDATE object_versions SET is_latest = TRUE WHERE seq = (
                        SELECT MAX(seq) FROM object_versions WHERE bucket = \(request.bucket) AND key = \(request.key))
                    RETURNING \(sql: Rows.versionColumns)
                    """).map(Rows.version)
            } else {
                newLatest = try await Self.latest(db, bucket: request.bucket, key: request.key)
            }
            let jobs = try await Self.retireReplicas(of: version, now: request.now, in: db)
            let logId = try await request.log.asyncMap { try await Self.insertLog($0, in: db) }
            return DeletedVersion(version: version, newLatest: newLatest, deleteJobs: jobs, logId: logId)
        }
    }

    static func selectVersion(_ db: any SQLExecutor, _ bucket: String, _ key: String, _ versionId: String) async throws -> ObjectVersion? {
        try await db.first("""
            SELECT \(sql: Rows.versionColumns) FROM object_versions
            WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionId)\(sql: forUpdate(db))
            """).map(Rows.version)
    }

    func updateTags(bucket: String, key: String, versionId: String, tags: [ObjectTag]) async throws -> ObjectVersion {
        try await updateVersion(bucket, key, versionId) { _ in
            "tags = \(JSONColumn.encode(tags))"
        }
    }

    func updateLegalHold(bucket: String, key: String, versionId: String, legalHold: Bool) async throws -> ObjectVersion {
        try await updateVersion(bucket, key, versionId) { _ in
            "legal_hold = \(legalHold)"
        }
    }

    func updateRetention(
        bucket: String, key: String, versionId: String, retention: ObjectRetention?,
        bypassGovernance: Bool, now: Date
    ) async throws -> ObjectVersion {
        try await updateVersion(bucket, key, versionId) { version in
            if let existing = version.retention, existing.isActive(at: now),
               existing.mode == .compliance || !bypassGovernance {
                // Only an extension is allowed (GOVERNANCE may become COMPLIANCE, never the reverse).
                guard let retention, retention.retainUntil >= existing.retainUntil,
                      existing.mode == .governance || retention.mode == .compliance
                else { throw MetadataError(.objectLocked, "the retention can only be extended") }
            }
            return "retention_mode = \(retention?.mode.rawValue), retain_until = \(retention?.retainUntil)"
        }
    }

    private func updateVersion(
        _ bucket: String, _ key: String, _ versionId: String,
        _ assignments: @escaping @Sendable (ObjectVersion) throws -> SQL
    ) async throws -> ObjectVersion {
        try await engine.transaction { db in
            guard let version = try await Self.selectVersion(db, bucket, key, versionId) else {
                throw MetadataError.notFound("version \(versionId) of \(key) does not exist")
            }
            guard !version.isDeleteMarker else { throw MetadataError.invalid("a delete marker cannot be changed") }
            let set = try assignments(version)
            guard let row = try await db.first("""
                UPDATE object_versions SET \(sql: set) WHERE seq = \(version.sequence) RETURNING \(sql: Rows.versionColumns)
                """) else {
                throw MetadataError.notFound("version \(versionId) of \(key) does not exist")
            }
            return try Rows.version(row)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
