import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Metadata
import NIOCore
import PolicyEngine
import Prometheus
import S3Protocol

/// The management port: the original service's JSON endpoints, guarded by the admin token
/// (except `/health`), and the S3 API under `/s3/`.
struct ManagementResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let state: GatewayState
    let s3: S3Responder

    init(state: GatewayState) {
        self.state = state
        self.s3 = S3Responder(state: state, prefix: "/s3")
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/s3" || path.hasPrefix("/s3/") {
            return try await s3.respond(to: request, context: context)
        }
        if path != "/health", let token = state.configuration.adminToken, !token.isEmpty {
            guard Self.authorizes(request.headers[.authorization], token: token) else {
                return Self.json(.object([("error", "unauthorized"), ("message", "send Authorization: Bearer <GATEWAY_ADMIN_TOKEN>")]),
                                 status: .unauthorized)
            }
        }
        do {
            switch (request.method, path) {
            case (.get, "/health"): return try await health()
            case (.get, "/providers"): return providers()
            case (.get, "/backends"): return backends()
            case (.get, "/bucket-config"): return bucketConfig()
            case (.post, "/initialize-bucket"): return try await initializeBucket()
            case (.get, "/api/replicas/status"): return try await replicaStatus(request)
            case (.get, "/api/operations/log"): return try await operationsLog(request)
            case (.get, "/api/operations/log/verify"): return try await verifyOperationsLog(request)
            case (.get, "/api/operations/log/export"): return try await exportOperationsLog(request)
            case (.get, "/api/plan"): return try plan(request)
            case (.get, "/api/policies"): return currentPolicies()
            case (.post, "/api/policies/reload"): return await reloadPolicies()
            case (.post, "/api/metadata/backup"): return try await backupMetadata()
            case (.get, "/api/residency/report"): return try await residencyReport(request)
            case (.post, "/api/residency/remediate"): return try await remediateResidency(request)
            case (.get, "/metrics"): return metrics()
            default:
                return Self.json(.object([("error", "not found"), ("path", .string(path))]), status: .notFound)
            }
        } catch let error as MetadataError where error.code == .unavailable {
            return Self.json(.object([("error", "metadata store unavailable")]), status: .serviceUnavailable)
        }
    }

    /// Whether `Authorization` is `Bearer TOKEN`. The SHA-256 digests are compared, in constant
    /// time, so that neither the token's bytes nor its length can be found by timing answers.
    static func authorizes(_ authorization: String?, token: String) -> Bool {
        let given = SHA256.hash(data: Array((authorization ?? "").utf8))
        let expected = SHA256.hash(data: Array(("Bearer " + token).utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let text = value.serialized() + "\n"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func health() async throws -> Response {
        var database = "ok"
        do { try await state.store.ping() } catch { database = "unavailable: \(error)" }
        // Before start-up has created the zones' buckets a probe fails for want of one, which
        // says nothing about the zone: such a probe is shown but not recorded. The zones are
        // probed together, so that zones that do not answer cost one probe timeout, not one each.
        let started = state.startup.isOpen
        let health = state.health
        let up = await withTaskGroup(of: (String, Bool).self) { group in
            for (zone, backend) in state.backends {
                group.addTask {
                    let up = await backend.probe()
                    if started { health.recordProbe(zone, healthy: up) }
                    return (zone, up)
                }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        let zones: [(String, JSONValue)] = up.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value ? "ok" : "down")) }
        let healthy = started && database == "ok" && zones.contains { $0.1 == .string("ok") }
        return Self.json(.object([
            ("status", .string(!started ? "starting" : healthy ? "healthy" : "degraded")),
            ("database", .string(database)),
            ("metadataStore", .string(state.configuration.databaseURL == nil ? "sqlite" : "postgresql")),
            ("backends", .object(zones)),
            ("circuitBreakers", breakers()),
            ("policySetHash", .string(state.policies.policySetHash)),
            ("verification", verification()),
        ]), status: healthy ? .ok : .serviceUnavailable)
    }

    /// Replica verification: on or off, and what its last pass on this instance found.
    func verification() -> JSONValue {
        let last: JSONValue = state.verification.lastPass.map { pass in
            .object([
                ("endedAt", .string(ISO8601Timestamp.format(pass.endedAt))), ("checked", .int(Int64(pass.report.checked))),
                ("lost", .int(Int64(pass.report.lost))), ("withoutCopy", .int(Int64(pass.report.withoutCopy))),
                ("skipped", .int(Int64(pass.report.skipped))),
            ])
        } ?? .null
        return .object([
            ("intervalSeconds", .int(Int64(state.configuration.verifyInterval))),
            ("lastPass", last),
        ])
    }

    /// Each backend's circuit breaker: `closed` (in use), `open` (skipped by reads and
    /// writes), `half-open` (trial traffic), with its count of consecutive failures.
    func breakers() -> JSONValue {
        let snapshot = state.health.snapshot
        return .object(snapshot.keys.sorted().map { zone in
            let b = snapshot[zone]!
            return (zone, .object([("state", .string(b.state.rawValue)), ("consecutive_failures", .int(Int64(b.consecutiveFailures)))]))
        })
    }

    func providers() -> Response {
        let catalog = state.policies.catalog
        return Self.json(.object([
            ("count", .int(Int64(catalog.zones.count))),
            ("providers", .array(catalog.zones.map { z in
                .object([
                    ("zone_code", .string(z.code)), ("provider_name", .string(z.providerName)),
                    ("country_code", .string(z.countryCode)), ("country", .string(z.country)),
                    ("region_city", .string(z.city)), ("endpoint", .string(z.endpoint)),
                    ("eu_headquartered", .bool(z.euHeadquartered)),
                    ("flags", .strings(catalog.flagNames.filter { z.has($0) })),
                    ("has_backend", .bool(state.backends[z.code] != nil)),
                ])
            })),
        ]))
    }

    func backends() -> Response {
        let health = state.healthTable
        let breakers = state.health.snapshot
        return Self.json(.object([
            ("backends", .array(state.backendDefinitions.map { d in
                let breaker = breakers[d.zoneCode]
                return .object([
                    ("name", .string(d.name)), ("provider", .string(d.provider)), ("zone_code", .string(d.zoneCode)),
                    ("region", .string(d.region.name)), ("location_constraint", .optional(d.region.locationConstraint)),
                    ("endpoint", .string(d.endpoint)), ("is_primary", .bool(d.isPrimary)),
                    ("enabled", .bool(d.enabled)), ("bucket", .string(d.bucket ?? state.configuration.physicalBucket)),
                    ("status", .string(d.enabled ? ((health[d.zoneCode] ?? false) ? "up" : "down") : "disabled")),
                    ("circuit_breaker", breaker.map { .string($0.state.rawValue) } ?? .null),
                    ("consecutive_failures", breaker.map { .int(Int64($0.consecutiveFailures)) } ?? .null),
                ])
            })),
        ]))
    }

    func bucketConfig() -> Response {
        Self.json(.object([
            ("physical_bucket", .string(state.configuration.physicalBucket)),
            ("key_layout", .string(WriteIntent.backendKeyLayout)),
            ("zones", .strings(state.backends.keys.sorted())),
            // A backend may name its own physical bucket (`bucket` in the backends file).
            ("zone_buckets", .object(state.backendDefinitions.filter(\.enabled).sorted { $0.zoneCode < $1.zoneCode }.map {
                ($0.zoneCode, .string($0.bucket ?? state.configuration.physicalBucket))
            })),
            ("policy_set_hash", .string(state.policies.policySetHash)),
        ]))
    }

    /// Creates the physical bucket in every zone (with Object Lock where the zone has it); a
    /// bucket that is there already counts as created. The zones are asked together, so that
    /// one that does not answer costs its timeouts once, not on top of the others'. 200 when
    /// every zone has the bucket, else 503 with the zones that failed and why, so that
    /// `curl -f` notices.
    func initializeBucket() async throws -> Response {
        let state = self.state
        let outcomes = await withTaskGroup(of: (String, String?).self) { group in
            for (zone, backend) in state.backends {
                group.addTask {
                    do {
                        try await backend.initialize(objectLock: state.zoneHasObjectLock(zone))
                        return (zone, nil)
                    } catch {
                        return (zone, "\(error)")
                    }
                }
            }
            return await group.reduce(into: [String: String?]()) { $0[$1.0] = $1.1 }
        }
        let sorted = outcomes.sorted { $0.key < $1.key }
        let results: [(String, JSONValue)] = sorted.map { ($0.key, .string($0.value.map { "failed: " + $0 } ?? "created")) }
        let failed = sorted.filter { $0.value != nil }.map(\.key)
        return Self.json(.object([
            ("bucket", .string(state.configuration.physicalBucket)), ("zones", .object(results)), ("failed", .strings(failed)),
        ]), status: failed.isEmpty ? .ok : .serviceUnavailable)
    }

    /// Without `bucket` and `key`: the versions below their planned copies. With them (and an
    /// optional `versionId`): that version's replication status, replica by replica, wherever
    /// it stands.
    func replicaStatus(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        if let bucket = q.get("bucket"), let key = q.get("key") {
            return try await objectReplicaStatus(bucket: String(bucket), key: String(key), versionId: q.get("versionId").map { String($0) })
        }
        let limit = q.get("limit").flatMap { Int($0) } ?? 100
        let after = q.get("after").flatMap { Int64($0) }
        let rows = try await state.store.underReplicated(afterSequence: after, limit: min(max(limit, 1), 1000))
        return Self.json(.object([
            ("under_replicated", .array(rows.map { r in
                .object([
                    ("bucket", .string(r.version.bucket)), ("key", .string(r.version.key)),
                    ("version_id", .string(r.version.versionId)), ("sequence", .int(r.version.sequence)),
                    ("required_copies", .int(Int64(r.version.placement.requiredCopies))),
                    ("complete_copies", .int(Int64(r.replicas.filter { $0.status == .complete }.count))),
                    ("replicas", .array(r.replicas.map { .object([("zone", .string($0.zone)), ("status", .string($0.status.rawValue))]) })),
                ])
            })),
        ]))
    }

    func objectReplicaStatus(bucket: String, key: String, versionId: String?) async throws -> Response {
        guard let found = try await state.store.versionWithReplicas(bucket: bucket, key: key, versionId: versionId),
              !found.version.isDeleteMarker else {
            return Self.json(.object([("error", "not found"), ("message", .string("no such object version: \(bucket)/\(key)"))]),
                             status: .notFound)
        }
        let (version, replicas) = (found.version, found.replicas)
        let complete = replicas.filter { $0.status == .complete }.count
        let status = complete >= version.placement.requiredCopies ? "synced"
            : replicas.contains { $0.status == .failed } ? "failed" : "pending"
        return Self.json(.object([
            ("bucket", .string(version.bucket)), ("key", .string(version.key)), ("version_id", .string(version.versionId)),
            ("etag", .string(version.etag)), ("size", .int(version.size)),
            ("policy_set_hash", .optional(version.placement.policySetHash)),
            ("planned_zones", .strings(version.placement.plannedZones)),
            ("required_copies", .int(Int64(version.placement.requiredCopies))), ("complete_copies", .int(Int64(complete))),
            ("sync_status", .string(status)),
            ("replicas", .array(replicas.map { r in
                .object([("zone", .string(r.zone)), ("status", .string(r.status.rawValue))] + placeFields(r.zone) + [
                    ("updated_at", .string(ISO8601Timestamp.format(r.updatedAt))), ("last_error", .optional(r.lastError)),
                ])
            })),
        ]))
    }

    /// Where a zone is, from the catalog in force: `{zone, provider, country, city}`.
    func location(_ code: String) -> JSONValue {
        .object([("zone", .string(code))] + placeFields(code))
    }

    /// The provider, country and city of a zone, from the catalog in force.
    func placeFields(_ code: String) -> [(String, JSONValue)] {
        let zone = state.policies.catalog.zone(code)
        return [("provider", .optional(zone?.providerName)), ("country", .optional(zone?.countryCode)), ("city", .optional(zone?.city))]
    }

    func operationsLog(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let query = OperationLogQuery(
            limit: min(max(q.get("limit").flatMap { Int($0) } ?? 100, 1), 1000),
            beforeId: q.get("before").flatMap { Int64($0) },
            bucket: q.get("bucket").map { String($0) }, keyPrefix: q.get("prefix").map { String($0) },
            operation: q.get("operation").map { String($0) })
        let entries = try await state.store.queryLog(query)
        let rows: [JSONValue] = entries.map { e in
            var fields: [(String, JSONValue)] = [
                ("id", .int(e.id)), ("time", .string(ISO8601Timestamp.format(e.time))), ("request_id", .string(e.requestId)),
                ("principal", .optional(e.principal)), ("operation", .string(e.operation)),
            ]
            fields += [
                ("bucket", .optional(e.bucket)), ("key", .optional(e.key)), ("version_id", .optional(e.versionId)),
                ("status", .int(Int64(e.httpStatus))), ("zones", .strings(e.zones)),
                // Where each zone is, from the catalog: provider, country and city.
                ("locations", .array(e.zones.map(location))),
            ]
            fields += [("policy_set_hash", .optional(e.policySetHash)), ("bytes", .int(e.bytes)), ("detail", .optional(e.detail))]
            return .object(fields)
        }
        let next: JSONValue = entries.last.map { .int($0.id) } ?? .null
        return Self.json(.object([("entries", .array(rows)), ("next_before", next)]))
    }

    /// `GET /api/operations/log/verify`: recomputes the operations log's hash chain over every
    /// sealed entry (``LogVerification``). `ok` is false, with the first `problem`, when an
    /// entry was changed or removed after it was sealed; `head` is the last seal, to compare
    /// with the heads the gateway logged; `unsealed` counts the entries not sealed yet.
    ///
    /// `?anchor=SEQUENCE:HASH` (a head checked or logged before) checks only what was sealed
    /// after it, once the entry there is found to carry that hash.
    func verifyOperationsLog(_ request: Request) async throws -> Response {
        var anchor: (sequence: Int64, hash: String)?
        if let text = request.uri.queryParameters.get("anchor") {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let sequence = Int64(parts[0]), sequence > 0 else {
                return Self.json(.object([("error", "anchor is SEQUENCE:HASH, e.g. 1234:sha256:…")]), status: .badRequest)
            }
            anchor = (sequence, String(parts[1]))
        }
        let chain = LogChain(key: state.configuration.logSealKey)
        let report = try await LogVerification(store: state.store, chain: chain).run(from: anchor)
        let head: JSONValue = report.head.map { .object([("sequence", .int($0.sequence)), ("id", .int($0.id)), ("hash", .string($0.hash))]) } ?? .null
        let problem: JSONValue = report.problem.map {
            .object([("sequence", .int($0.sequence)), ("id", $0.id.map { .int($0) } ?? .null), ("what", .string($0.what))])
        } ?? .null
        return Self.json(.object([
            ("ok", .bool(report.problem == nil)), ("algorithm", .string(chain.algorithm)),
            ("checked", .int(report.checked)), ("head", head), ("problem", problem),
            ("unsealed", .object([
                ("entries", .int(Int64(report.unsealed.count))),
                ("oldest", .optional(report.unsealed.oldest.map(ISO8601Timestamp.format))),
            ])),
        ]))
    }

    /// `GET /api/operations/log/export[?after=SEQ]`: the sealed entries in chain order, one JSON
    /// object a line (`application/x-ndjson`), each with every field the chain covers (`time_us`
    /// in microseconds) and its `hash`: what an auditor needs to recompute the chain with a
    /// tool of their own (`scripts/verify-log-export.py`), without trusting this gateway.
    func exportOperationsLog(_ request: Request) async throws -> Response {
        let after = request.uri.queryParameters.get("after").flatMap { Int64($0) } ?? 0
        let store = state.store
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var sequence = after
            while true {
                let page = try await store.sealedLog(afterSequence: sequence, limit: 1000)
                var chunk = ""
                for (e, seal) in page {
                    chunk += JSONValue.object([
                        ("sequence", .int(seal.sequence)), ("id", .int(e.id)), ("time_us", .int(LogChain.microseconds(e.time))),
                        ("request_id", .string(e.requestId)), ("principal", .optional(e.principal)),
                        ("operation", .string(e.operation)), ("bucket", .optional(e.bucket)), ("key", .optional(e.key)),
                        ("version_id", .optional(e.versionId)), ("http_status", .int(Int64(e.httpStatus))),
                        ("zones", .strings(e.zones)), ("policy_set_hash", .optional(e.policySetHash)),
                        ("bytes", .int(e.bytes)), ("duration_ms", .int(e.durationMs)), ("detail", .optional(e.detail)),
                        ("hash", .string(seal.hash)),
                    ]).serialized(indent: 0) + "\n"
                    sequence = seal.sequence
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                if page.count < 1000 { break }
            }
            try await writer.finish(nil)
        })
    }

    /// Prometheus text exposition of the gateway's metrics.
    func metrics() -> Response {
        state.metrics.refresh(breakers: state.health.snapshot, policySetHash: state.policyStore.current.hash)
        let text = state.metricsRegistry.emitToString()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The same dry-run as `policyctl plan --format json`.
    func plan(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        guard let bucket = q.get("bucket"), let key = q.get("key") else {
            return Self.json(.object([("error", "bucket and key are required")]), status: .badRequest)
        }
        let tags = q.getAll("tag").map { tag -> ObjectRef.Tag in
            let parts = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return ObjectRef.Tag(key: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
        let explanation = state.policies.explain(ObjectRef(bucket: String(bucket), key: String(key), tags: tags))
        return Self.json(PlanReport.json(explanation))
    }
}
