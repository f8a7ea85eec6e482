import Foundation

extension SQLMetadataCore {
    /// On PostgreSQL one statement (a join), one round trip; on SQLite, where a read costs no
    /// round trip, the two point reads, which SQLite runs faster than the join (the gateway's
    /// CPU per GET was 12-15 % higher with it).
    func versionWithReplicas(bucket: String, key: String, versionId: String?) async throws -> VersionWithReplicas? {
        if engine.dialect == .sqlite {
            let found = if let versionId {
                try await version(bucket: bucket, key: key, versionId: versionId)
            } else {
                try await latestVersion(bucket: bucket, key: key)
            }
            guard let found else { return nil }
            return VersionWithReplicas(version: found, replicas: try await replicas(storageId: found.storageId))
        }
        let which: SQL = versionId.map { "version_id = \($0)" } ?? "is_latest"
        return try await engine.pointRead { db in
            let rows = try await db.query("""
                SELECT v.*, r.storage_id AS r_storage_id, r.zone AS r_zone, r.status AS r_status,
                       r.backend_key AS r_backend_key, r.size AS r_size, r.etag AS r_etag, r.checksum AS r_checksum,
                       r.updated_at AS r_updated_at, r.last_error AS r_last_error
                FROM (SELECT \(sql: Rows.versionColumns) FROM object_versions
                      WHERE bucket = \(bucket) AND key = \(key) AND \(sql: which)) AS v
                LEFT JOIN object_replicas r ON r.storage_id = v.storage_id
                ORDER BY r.zone
                """)
            guard let first = rows.first else { return nil }
            let version = try Rows.version(first)
            // A version without replicas is one row whose replica columns are NULL.
            let replicas = try rows.compactMap { row in
                try row.optionalString("r_zone") == nil ? nil : Rows.replica(row, prefix: "r_")
            }
            return VersionWithReplicas(version: version, replicas: replicas)
        }
    }

