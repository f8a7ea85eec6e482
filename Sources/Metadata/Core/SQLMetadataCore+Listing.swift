import Foundation

extension SQLMetadataCore {
    func listObjects(_ request: ListObjectsRequest) async throws -> ObjectListing {
        let maxKeys = try Self.checkLimit(request.maxKeys, "maxKeys")
        let scan = KeyScan<ObjectVersion, String>(
            prefix: request.prefix, delimiter: request.delimiter,
            key: \.key, cursor: \.key, cursorKey: { $0 }
        )
        let bucket = request.bucket
        let (entries, isTruncated) = try await engine.snapshot { db in
            try await Self.requireBucket(bucket, in: db)
            return try await scan.run(from: request.startAfter.map { .after($0) }, maxEntries: maxKeys) { position, upper, limit in
                let lower: KeyBound
                switch position {
                case .from(let bound): lower = bound
                case .after(let key): lower = KeyBound(key: key, inclusive: false)
                }
                // Served by the partial index object_versions_visible (bucket, key).
                return try await db.query("""
                    SELECT \(sql: Rows.versionColumns) FROM object_versions
                    WHERE bucket = \(bucket) AND is_latest AND NOT is_delete_marker
                        AND \(sql: lower.condition())\(sql: upperCondition(upper))
                    ORDER BY key LIMIT \(limit)
                    """).map(Rows.version)
            }
        }
        let page = scan.page(entries, isTruncated: isTruncated)
        return ObjectListing(objects: page.items, commonPrefixes: page.commonPrefixes, isTruncated: isTruncated,
                             nextMarker: page.nextKeyMarker)
    }

    func listVersions(_ request: ListVersionsRequest) async throws -> VersionListing {
        let maxKeys = try Self.checkLimit(request.maxKeys, "maxKeys")
        struct Cursor: Sendable {
            var key: String
            var sequence: Int64
        }
        let scan = KeyScan<ObjectVersion, Cursor>(
            prefix: request.prefix, delimiter: request.delimiter,
            key: \.key, cursor: { Cursor(key: $0.key, sequence: $0.sequence) }, cursorKey: \.key
        )
        let bucket = request.bucket
        let (entries, isTruncated) = try await engine.snapshot { db in
            try await Self.requireBucket(bucket, in: db)
            var start: KeyScan<ObjectVersion, Cursor>.Position?
            if let keyMarker = request.keyMarker, !keyMarker.isEmpty {
                start = .from(KeyBound(key: keyMarker, inclusive: false))
                if let versionIdMarker = request.versionIdMarker, !versionIdMarker.isEmpty {
                    guard let row = try await db.first("""
                        SELECT seq FROM object_versions
                        WHERE bucket = \(bucket) AND key = \(keyMarker) AND version_id = \(versionIdMarker)
                        """) else {
                        throw MetadataError.invalid("version-id-marker does not match a version of key-marker")
                    }
                    start = .after(Cursor(key: keyMarker, sequence: try row.int("seq")))
                }
            }
            return try await scan.run(from: start, maxEntries: maxKeys) { position, upper, limit in
                var rows: [ObjectVersion] = []
                let lower: KeyBound
                switch position {
                case .from(let bound):
                    lower = bound
                case .after(let cursor):
                    // The rest of the cursor's key (older versions), then the following keys.
                    rows = try await db.query("""
                        SELECT \(sql: Rows.versionColumns) FROM object_versions
                        WHERE bucket = \(bucket) AND key = \(cursor.key) AND seq < \(cursor.sequence)
                        ORDER BY seq DESC LIMIT \(limit)
                        """).map(Rows.version)
                    if rows.count >= limit { return rows }
                    lower = KeyBound(key: cursor.key, inclusive: false)
                }
                rows += try await db.query("""
                    SELECT \(sql: Rows.versionColumns) FROM object_versions
                    WHERE bucket = \(bucket) AND \(sql: lower.condition())\(sql: upperCondition(upper))
                    ORDER BY key, seq DESC LIMIT \(limit - rows.count)
                    """).map(Rows.version)
                return rows
            }
        }
        let page = scan.page(entries, isTruncated: isTruncated)
        return VersionListing(versions: page.items, commonPrefixes: page.commonPrefixes, isTruncated: isTruncated,
                              nextKeyMarker: page.nextKeyMarker, nextVersionIdMarker: page.lastItem?.versionId)
    }

    func listUploads(_ request: ListUploadsRequest) async throws -> UploadListing {
        let maxUploads = try Self.checkLimit(request.maxUploads, "maxUploads")
        struct Cursor: Sendable {
            var key: String
            var initiatedAt: Date
            var uploadId: String
        }
        let scan = KeyScan<MultipartUpload, Cursor>(
            prefix: request.prefix, delimiter: request.delimiter, key: \.key,
            cursor: { Cursor(key: $0.key, initiatedAt: $0.initiatedAt, uploadId: $0.uploadId) }, cursorKey: \.key
        )
        let bucket = request.bucket
        let (entries, isTruncated) = try await engine.snapshot { db in
            try await Self.requireBucket(bucket, in: db)
            var start: KeyScan<MultipartUpload, Cursor>.Position?
            if let keyMarker = request.keyMarker, !keyMarker.isEmpty {
                start = .from(KeyBound(key: keyMarker, inclusive: false))
                if let uploadIdMarker = request.uploadIdMarker, !uploadIdMarker.isEmpty,
                   let row = try await db.first("""
                       SELECT initiated_at FROM multipart_uploads
                       WHERE bucket = \(bucket) AND key = \(keyMarker) AND upload_id = \(uploadIdMarker)
                       """) {
                    start = .after(Cursor(key: keyMarker, initiatedAt: try row.date("initiated_at"), uploadId: uploadIdMarker))
                }
            }
            return try await scan.run(from: start, maxEntries: maxUploads) { position, upper, limit in
                var rows: [MultipartUpload] = []
                let lower: KeyBound
                switch position {
                case .from(let bound):
                    lower = bound
                case .after(let cursor):
                    rows = try await db.query("""
                        SELECT \(sql: Rows.uploadColumns) FROM multipart_uploads
                        WHERE bucket = \(bucket) AND key = \(cursor.key)
                            AND (initiated_at > \(cursor.initiatedAt)
                                 OR (initiated_at = \(cursor.initiatedAt) AND upload_id > \(cursor.uploadId)))
                        ORDER BY initiated_at, upload_id LIMIT \(limit)
                        """).map(Rows.upload)
                    if rows.count >= limit { return rows }
                    lower = KeyBound(key: cursor.key, inclusive: false)
                }
                rows += try await db.query("""
                    SELECT \(sql: Rows.uploadColumns) FROM multipart_uploads
                    WHERE bucket = \(bucket) AND \(sql: lower.condition())\(sql: upperCondition(upper))
                    ORDER BY key, initiated_at, upload_id LIMIT \(limit - rows.count)
                    """).map(Rows.upload)
                return rows
            }
        }
        let page = scan.page(entries, isTruncated: isTruncated)
        return UploadListing(uploads: page.items, commonPrefixes: page.commonPrefixes, isTruncated: isTruncated,
                             nextKeyMarker: page.nextKeyMarker, nextUploadIdMarker: page.lastItem?.uploadId)
    }
}

extension SQLMetadataCore {
    /// Listings of a bucket that does not exist fail (S3 `NoSuchBucket`) instead of being empty.
    static func requireBucket(_ name: String, in db: any SQLExecutor) async throws {
        guard try await db.first("SELECT name FROM buckets WHERE name = \(name)") != nil else {
            throw MetadataError.notFound("bucket \(name) does not exist")
        }
    }
}
