import Foundation

extension SQLMetadataCore {
    static func insertJobs(_ jobs: [NewSyncJob], now: Date, in db: any SQLExecutor) async throws -> [SyncJob] {
        guard !jobs.isEmpty else { return [] }
        var inserted: [SyncJob] = []
        for chunk in stride(from: 0, to: jobs.count, by: 500).map({ jobs[$0..<min($0 + 500, jobs.count)] }) {
            let rows = chunk.map { job -> SQL in
                """
                (\(job.kind.rawValue), \(job.storageId), \(job.zone), \(job.sourceZone), \(job.bucket), \(job.key), \
                \(job.backendKey), 0, \(job.notBefore), \(job.deadline), \(SyncJobStatus.queued.rawValue), \(now), \(now))
                """
            }
            inserted += try await db.query("""
                INSERT INTO sync_jobs (kind, storage_id, zone, source_zone, bucket, key, backend_key, attempts,
                    not_before, deadline, status, created_at, updated_at)
                VALUES \(sql: SQL.joined(rows, separator: ", "))
                RETURNING \(sql: Rows.jobColumns)
                """).map(Rows.job)
        }
        return inserted.sorted { $0.id < $1.id }
    }

    func enqueueJobs(_ jobs: [NewSyncJob], now: Date) async throws -> [SyncJob] {
        guard !jobs.isEmpty else { return [] }
        return try await engine.transaction { db in try await Self.insertJobs(jobs, now: now, in: db) }
    }

    func job(id: Int64) async throws -> SyncJob? {
        try await engine.pointRead { db in
            try await db.first("SELECT \(sql: Rows.jobColumns) FROM sync_jobs WHERE id = \(id)").map(Rows.job)
        }
    }

    func claimJobs(worker: String, limit: Int, now: Date, leaseSeconds: Int, skippingZones: Set<String> = []) async throws -> [SyncJob] {
        let limit = try Self.checkLimit(limit, "limit", max: 1000)
        guard limit > 0 else { return [] }
        guard leaseSeconds > 0 else { throw MetadataError.invalid("leaseSeconds must be positive") }
        let until = now.addingTimeInterval(TimeInterval(leaseSeconds))
        // The statuses are literals, not parameters, so that the planner sees at once that the
        // partial indexes on them apply. With parameters, SQLite compares their bound values
        // with the indexes' conditions and prepares the statement again at every run, and
        // PostgreSQL's generic plan cannot use those indexes.
        var due: SQL = """
            ((status = \(sql: SyncJobStatus.queued.sqlLiteral) AND not_before <= \(now))
            OR (status = \(sql: SyncJobStatus.running.sqlLiteral) AND lease_until <= \(now)))
            """
        if !skippingZones.isEmpty {
            let zones = SQL.joined(skippingZones.sorted().map { "\($0)" }, separator: ", ")
            due += " AND zone NOT IN (\(sql: zones))"
        }
        let claim: SQL = """
            UPDATE sync_jobs SET status = \(SyncJobStatus.running.rawValue), claimed_by = \(worker),
                claimed_at = \(now), lease_until = \(until), updated_at = \(now)
            """
        let sql: SQL
        switch dialect {
        case .postgres:
            // Several gateways share the queue: rows locked by another claimer are skipped.
            sql = """
                WITH next AS (
                    SELECT id FROM sync_jobs WHERE \(sql: due)
                    ORDER BY not_before, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                \(sql: claim) FROM next WHERE sync_jobs.id = next.id
                RETURNING \(sql: qualified(Rows.jobColumns, "sync_jobs"))
                """
        case .sqlite:
            // The write transaction (BEGIN IMMEDIATE) is exclusive.
            sql = """
                \(sql: claim) WHERE id IN (
                    SELECT id FROM sync_jobs WHERE \(sql: due) ORDER BY not_before, id LIMIT \(limit))
                RETURNING \(sql: Rows.jobColumns)
                """
        }
        return try await engine.autocommit(sql).map(Rows.job).sorted { ($0.notBefore, $0.id) < ($1.notBefore, $1.id) }
    }

