import Foundation

extension SQLMetadataCore {
    /// Also removes the write intent of the upload's storage id (recorded before the backend
    /// uploads were started), or refuses when the reconciler reclaimed it.
    func createUpload(_ upload: MultipartUpload) async throws {
        guard !upload.uploadId.isEmpty, !upload.key.isEmpty, !upload.storageId.isEmpty else {
            throw MetadataError.invalid("upload id, key and storage id must not be empty")
        }
        let sql: SQL = """
            INSERT INTO multipart_uploads (\(sql: Rows.uploadColumns)) VALUES (
                \(upload.uploadId), \(upload.bucket), \(upload.key), \(upload.storageId), \(upload.backendKey),
                \(upload.initiatedAt), \(upload.initiator), \(sql: Self.headerValues(upload.headers)),
                \(JSONColumn.encode(upload.userMetadata)), \(JSONColumn.encode(upload.tags)),
                \(upload.checksumAlgorithm), \(upload.checksumType?.rawValue),
                \(sql: Self.placementValues(upload.placement)), \(JSONColumn.encode(upload.backendUploads)),
                \(upload.retention?.mode.rawValue), \(upload.retention?.retainUntil), \(upload.legalHold))
            """
        try await mapping(
            unique: MetadataError(.alreadyExists, "upload \(upload.uploadId) or its storage id already exists"),
            foreignKey: MetadataError.notFound("bucket \(upload.bucket) does not exist")
        ) {
            try await engine.transaction { db in
                if let intent = try await db.first("""
                    DELETE FROM write_intents WHERE storage_id = \(upload.storageId) RETURNING reclaimed_at
                    """), try intent.optionalDate("reclaimed_at") != nil {
                    throw MetadataError(.conflict, MetadataError.reclaimedWriteMessage)
                }
                try await db.execute(sql)
            }
        }
    }

    func upload(id: String) async throws -> MultipartUpload? {
        try await engine.pointRead { db in
            try await db.first("SELECT \(sql: Rows.uploadColumns) FROM multipart_uploads WHERE upload_id = \(id)").map(Rows.upload)
        }
    }

    func uploads(initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload] {
        let limit = try Self.checkLimit(limit, "limit")
        return try await engine.read { db in
            try await db.query("""
                SELECT \(sql: Rows.uploadColumns) FROM multipart_uploads WHERE initiated_at < \(date)
                ORDER BY initiated_at, upload_id LIMIT \(limit)
                """).map(Rows.upload)
        }
    }

    func putPart(_ part: MultipartPart) async throws -> MultipartPart? {
        guard (1...10_000).contains(part.partNumber) else { throw MetadataError.invalid("part number must be 1...10000") }
        let notFound = MetadataError.notFound("upload \(part.uploadId) does not exist")
        return try await mapping(foreignKey: notFound) {
            try await engine.transaction { db in
                guard try await db.first("""
                    SELECT upload_id FROM multipart_uploads WHERE upload_id = \(part.uploadId)\(sql: Self.forUpdate(db))
                    """) != nil else { throw notFound }
                let previous = try await db.first("""
                    SELECT \(sql: Rows.partColumns) FROM multipart_parts
                    WHERE upload_id = \(part.uploadId) AND part_number = \(part.partNumber)
                    """).map(Rows.part)
                try await db.execute("""
                    INSERT INTO multipart_parts (\(sql: Rows.partColumns)) VALUES (
                        \(part.uploadId), \(part.partNumber), \(part.size), \(part.etag),
                        \(JSONColumn.encode(part.checksums)), \(JSONColumn.encode(part.backendETags)), \(part.createdAt))
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET
                        size = excluded.size, etag = excluded.etag, checksums = excluded.checksums,
                        backend_etags = excluded.backend_etags, created_at = excluded.created_at
                    """)
                return previous
            }
        }
    }

