import Foundation

/// Column lists and row decoding for every table.
enum Rows {
    static func enumValue<E: RawRepresentable>(_ type: E.Type, _ raw: String, _ column: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: raw) else {
            throw MetadataError(.internal, "unexpected database result", details: "column \(column) has unknown value \(raw)")
        }
        return value
    }

    static func optionalEnum<E: RawRepresentable>(_ type: E.Type, _ raw: String?, _ column: String) throws -> E? where E.RawValue == String {
        guard let raw else { return nil }
        return try enumValue(type, raw, column)
    }

    // MARK: Buckets

    static let bucketColumns: SQL = """
        name, created_at, owner, region, versioning, object_lock_enabled,
        default_retention_mode, default_retention_days, default_retention_years
        """

    static func bucket(_ row: SQLRow) throws -> Bucket {
        var retention: DefaultRetention?
        if let mode = try optionalEnum(RetentionMode.self, row.optionalString("default_retention_mode"), "default_retention_mode") {
            if let days = try row.optionalInt("default_retention_days") {
                retention = DefaultRetention(mode: mode, period: .days(Int(days)))
            } else if let years = try row.optionalInt("default_retention_years") {
                retention = DefaultRetention(mode: mode, period: .years(Int(years)))
            }
        }
        return Bucket(
            name: try row.string("name"),
            createdAt: try row.date("created_at"),
            owner: try row.string("owner"),
            region: try row.string("region"),
            versioning: try enumValue(VersioningState.self, row.string("versioning"), "versioning"),
            objectLockEnabled: try row.bool("object_lock_enabled"),
            defaultRetention: retention
        )
    }

    // MARK: Versions

    static let versionColumns: SQL = """
        seq, storage_id, bucket, key, version_id, is_latest, is_delete_marker, size, etag,
        content_type, cache_control, content_disposition, content_encoding, content_language, expires,
        user_metadata, tags, checksums, checksum_type, parts_count, created_at, policy_set_hash,
        residency_policies, replication_policy, planned_zones, required_copies, write_quorum,
        replication_deadline, retention_mode, retain_until, legal_hold
        """

    static func headers(_ row: SQLRow) throws -> ObjectHeaders {
        ObjectHeaders(
            contentType: try row.optionalString("content_type"),
            cacheControl: try row.optionalString("cache_control"),
            contentDisposition: try row.optionalString("content_disposition"),
            contentEncoding: try row.optionalString("content_encoding"),
            contentLanguage: try row.optionalString("content_language"),
            expires: try row.optionalString("expires")
        )
    }

    static func placement(_ row: SQLRow) throws -> PlacementInfo {
        PlacementInfo(
            policySetHash: try row.optionalString("policy_set_hash"),
            residencyPolicies: try row.json([String].self, "residency_policies"),
            replicationPolicy: try row.optionalString("replication_policy"),
            plannedZones: try row.json([String].self, "planned_zones"),
            requiredCopies: Int(try row.int("required_copies")),
            writeQuorum: Int(try row.int("write_quorum")),
            replicationDeadline: try row.optionalDate("replication_deadline")
        )
    }

    static func retention(_ row: SQLRow) throws -> ObjectRetention? {
        guard let mode = try optionalEnum(RetentionMode.self, row.optionalString("retention_mode"), "retention_mode"),
              let until = try row.optionalDate("retain_until")
        else { return nil }
        return ObjectRetention(mode: mode, retainUntil: until)
    }

    static func version(_ row: SQLRow) throws -> ObjectVersion {
        ObjectVersion(
            storageId: try row.string("storage_id"),
            versionId: try row.string("version_id"),
            bucket: try row.string("bucket"),
            key: try row.string("key"),
            sequence: try row.int("seq"),
            isLatest: try row.bool("is_latest"),
            isDeleteMarker: try row.bool("is_delete_marker"),
            size: try row.int("size"),
            etag: try row.string("etag"),
            headers: try headers(row),
            userMetadata: try row.json([String: String].self, "user_metadata"),
            tags: try row.json([ObjectTag].self, "tags"),
            checksums: ObjectChecksums(
                try row.json([String: String].self, "checksums"),
                type: try optionalEnum(ChecksumType.self, row.optionalString("checksum_type"), "checksum_type")
            ),
            partsCount: try row.optionalInt("parts_count").map { Int($0) },
            createdAt: try row.date("created_at"),
            placement: try placement(row),
            retention: try retention(row),
            legalHold: try row.bool("legal_hold")
        )
    }

    // MARK: Replicas

    static let replicaColumns: SQL = """
        storage_id, zone, status, backend_key, size, etag, checksum, updated_at, last_error
        """

    static func replica(_ row: SQLRow) throws -> Replica {
        try replica(row, prefix: "")
    }

    /// A replica from ``replicaColumns``, each named with `prefix` in front (for a join).
    static func replica(_ row: SQLRow, prefix: String) throws -> Replica {
        Replica(
            storageId: try row.string(prefix + "storage_id"),
            zone: try row.string(prefix + "zone"),
            status: try enumValue(ReplicaStatus.self, row.string(prefix + "status"), "status"),
            backendKey: try row.string(prefix + "backend_key"),
            size: try row.int(prefix + "size"),
            etag: try row.optionalString(prefix + "etag"),
            checksum: try row.optionalString(prefix + "checksum"),
            updatedAt: try row.date(prefix + "updated_at"),
            lastError: try row.optionalString(prefix + "last_error")
        )
    }

    static func replicaValues(_ r: Replica) -> SQL {
        """
        (\(r.storageId), \(r.zone), \(r.status.rawValue), \(r.backendKey), \(r.size), \(r.etag), \
        \(r.checksum), \(r.updatedAt), \(r.lastError))
        """
    }

    // MARK: Jobs

    static let jobColumns: SQL = """
        id, kind, storage_id, zone, source_zone, bucket, key, backend_key, attempts, not_before,
        deadline, status, last_error, claimed_by, claimed_at, lease_until, created_at, updated_at
        """

    static func job(_ row: SQLRow) throws -> SyncJob {
        SyncJob(
            id: try row.int("id"),
            kind: try enumValue(SyncJobKind.self, row.string("kind"), "kind"),
            storageId: try row.string("storage_id"),
            zone: try row.string("zone"),
            sourceZone: try row.optionalString("source_zone"),
            bucket: try row.string("bucket"),
            key: try row.string("key"),
            backendKey: try row.string("backend_key"),
            attempts: Int(try row.int("attempts")),
            notBefore: try row.date("not_before"),
            deadline: try row.optionalDate("deadline"),
            status: try enumValue(SyncJobStatus.self, row.string("status"), "status"),
            lastError: try row.optionalString("last_error"),
            claimedBy: try row.optionalString("claimed_by"),
            claimedAt: try row.optionalDate("claimed_at"),
            leaseUntil: try row.optionalDate("lease_until"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }

    // MARK: Intents

    static let intentColumns: SQL = "storage_id, bucket, key, zones, backend_key, created_at"

    static func intent(_ row: SQLRow) throws -> WriteIntent {
        WriteIntent(
            storageId: try row.string("storage_id"),
            bucket: try row.string("bucket"),
            key: try row.string("key"),
            zones: try row.json([String].self, "zones"),
            backendKey: try row.string("backend_key"),
            createdAt: try row.date("created_at")
        )
    }

    // MARK: Multipart

    static let uploadColumns: SQL = """
        upload_id, bucket, key, storage_id, backend_key, initiated_at, initiator,
        content_type, cache_control, content_disposition, content_encoding, content_language, expires,
        user_metadata, tags, checksum_algorithm, checksum_type, policy_set_hash, residency_policies,
        replication_policy, planned_zones, required_copies, write_quorum, replication_deadline,
        backend_uploads, retention_mode, retain_until, legal_hold
        """

    static func upload(_ row: SQLRow) throws -> MultipartUpload {
        MultipartUpload(
            uploadId: try row.string("upload_id"),
            bucket: try row.string("bucket"),
            key: try row.string("key"),
            storageId: try row.string("storage_id"),
            backendKey: try row.string("backend_key"),
            initiatedAt: try row.date("initiated_at"),
            initiator: try row.string("initiator"),
            headers: try headers(row),
            userMetadata: try row.json([String: String].self, "user_metadata"),
            tags: try row.json([ObjectTag].self, "tags"),
            checksumAlgorithm: try row.optionalString("checksum_algorithm"),
            checksumType: try optionalEnum(ChecksumType.self, row.optionalString("checksum_type"), "checksum_type"),
            placement: try placement(row),
            backendUploads: try row.json([String: String].self, "backend_uploads"),
            retention: try retention(row),
            legalHold: try row.bool("legal_hold")
        )
    }

    static let partColumns: SQL = "upload_id, part_number, size, etag, checksums, backend_etags, created_at"

    static func part(_ row: SQLRow) throws -> MultipartPart {
        MultipartPart(
            uploadId: try row.string("upload_id"),
            partNumber: Int(try row.int("part_number")),
            size: try row.int("size"),
            etag: try row.string("etag"),
            checksums: try row.json([String: String].self, "checksums"),
            backendETags: try row.json([String: String].self, "backend_etags"),
            createdAt: try row.date("created_at")
        )
    }

    // MARK: Catalog and log

    static let providerColumns: SQL = "zone_code, provider_name, country_code, region_city, endpoint, flags"

    static func provider(_ row: SQLRow) throws -> ProviderRecord {
        ProviderRecord(
            zoneCode: try row.string("zone_code"),
            providerName: try row.string("provider_name"),
            countryCode: try row.string("country_code"),
            regionCity: try row.string("region_city"),
            endpoint: try row.string("endpoint"),
            flags: try row.json([String: String].self, "flags")
        )
    }

    static let logColumns: SQL = """
        id, created_at, request_id, principal, operation, bucket, key, version_id, http_status, zones,
        policy_set_hash, bytes, duration_ms, detail
        """

    static func logEntry(_ row: SQLRow) throws -> OperationLogEntry {
        OperationLogEntry(
            id: try row.int("id"),
            time: try row.date("created_at"),
            requestId: try row.string("request_id"),
            principal: try row.optionalString("principal"),
            operation: try row.string("operation"),
            bucket: try row.optionalString("bucket"),
            key: try row.optionalString("key"),
            versionId: try row.optionalString("version_id"),
            httpStatus: Int(try row.int("http_status")),
            zones: try row.json([String].self, "zones"),
            policySetHash: try row.optionalString("policy_set_hash"),
            bytes: try row.int("bytes"),
            durationMs: try row.int("duration_ms"),
            detail: try row.optionalString("detail")
        )
    }
}
