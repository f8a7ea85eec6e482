import Foundation

extension SQLMetadataCore {
    func createBucket(_ bucket: Bucket) async throws {
        guard !bucket.name.isEmpty else { throw MetadataError.invalid("bucket name must not be empty") }
        let retention = bucket.defaultRetention
        var days: Int?
        var years: Int?
        switch retention?.period {
        case .days(let d)?: days = d
        case .years(let y)?: years = y
        case nil: break
        }
        let sql: SQL = """
            INSERT INTO buckets (\(sql: Rows.bucketColumns)) VALUES (
                \(bucket.name), \(bucket.createdAt), \(bucket.owner), \(bucket.region),
                \(bucket.versioning.rawValue), \(bucket.objectLockEnabled),
                \(retention?.mode.rawValue), \(days), \(years))
            """
        defer { buckets.changed(bucket.name) }
        try await mapping(unique: MetadataError(.alreadyExists, "bucket \(bucket.name) already exists")) {
            try await engine.transaction { db in try await db.execute(sql) }
        }
    }

    /// The bucket, from ``buckets`` when it was read lately.
    func bucket(named name: String) async throws -> Bucket? {
        let (cached, changes) = buckets.lookup(name)
        if let cached { return cached }
        let bucket = try await engine.pointRead { db in
            try await db.first("SELECT \(sql: Rows.bucketColumns) FROM buckets WHERE name = \(name)").map(Rows.bucket)
        }
        if let bucket { buckets.keep(bucket, readAfter: changes) }
        return bucket
    }

    func listBuckets() async throws -> [Bucket] {
        try await engine.read { db in
            try await db.query("SELECT \(sql: Rows.bucketColumns) FROM buckets ORDER BY name").map(Rows.bucket)
        }
    }

    func deleteBucket(named name: String) async throws {
        let notEmpty = MetadataError(.notEmpty, "bucket \(name) is not empty")
        defer { buckets.changed(name) }
        try await mapping(foreignKey: notEmpty) {
            try await engine.transaction { db in
                guard try await db.first("SELECT name FROM buckets WHERE name = \(name)\(sql: Self.forUpdate(db))") != nil else {
                    throw MetadataError.notFound("bucket \(name) does not exist")
                }
                let version = try await db.first("SELECT seq FROM object_versions WHERE bucket = \(name) LIMIT 1")
                let upload = try await db.first("SELECT upload_id FROM multipart_uploads WHERE bucket = \(name) LIMIT 1")
                if version != nil || upload != nil { throw notEmpty }
                try await db.execute("DELETE FROM buckets WHERE name = \(name)")
            }
        }
    }

    func setVersioning(_ state: VersioningState, bucket name: String) async throws -> Bucket {
        try await updateBucket(name, "UPDATE buckets SET versioning = \(state.rawValue) WHERE name = \(name)")
    }

    func setObjectLock(enabled: Bool, defaultRetention: DefaultRetention?, bucket name: String) async throws -> Bucket {
        var days: Int?
        var years: Int?
        switch defaultRetention?.period {
        case .days(let d)?: days = d
        case .years(let y)?: years = y
        case nil: break
        }
        return try await updateBucket(name, """
            UPDATE buckets SET object_lock_enabled = \(enabled),
                default_retention_mode = \(defaultRetention?.mode.rawValue),
                default_retention_days = \(days), default_retention_years = \(years)
            WHERE name = \(name)
            """)
    }

    private func updateBucket(_ name: String, _ update: SQL) async throws -> Bucket {
        defer { buckets.changed(name) }
        return try await engine.transaction { db in
            guard let row = try await db.first(update + " RETURNING \(sql: Rows.bucketColumns)") else {
                throw MetadataError.notFound("bucket \(name) does not exist")
            }
            return try Rows.bucket(row)
        }
    }
}
