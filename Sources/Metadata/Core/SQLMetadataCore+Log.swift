import Foundation

extension SQLMetadataCore {
    static func insertLog(_ entry: OperationLogEntry, in db: any SQLExecutor) async throws -> Int64 {
        guard let row = try await db.first(logInsert(entry)) else {
            throw MetadataError(.internal, "appending to the operations log failed", details: "INSERT returned no row")
        }
        return try row.int("id")
    }

    /// The INSERT of one log row, returning its id; with `when`, only if that condition holds.
    static func logInsert(_ entry: OperationLogEntry, when condition: SQL? = nil) -> SQL {
        let values: SQL = """
            \(entry.time), \(entry.requestId), \(entry.principal), \(entry.operation), \(entry.bucket),
            \(entry.key), \(entry.versionId), \(entry.httpStatus), \(JSONColumn.encode(entry.zones)),
            \(entry.policySetHash), \(entry.bytes), \(entry.durationMs), \(entry.detail)
            """
        let source: SQL = condition.map { "SELECT \(sql: values) WHERE \(sql: $0)" } ?? "VALUES (\(sql: values))"
        return """
            INSERT INTO operations_log (
                created_at, request_id, principal, operation, bucket, key, version_id, http_status, zones,
                policy_set_hash, bytes, duration_ms, detail
            ) \(sql: source) RETURNING id
            """
    }

    func appendLog(_ entry: OperationLogEntry) async throws -> Int64 {
        try await engine.transaction { db in try await Self.insertLog(entry, in: db) }
    }

    func queryLog(_ query: OperationLogQuery) async throws -> [OperationLogEntry] {
        let limit = try Self.checkLimit(query.limit, "limit")
        var conditions: [SQL] = ["TRUE"]
        if let beforeId = query.beforeId { conditions.append("id < \(beforeId)") }
        if let bucket = query.bucket { conditions.append("bucket = \(bucket)") }
        if let prefix = query.keyPrefix, !prefix.isEmpty {
            conditions.append("key >= \(prefix)")
            if let upper = KeyOrder.prefixUpperBound(prefix) { conditions.append("key < \(upper)") }
        }
        if let operation = query.operation { conditions.append("operation = \(operation)") }
        if let range = query.statusRange {
            conditions.append("http_status >= \(range.lowerBound) AND http_status <= \(range.upperBound)")
        }
        if let since = query.since { conditions.append("created_at >= \(since)") }
        if let until = query.until { conditions.append("created_at < \(until)") }
        let filter = SQL.joined(conditions, separator: " AND ")
        return try await engine.read { db in
            try await db.query("""
                SELECT \(sql: Rows.logColumns) FROM operations_log WHERE \(sql: filter) ORDER BY id DESC LIMIT \(limit)
                """).map(Rows.logEntry)
        }
    }
}

extension SQLMetadataCore {
    func sealLog(limit: Int, seal: @escaping @Sendable (String?, OperationLogEntry) -> String) async throws -> LogSealBatch {
        let limit = try Self.checkLimit(limit, "limit")
        let dialect = self.dialect
        return try await engine.transaction { db in
            // One sealer at a time per schema (SQLite's write transaction is exclusive already).
            if dialect == .postgres {
                try await db.execute("SELECT pg_advisory_xact_lock(hashtextextended(current_setting('search_path'), 5512093311))")
            }
            var head = try await Self.sealHead(db)
            // On PostgreSQL, ids are taken before commit, so a smaller id can become visible
            // after a larger one: only entries of transactions older than every running one
            // are taken, and a late one is sealed in a later batch. SQLite commits one writer
            // at a time, so what it shows is final.
            let ready: SQL = dialect == .postgres
                ? "seal_seq IS NULL AND xact < pg_snapshot_xmin(pg_current_snapshot())"
                : Self.unsealed(after: head)
            let entries = try await db.query("""
                SELECT \(sql: Rows.logColumns) FROM operations_log WHERE \(sql: ready) ORDER BY id LIMIT \(limit)
                """).map(Rows.logEntry)
            for entry in entries {
                let next = LogSeal(sequence: (head?.sequence ?? 0) + 1, id: entry.id, hash: seal(head?.hash, entry))
                try await db.execute("""
                    UPDATE operations_log SET seal_seq = \(next.sequence), seal_hash = \(next.hash) WHERE id = \(entry.id)
                    """)
                head = next
            }
            return LogSealBatch(sealed: entries.count, head: head)
        }
    }

    func sealedLog(afterSequence: Int64, limit: Int) async throws -> [(entry: OperationLogEntry, seal: LogSeal)] {
        let limit = try Self.checkLimit(limit, "limit")
        return try await engine.read { db in
            try await db.query("""
                SELECT \(sql: Rows.logColumns), seal_seq, seal_hash FROM operations_log
                WHERE seal_seq > \(afterSequence) ORDER BY seal_seq LIMIT \(limit)
                """).map { row in
                let entry = try Rows.logEntry(row)
                return (entry, LogSeal(sequence: try row.int("seal_seq"), id: entry.id, hash: try row.string("seal_hash")))
            }
        }
    }

    func unsealedLog() async throws -> UnsealedLog {
        let dialect = self.dialect
        return try await engine.read { db in
            let condition: SQL = dialect == .postgres ? "seal_seq IS NULL" : Self.unsealed(after: try await Self.sealHead(db))
            let row = try await db.first("""
                SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM operations_log WHERE \(sql: condition)
                """)
            return UnsealedLog(count: Int(try row?.int("n") ?? 0), oldest: try row?.optionalDate("oldest"))
        }
    }

    func logSealHead() async throws -> LogSeal? {
        try await engine.read { db in try await Self.sealHead(db) }
    }

    /// The last entry sealed.
    static func sealHead(_ db: any SQLExecutor) async throws -> LogSeal? {
        try await db.first("""
            SELECT id, seal_seq, seal_hash FROM operations_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1
            """).map { LogSeal(sequence: try $0.int("seal_seq"), id: try $0.int("id"), hash: try $0.string("seal_hash")) }
    }

    /// SQLite's unsealed entries: those after the last sealed one (one writer at a time commits
    /// in id order, so none can appear before it later).
    static func unsealed(after head: LogSeal?) -> SQL {
        "id > \(head?.id ?? 0) AND seal_seq IS NULL"
    }
}
