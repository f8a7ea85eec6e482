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
