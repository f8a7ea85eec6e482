/// The schema, written once with the few type words that differ per dialect.
///
/// Keys and bucket names sort by bytes: PostgreSQL columns are `COLLATE "C"`, SQLite uses its
/// default `BINARY` collation. Dates are `timestamptz` / INTEGER microseconds (see ``SQLTime``).
/// Migrations are append-only: never edit a shipped one, add the next version.
enum Schema {
    struct Migration {
        var version: Int
        var statements: [String]
    }

    static func migrations(_ dialect: SQLDialect) -> [Migration] {
        let t = Types(dialect)
        return [
            Migration(version: 1, statements: [
                """
                CREATE TABLE buckets (
                    name \(t.key) PRIMARY KEY,
                    created_at \(t.time) NOT NULL,
                    owner TEXT NOT NULL,
                    region TEXT NOT NULL,
                    versioning TEXT NOT NULL,
                    object_lock_enabled \(t.bool) NOT NULL,
                    default_retention_mode TEXT,
                    default_retention_days \(t.int),
                    default_retention_years \(t.int)
                )\(t.strict)
                """,
                """
                CREATE TABLE object_versions (
                    seq \(t.identity),
                    storage_id TEXT NOT NULL UNIQUE,
                    bucket \(t.key) NOT NULL REFERENCES buckets (name),
                    key \(t.key) NOT NULL,
                    version_id TEXT NOT NULL,
                    is_latest \(t.bool) NOT NULL,
                    is_delete_marker \(t.bool) NOT NULL,
                    size \(t.int) NOT NULL,
                    etag TEXT NOT NULL,
                    content_type TEXT,
                    cache_control TEXT,
                    content_disposition TEXT,
                    content_encoding TEXT,
                    content_language TEXT,
                    expires TEXT,
                    user_metadata TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    checksums TEXT NOT NULL,
                    checksum_type TEXT,
                    parts_count \(t.int),
                    created_at \(t.time) NOT NULL,
                    policy_set_hash TEXT,
                    residency_policies TEXT NOT NULL,
                    replication_policy TEXT,
                    planned_zones TEXT NOT NULL,
                    required_copies \(t.int) NOT NULL,
                    write_quorum \(t.int) NOT NULL,
                    replication_deadline \(t.time),
                    complete_copies \(t.int) NOT NULL,
                    retention_mode TEXT,
                    retain_until \(t.time),
                    legal_hold \(t.bool) NOT NULL,
                    UNIQUE (bucket, key, version_id)
                )\(t.strict)
                """,
                "CREATE INDEX object_versions_key_seq ON object_versions (bucket, key, seq DESC)",
                "CREATE UNIQUE INDEX object_versions_latest ON object_versions (bucket, key) WHERE is_latest",
                """
                CREATE INDEX object_versions_visible ON object_versions (bucket, key)
                WHERE is_latest AND NOT is_delete_marker
                """,
                """
                CREATE INDEX object_versions_under_replicated ON object_versions (seq)
                WHERE NOT is_delete_marker AND complete_copies < required_copies
                """,
                """
                CREATE TABLE object_replicas (
                    storage_id TEXT NOT NULL,
                    zone TEXT NOT NULL,
                    status TEXT NOT NULL,
                    backend_key TEXT NOT NULL,
                    size \(t.int) NOT NULL,
                    etag TEXT,
                    checksum TEXT,
                    updated_at \(t.time) NOT NULL,
                    last_error TEXT,
                    PRIMARY KEY (storage_id, zone)
                )\(t.strict)
                """,
                """
                CREATE TABLE sync_jobs (
                    id \(t.identity),
                    kind TEXT NOT NULL,
                    storage_id TEXT NOT NULL,
                    zone TEXT NOT NULL,
                    source_zone TEXT,
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    backend_key TEXT NOT NULL,
                    attempts \(t.int) NOT NULL,
                    not_before \(t.time) NOT NULL,
                    deadline \(t.time),
                    status TEXT NOT NULL,
                    last_error TEXT,
                    claimed_by TEXT,
                    claimed_at \(t.time),
                    lease_until \(t.time),
                    created_at \(t.time) NOT NULL,
                    updated_at \(t.time) NOT NULL
                )\(t.strict)
                """,
                "CREATE INDEX sync_jobs_queued ON sync_jobs (not_before, id) WHERE status = 'queued'",
                "CREATE INDEX sync_jobs_running ON sync_jobs (lease_until) WHERE status = 'running'",
                """
                CREATE INDEX sync_jobs_deadline ON sync_jobs (deadline)
                WHERE deadline IS NOT NULL AND status <> 'done'
                """,
                "CREATE INDEX sync_jobs_storage ON sync_jobs (storage_id, zone)",
                "CREATE INDEX sync_jobs_status ON sync_jobs (status)",
                """
                CREATE TABLE write_intents (
                    storage_id TEXT PRIMARY KEY,
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    zones TEXT NOT NULL,
                    backend_key TEXT NOT NULL,
                    created_at \(t.time) NOT NULL
                )\(t.strict)
                """,
                "CREATE INDEX write_intents_created ON write_intents (created_at)",
                """
                CREATE TABLE multipart_uploads (
                    upload_id \(t.key) PRIMARY KEY,
                    bucket \(t.key) NOT NULL REFERENCES buckets (name),
                    key \(t.key) NOT NULL,
                    storage_id TEXT NOT NULL UNIQUE,
                    backend_key TEXT NOT NULL,
                    initiated_at \(t.time) NOT NULL,
                    initiator TEXT NOT NULL,
                    content_type TEXT,
                    cache_control TEXT,
                    content_disposition TEXT,
                    content_encoding TEXT,
                    content_language TEXT,
                    expires TEXT,
                    user_metadata TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    checksum_algorithm TEXT,
                    checksum_type TEXT,
                    policy_set_hash TEXT,
                    residency_policies TEXT NOT NULL,
                    replication_policy TEXT,
                    planned_zones TEXT NOT NULL,
                    required_copies \(t.int) NOT NULL,
                    write_quorum \(t.int) NOT NULL,
                    replication_deadline \(t.time),
                    backend_uploads TEXT NOT NULL,
                    retention_mode TEXT,
                    retain_until \(t.time),
                    legal_hold \(t.bool) NOT NULL
                )\(t.strict)
                """,
                "CREATE INDEX multipart_uploads_key ON multipart_uploads (bucket, key, initiated_at, upload_id)",
                """
                CREATE TABLE multipart_parts (
                    upload_id \(t.key) NOT NULL REFERENCES multipart_uploads (upload_id) ON DELETE CASCADE,
                    part_number \(t.int) NOT NULL,
                    size \(t.int) NOT NULL,
                    etag TEXT NOT NULL,
                    checksums TEXT NOT NULL,
                    backend_etags TEXT NOT NULL,
                    created_at \(t.time) NOT NULL,
                    PRIMARY KEY (upload_id, part_number)
                )\(t.strict)
                """,
                """
                CREATE TABLE providers (
                    zone_code \(t.key) PRIMARY KEY,
                    provider_name TEXT NOT NULL,
                    country_code TEXT NOT NULL,
                    region_city TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    flags TEXT NOT NULL
                )\(t.strict)
                """,
                """
                CREATE TABLE replication_rules (
                    hash TEXT PRIMARY KEY,
                    summary TEXT NOT NULL,
                    loaded_at \(t.time) NOT NULL
                )\(t.strict)
                """,
                """
                CREATE TABLE operations_log (
                    id \(t.identity),
                    logged_at \(t.time) NOT NULL,
                    request_id TEXT NOT NULL,
                    principal TEXT,
                    operation TEXT NOT NULL,
                    bucket \(t.key),
                    key \(t.key),
                    version_id TEXT,
                    http_status \(t.int) NOT NULL,
                    zones TEXT NOT NULL,
                    policy_set_hash TEXT,
                    bytes \(t.int) NOT NULL,
                    duration_ms \(t.int) NOT NULL,
                    detail TEXT
                )\(t.strict)
                """,
                "CREATE INDEX operations_log_time ON operations_log (logged_at)",
                "CREATE INDEX operations_log_bucket ON operations_log (bucket, key)",
                "CREATE INDEX operations_log_operation ON operations_log (operation, id)",
            ]),
            // The reconciler claims a stale intent (`reclaimed_at`) before it deletes the
            // intent's backend objects, so that a write still in flight cannot commit over
            // deleted data; `cleaned_at` records that the deletes are done (a tombstone kept
            // for a while, so a very late commit still finds the claim).
            Migration(version: 2, statements: [
                "ALTER TABLE write_intents ADD COLUMN reclaimed_at \(t.time)",
                "ALTER TABLE write_intents ADD COLUMN cleaned_at \(t.time)",
            ]),
            // Fewer pages per PUT. write_intents holds only the writes in flight and a few
            // tombstones, so its scans need no index on created_at; on SQLite, the intents and
            // the replicas become WITHOUT ROWID tables, stored in their primary key's b-tree
            // instead of a table plus an index of the key (each change writes one page, not
            // two, to the WAL).
            Migration(version: 3, statements: dialect == .postgres ? [
                "DROP INDEX write_intents_created",
            ] : [
                """
                CREATE TABLE write_intents_v3 (
                    storage_id TEXT PRIMARY KEY,
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    zones TEXT NOT NULL,
                    backend_key TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    reclaimed_at INTEGER,
                    cleaned_at INTEGER
                ) STRICT, WITHOUT ROWID
                """,
                """
                INSERT INTO write_intents_v3
                SELECT storage_id, bucket, key, zones, backend_key, created_at, reclaimed_at, cleaned_at FROM write_intents
                """,
                "DROP TABLE write_intents",
                "ALTER TABLE write_intents_v3 RENAME TO write_intents",
                """
                CREATE TABLE object_replicas_v3 (
                    storage_id TEXT NOT NULL,
                    zone TEXT NOT NULL,
                    status TEXT NOT NULL,
                    backend_key TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    etag TEXT,
                    checksum TEXT,
                    updated_at INTEGER NOT NULL,
                    last_error TEXT,
                    PRIMARY KEY (storage_id, zone)
                ) STRICT, WITHOUT ROWID
                """,
                """
                INSERT INTO object_replicas_v3
                SELECT storage_id, zone, status, backend_key, size, etag, checksum, updated_at, last_error FROM object_replicas
                """,
                "DROP TABLE object_replicas",
                "ALTER TABLE object_replicas_v3 RENAME TO object_replicas",
            ]),
            // The original service's documented queries work on this schema:
            //   SELECT * FROM operations_log ORDER BY created_at DESC LIMIT 10;
            //   SELECT object_key, current_replica_count, required_replica_count, sync_status
            //   FROM objects ORDER BY created_at DESC LIMIT 10;
            // The log's time column takes the original's name (a rename changes no row and
            // keeps its index); `objects` is a view of the current object versions, computed
            // when read, so a write stores nothing more than before.
            Migration(version: 4, statements: [
                "ALTER TABLE operations_log RENAME COLUMN logged_at TO created_at",
                """
                CREATE VIEW objects AS
                SELECT v.seq AS id, v.bucket, v.key AS object_key, v.version_id, v.storage_id, v.size, v.etag,
                       v.content_type,
                       v.complete_copies AS current_replica_count,
                       v.required_copies AS required_replica_count,
                       CASE
                           WHEN v.complete_copies >= v.required_copies THEN 'synced'
                           WHEN EXISTS (SELECT 1 FROM object_replicas r
                                        WHERE r.storage_id = v.storage_id AND r.status = 'failed') THEN 'failed'
                           ELSE 'pending'
                       END AS sync_status,
                       v.planned_zones, v.policy_set_hash, v.replication_policy,
                       v.retention_mode, v.retain_until, v.legal_hold,
                       v.created_at
                FROM object_versions v
                WHERE v.is_latest AND NOT v.is_delete_marker
                """,
            ]),
            // Background work that one instance does for all of them (replica verification):
            // who runs it now, until when, and when it last ended.
            Migration(version: 5, statements: [
                """
                CREATE TABLE service_runs (
                    name \(t.key) PRIMARY KEY,
                    holder TEXT,
                    lease_until \(t.time),
                    last_started_at \(t.time),
                    last_ended_at \(t.time)
                )\(t.strict)
                """,
            ]),
            // The operations log becomes tamper-evident: a sealer chains the entries in the
            // order it seals them (`seal_seq`), each `seal_hash` covering the entry and the hash
            // before it. On PostgreSQL, `xact` (the inserting transaction) lets the sealer take
            // only entries whose transaction has ended, so an entry that commits late is sealed
            // in a later batch instead of being skipped. Older gateways insert as before.
            // Both indexes leave out the rows a write inserts (no seal yet), so a write touches
            // no more index pages than before. SQLite commits one writer at a time in id order,
            // so its unsealed entries are those after the last sealed id and need no index.
            Migration(version: 6, statements: [
                "ALTER TABLE operations_log ADD COLUMN seal_seq \(t.int)",
                "ALTER TABLE operations_log ADD COLUMN seal_hash TEXT",
                "CREATE UNIQUE INDEX operations_log_seal ON operations_log (seal_seq) WHERE seal_seq IS NOT NULL",
            ] + (dialect == .postgres ? [
                "ALTER TABLE operations_log ADD COLUMN xact xid8 DEFAULT pg_current_xact_id()",
                "CREATE INDEX operations_log_unsealed ON operations_log (id) WHERE seal_seq IS NULL",
            ] : [])),
        ]
    }

    /// Column types per dialect.
    private struct Types {
        let key: String
        let time: String
        let bool: String
        let int: String
        let identity: String
        let strict: String

        init(_ dialect: SQLDialect) {
            switch dialect {
            case .postgres:
                key = "TEXT COLLATE \"C\""
                time = "TIMESTAMPTZ"
                bool = "BOOLEAN"
                int = "BIGINT"
                identity = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                strict = ""
            case .sqlite:
                key = "TEXT"
                time = "INTEGER"
                bool = "INTEGER"
                int = "INTEGER"
                identity = "INTEGER PRIMARY KEY AUTOINCREMENT"
                strict = " STRICT"
            }
        }
    }
}