    func replicas(storageId: String) async throws -> [Replica] {
        try await engine.pointRead { db in
            try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas WHERE storage_id = \(storageId) ORDER BY zone
                """).map(Rows.replica)
        }
    }

    func replicas(storageIds: [String]) async throws -> [String: [Replica]] {
        guard storageIds.count <= 1000 else { throw MetadataError.invalid("at most 1000 storage ids at a time") }
        guard !storageIds.isEmpty else { return [:] }
        return try await engine.read { db in
            var byVersion: [String: [Replica]] = [:]
            for row in try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas
                WHERE storage_id IN (\(sql: SQL.joined(storageIds.map { "\($0)" }, separator: ", "))) ORDER BY storage_id, zone
                """) {
                let replica = try Rows.replica(row)
                byVersion[replica.storageId, default: []].append(replica)
            }
            return byVersion
        }
    }

    func upsertReplica(_ replica: Replica) async throws {
        try await engine.transaction { db in
            try await db.execute("""
                INSERT INTO object_replicas (\(sql: Rows.replicaColumns)) VALUES \(sql: Rows.replicaValues(replica))
                ON CONFLICT (storage_id, zone) DO UPDATE SET
                    status = excluded.status, backend_key = excluded.backend_key, size = excluded.size,
                    etag = excluded.etag, checksum = excluded.checksum, updated_at = excluded.updated_at,
                    last_error = excluded.last_error
                """)
            try await Self.refreshCompleteCopies(replica.storageId, in: db)
        }
    }

    /// Keeps `object_versions.complete_copies` (behind the under-replicated index) in step
    /// with the replica rows.
    static func refreshCompleteCopies(_ storageId: String, in db: any SQLExecutor) async throws {
        try await db.execute("""
            UPDATE object_versions SET complete_copies = (
                SELECT COUNT(*) FROM object_replicas
                WHERE storage_id = \(storageId) AND status = \(ReplicaStatus.complete.rawValue))
            WHERE storage_id = \(storageId)
            """)
    }

    func underReplicated(afterSequence: Int64?, limit: Int) async throws -> [ReplicationStatus] {
        let limit = try Self.checkLimit(limit, "limit", max: 1000)
        guard limit > 0 else { return [] }
        return try await engine.snapshot { db in
            let versions = try await db.query("""
                SELECT \(sql: Rows.versionColumns) FROM object_versions
                WHERE NOT is_delete_marker AND complete_copies < required_copies AND seq > \(afterSequence ?? 0)
                ORDER BY seq LIMIT \(limit)
                """).map(Rows.version)
            guard !versions.isEmpty else { return [] }
            let ids = SQL.joined(versions.map { "\($0.storageId)" }, separator: ", ")
            var byVersion: [String: [Replica]] = [:]
            for row in try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas WHERE storage_id IN (\(sql: ids)) ORDER BY zone
                """) {
                let replica = try Rows.replica(row)
                byVersion[replica.storageId, default: []].append(replica)
            }
            return versions.map { ReplicationStatus(version: $0, replicas: byVersion[$0.storageId] ?? []) }
        }
    }
}

extension SQLMetadataCore {
    func requeueReplicas(storageId: String, zones: [String], copies: Int, counting: Set<String>?,
                         now: Date) async throws -> [SyncJob] {
        guard copies > 0, !zones.isEmpty else { return [] }
        return try await engine.transaction { db in
            guard let found = try await db.first("""
                SELECT bucket, key FROM object_versions WHERE storage_id = \(storageId) AND NOT is_delete_marker
                """) else { return [] }
            // The key lock serialises this with commits, deletes and another gateway's repair.
            try await Self.lockKey(db, bucket: try found.string("bucket"), key: try found.string("key"))
            guard let version = try await db.first("""
                SELECT \(sql: Rows.versionColumns) FROM object_versions WHERE storage_id = \(storageId)
                """).map(Rows.version) else { return [] }
            let replicas = try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas WHERE storage_id = \(storageId)
                """).map(Rows.replica)
            let complete = Set(replicas.filter { $0.status == .complete }.map(\.zone))
            let counted = counting.map(complete.intersection) ?? complete
            let open = Set(try await db.query("""
                SELECT zone FROM sync_jobs WHERE storage_id = \(storageId) AND kind = \(SyncJobKind.replicate.rawValue)
                    AND status IN (\(SyncJobStatus.queued.rawValue), \(SyncJobStatus.running.rawValue))
                """).map { try $0.string("zone") }).subtracting(complete)
            let needed = copies - counted.count - (counting.map(open.intersection) ?? open).count
            guard needed > 0, !complete.isEmpty else { return [] }
            var seen = Set<String>()
            let targets = zones.filter { !complete.contains($0) && !open.contains($0) && seen.insert($0).inserted }.prefix(needed)
            guard !targets.isEmpty else { return [] }
            let backendKey = replicas.first?.backendKey
                ?? WriteIntent.backendKey(bucket: version.bucket, key: version.key, storageId: version.storageId)
            let source = version.placement.plannedZones.first(where: complete.contains) ?? complete.sorted().first
            for zone in targets {
                try await db.execute("""
                    INSERT INTO object_replicas (\(sql: Rows.replicaColumns)) VALUES \(sql: Rows.replicaValues(Replica(
                        storageId: storageId, zone: zone, status: .pending, backendKey: backendKey, size: version.size,
                        updatedAt: now)))
                    ON CONFLICT (storage_id, zone) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
                    """)
            }
            return try await Self.insertJobs(targets.map {
                NewSyncJob(kind: .replicate, storageId: storageId, zone: $0, sourceZone: source, bucket: version.bucket,
                           key: version.key, backendKey: backendKey, notBefore: now,
                           deadline: version.placement.replicationDeadline)
            }, now: now, in: db)
        }
    }
}