    func listParts(uploadId: String, partNumberMarker: Int?, maxParts: Int) async throws -> PartListing {
        let maxParts = try Self.checkLimit(maxParts, "maxParts")
        return try await engine.snapshot { db in
            guard try await db.first("SELECT upload_id FROM multipart_uploads WHERE upload_id = \(uploadId)") != nil else {
                throw MetadataError.notFound("upload \(uploadId) does not exist")
            }
            guard maxParts > 0 else { return PartListing(parts: [], isTruncated: false, nextPartNumberMarker: nil) }
            var parts = try await db.query("""
                SELECT \(sql: Rows.partColumns) FROM multipart_parts
                WHERE upload_id = \(uploadId) AND part_number > \(partNumberMarker ?? 0)
                ORDER BY part_number LIMIT \(maxParts + 1)
                """).map(Rows.part)
            let isTruncated = parts.count > maxParts
            if isTruncated { parts.removeLast() }
            return PartListing(parts: parts, isTruncated: isTruncated, nextPartNumberMarker: isTruncated ? parts.last?.partNumber : nil)
        }
    }

    func completeUpload(id: String, commit: VersionCommit) async throws -> CommitResult {
        try Self.validate(commit.version)
        return try await mapping(
            unique: MetadataError(.alreadyExists, "storage id \(commit.version.storageId) is already used"),
            foreignKey: MetadataError.notFound("bucket \(commit.version.bucket) does not exist")
        ) {
            try await engine.transaction { db in
                try await Self.lockKey(db, bucket: commit.version.bucket, key: commit.version.key)
                guard let row = try await db.first("""
                    DELETE FROM multipart_uploads WHERE upload_id = \(id) RETURNING \(sql: Rows.uploadColumns)
                    """) else {
                    throw MetadataError.notFound("upload \(id) does not exist")
                }
                let upload = try Rows.upload(row)
                guard upload.bucket == commit.version.bucket, upload.key == commit.version.key,
                      upload.storageId == commit.version.storageId
                else { throw MetadataError.invalid("the version does not belong to upload \(id)") }
                try await db.execute("DELETE FROM multipart_parts WHERE upload_id = \(id)")
                var result = try await Self.commit(commit, in: db)
                let completed = Set(commit.replicas.filter { $0.status == .complete }.map(\.zone))
                result.abortJobs = try await Self.insertJobs(
                    Self.abortJobs(upload, zones: upload.backendUploads.keys.filter { !completed.contains($0) }),
                    now: commit.version.createdAt, in: db)
                return result
            }
        }
    }

    func abortUpload(id: String) async throws -> AbortedUpload {
        try await engine.transaction { db in
            let parts = try await db.query("""
                SELECT \(sql: Rows.partColumns) FROM multipart_parts WHERE upload_id = \(id) ORDER BY part_number
                """).map(Rows.part)
            try await db.execute("DELETE FROM multipart_parts WHERE upload_id = \(id)")
            guard let row = try await db.first("""
                DELETE FROM multipart_uploads WHERE upload_id = \(id) RETURNING \(sql: Rows.uploadColumns)
                """) else {
                throw MetadataError.notFound("upload \(id) does not exist")
            }
            let upload = try Rows.upload(row)
            let jobs = try await Self.insertJobs(Self.abortJobs(upload, zones: Array(upload.backendUploads.keys)), now: Date(), in: db)
            return AbortedUpload(upload: upload, parts: parts, jobs: jobs)
        }
    }

    /// Due a minute from now: the gateway that queued them runs them at once and marks them
    /// done; the replication worker takes over only what that left (a zone was down, a crash).
    static func abortJobs(_ upload: MultipartUpload, zones: [String]) -> [NewSyncJob] {
        zones.sorted().map {
            NewSyncJob(kind: .abortUpload, storageId: upload.storageId, zone: $0, bucket: upload.bucket, key: upload.key,
                       backendKey: upload.backendKey, notBefore: Date().addingTimeInterval(60))
        }
    }
}