    /// `id, kind, ...` as `t.id, t.kind, ...` (for statements that join another relation).
    private func qualified(_ columns: SQL, _ table: String) -> SQL {
        let (text, _) = columns.render(dialect)
        let list = text.split(separator: ",").map { table + "." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return SQL(unsafeRaw: list.joined(separator: ", "))
    }

    func completeJob(id: Int64, etag: String?, now: Date) async throws {
        try await engine.transaction { db in
            guard let row = try await db.first("""
                UPDATE sync_jobs SET status = \(SyncJobStatus.done.rawValue), updated_at = \(now),
                    last_error = NULL, lease_until = NULL
                WHERE id = \(id) RETURNING \(sql: Rows.jobColumns)
                """) else {
                throw MetadataError.notFound("job \(id) does not exist")
            }
            let job = try Rows.job(row)
            switch job.kind {
            case .replicate:
                let updated = try await db.first("""
                    UPDATE object_replicas SET status = \(ReplicaStatus.complete.rawValue),
                        etag = COALESCE(\(etag), etag), updated_at = \(now), last_error = NULL
                    WHERE storage_id = \(job.storageId) AND zone = \(job.zone)
                        AND status <> \(ReplicaStatus.deleting.rawValue)
                    RETURNING zone
                    """)
                if updated == nil,
                   let version = try await db.first("SELECT size FROM object_versions WHERE storage_id = \(job.storageId)"),
                   try await db.first("SELECT zone FROM object_replicas WHERE storage_id = \(job.storageId) AND zone = \(job.zone)") == nil {
                    // A copy the reconciler queued without a replica row.
                    let replica = Replica(
                        storageId: job.storageId, zone: job.zone, status: .complete, backendKey: job.backendKey,
                        size: try version.int("size"), etag: etag, updatedAt: now
                    )
                    try await db.execute("INSERT INTO object_replicas (\(sql: Rows.replicaColumns)) VALUES \(sql: Rows.replicaValues(replica))")
                }
            case .delete:
                try await db.execute("DELETE FROM object_replicas WHERE storage_id = \(job.storageId) AND zone = \(job.zone)")
            case .abortUpload:
                return
            }
            try await Self.refreshCompleteCopies(job.storageId, in: db)
        }
    }

    func failJob(id: Int64, error: String, retryAt: Date?, now: Date) async throws -> SyncJob {
        let status: SyncJobStatus = retryAt == nil ? .failed : .queued
        return try await engine.transaction { db in
            guard let row = try await db.first("""
                UPDATE sync_jobs SET attempts = attempts + 1, last_error = \(error), updated_at = \(now),
                    status = \(status.rawValue), not_before = COALESCE(\(retryAt), not_before), lease_until = NULL
                WHERE id = \(id) RETURNING \(sql: Rows.jobColumns)
                """) else {
                throw MetadataError.notFound("job \(id) does not exist")
            }
            let job = try Rows.job(row)
            if job.kind == .replicate {
                let replicaStatus: SQL = status == .failed ? "status = \(ReplicaStatus.failed.rawValue)," : ""
                try await db.execute("""
                    UPDATE object_replicas SET \(sql: replicaStatus) last_error = \(error), updated_at = \(now)
                    WHERE storage_id = \(job.storageId) AND zone = \(job.zone)
                        AND status IN (\(ReplicaStatus.pending.rawValue), \(ReplicaStatus.failed.rawValue))
                    """)
            }
            return job
        }
    }

    func deferJob(id: Int64, worker: String, reason: String, until: Date, now: Date) async throws -> SyncJob {
        try await engine.transaction { db in
            guard let row = try await db.first("""
                UPDATE sync_jobs SET last_error = \(reason), updated_at = \(now), status = \(SyncJobStatus.queued.rawValue),
                    not_before = \(until), lease_until = NULL
                WHERE id = \(id) AND status = \(SyncJobStatus.running.rawValue) AND claimed_by = \(worker)
                RETURNING \(sql: Rows.jobColumns)
                """) else {
                throw MetadataError.notFound("job \(id) is not running for \(worker)")
            }
            let job = try Rows.job(row)
            if job.kind == .replicate {
                try await db.execute("""
                    UPDATE object_replicas SET last_error = \(reason), updated_at = \(now)
                    WHERE storage_id = \(job.storageId) AND zone = \(job.zone)
                        AND status IN (\(ReplicaStatus.pending.rawValue), \(ReplicaStatus.failed.rawValue))
                    """)
            }
            return job
        }
    }

    func lateJobs(now: Date, limit: Int) async throws -> [SyncJob] {
        let limit = try Self.checkLimit(limit, "limit")
        return try await engine.read { db in
            try await db.query("""
                SELECT \(sql: Rows.jobColumns) FROM sync_jobs
                WHERE deadline IS NOT NULL AND status <> \(SyncJobStatus.done.rawValue) AND deadline < \(now)
                ORDER BY deadline, id LIMIT \(limit)
                """).map(Rows.job)
        }
    }

    func jobCounts(now: Date) async throws -> SyncJobCounts {
        try await engine.snapshot { db in
            var counts = SyncJobCounts()
            for row in try await db.query("SELECT status, COUNT(*) AS n FROM sync_jobs GROUP BY status") {
                let n = Int(try row.int("n"))
                switch try Rows.enumValue(SyncJobStatus.self, row.string("status"), "status") {
                case .queued: counts.queued = n
                case .running: counts.running = n
                case .done: counts.done = n
                case .failed: counts.failed = n
                }
            }
            counts.late = Int(try await db.first("""
                SELECT COUNT(*) AS n FROM sync_jobs
                WHERE deadline IS NOT NULL AND status <> \(SyncJobStatus.done.rawValue) AND deadline < \(now)
                """)?.int("n") ?? 0)
            return counts
        }
    }
}

extension SyncJobStatus {
    /// The status as an SQL string literal (`'queued'`): a fixed word, no quote in it.
    var sqlLiteral: SQL { SQL(unsafeRaw: "'\(rawValue)'") }
}