extension SQLMetadataCore {
    func completeReplicas(after: ReplicaCursor?, limit: Int) async throws -> [Replica] {
        let limit = try Self.checkLimit(limit, "limit", max: 1000)
        guard limit > 0 else { return [] }
        return try await engine.read { db in
            let after: SQL = after.map {
                "AND (storage_id > \($0.storageId) OR (storage_id = \($0.storageId) AND zone > \($0.zone)))"
            } ?? ""
            return try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas
                WHERE status = \(ReplicaStatus.complete.rawValue) \(sql: after)
                ORDER BY storage_id, zone LIMIT \(limit)
                """).map(Rows.replica)
        }
    }

    func markReplicaLost(storageId: String, zone: String, reason: String, now: Date) async throws -> Bool {
        try await engine.transaction { db in
            guard let found = try await db.first("""
                SELECT bucket, key FROM object_versions WHERE storage_id = \(storageId)
                """) else { return false }
            // Under the key's lock, like commits, deletes and repairs of the key.
            try await Self.lockKey(db, bucket: try found.string("bucket"), key: try found.string("key"))
            let changed = try await db.query("""
                UPDATE object_replicas SET status = \(ReplicaStatus.pending.rawValue), last_error = \(reason), updated_at = \(now)
                WHERE storage_id = \(storageId) AND zone = \(zone) AND status = \(ReplicaStatus.complete.rawValue)
                RETURNING zone
                """)
            guard !changed.isEmpty else { return false }
            try await Self.refreshCompleteCopies(storageId, in: db)
            return true
        }
    }
}

extension SQLMetadataCore {
    func retireReplica(storageId: String, zone: String, keeping: Set<String>, copies: Int, reason: String,
                       log: OperationLogEntry?, now: Date) async throws -> ReplicaRetirement {
        try await engine.transaction { db in
            guard let found = try await db.first("""
                SELECT bucket, key FROM object_versions WHERE storage_id = \(storageId) AND NOT is_delete_marker
                """) else { return .gone }
            // Under the key's lock, like commits, deletes and repairs of the key.
            try await Self.lockKey(db, bucket: try found.string("bucket"), key: try found.string("key"))
            guard let version = try await db.first("""
                SELECT \(sql: Rows.versionColumns) FROM object_versions WHERE storage_id = \(storageId)
                """).map(Rows.version) else { return .gone }
            if version.legalHold || version.retention?.isActive(at: now) == true {
                return .held(until: version.legalHold ? nil : version.retention?.retainUntil)
            }
            let replicas = try await db.query("""
                SELECT \(sql: Rows.replicaColumns) FROM object_replicas WHERE storage_id = \(storageId)
                """).map(Rows.replica)
            guard let replica = replicas.first(where: { $0.zone == zone }), replica.status != .deleting else { return .gone }
            let kept = replicas.filter { $0.zone != zone && $0.status == .complete && keeping.contains($0.zone) }.count
            guard kept >= max(copies, 1) else { return .tooFewCopies(complete: kept) }
            guard try await db.first("""
                SELECT id FROM sync_jobs WHERE storage_id = \(storageId) AND zone = \(zone)
                    AND kind = \(SyncJobKind.replicate.rawValue)
                    AND status IN (\(SyncJobStatus.queued.rawValue), \(SyncJobStatus.running.rawValue))
                """) == nil else { return .copying }
            try await db.execute("""
                UPDATE object_replicas SET status = \(ReplicaStatus.deleting.rawValue), last_error = \(reason), updated_at = \(now)
                WHERE storage_id = \(storageId) AND zone = \(zone)
                """)
            try await Self.refreshCompleteCopies(storageId, in: db)
            let jobs = try await Self.insertJobs([NewSyncJob(
                kind: .delete, storageId: storageId, zone: zone, bucket: version.bucket, key: version.key,
                backendKey: replica.backendKey, notBefore: now)], now: now, in: db)
            if let log { _ = try await Self.insertLog(log, in: db) }
            guard let job = jobs.first else { return .gone }
            return .retired(job: job)
        }
    }
}
