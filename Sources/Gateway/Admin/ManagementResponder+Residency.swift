import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import NIOCore
import NIOPosix
import PolicyEngine
import S3Protocol

extension ManagementResponder {
    /// `GET /api/residency/report?bucket=B[&prefix=P][&format=csv|json]`: where every stored
    /// version of a bucket's objects is, as an auditor asks for it. Without `bucket`, every
    /// bucket in name order (the JSON then has a summary per bucket and the total of copies
    /// outside the policies).
    ///
    /// `csv` (the default) has one row per copy: the object, the version, the policies that
    /// placed it and the policy set of that write, then the copy's zone, provider, country and
    /// city, its status and when that last changed, and `allowed_now`: whether the policies in
    /// force now allow that zone for the object. A `false` there is drift: a copy placed under an
    /// earlier set that the current one would not place there. Rows stream as the versions are
    /// read, a page of 1,000 at a time.
    ///
    /// `json` is the summary: counts of versions and copies, copies by country and by zone,
    /// versions below their planned copies, and the copies outside the current policies (the
    /// first 100 of them listed).
    ///
    /// `against=files` judges the copies by the policy files as they are on disk now, compiled
    /// as a reload would compile them, instead of the set in force: what a reload would make of
    /// the data already stored, before it is done (the column is then `allowed_by_files`). Files
    /// that do not compile get 422 with their diagnostics, as a refused reload.
    func residencyReport(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let bucket = q.get("bucket").flatMap { $0.isEmpty ? nil : $0 }
        let format = q.get("format") ?? "csv"
        guard format == "csv" || format == "json" else {
            return Self.json(.object([("error", "format is csv or json")]), status: .badRequest)
        }
        let against = q.get("against") ?? "in-force"
        guard against == "in-force" || against == "files" else {
            return Self.json(.object([("error", "against is in-force or files")]), status: .badRequest)
        }
        guard let buckets = try await residencyBuckets(bucket) else {
            return Self.json(.object([("error", "no such bucket"), ("bucket", .optional(bucket))]), status: .notFound)
        }
        var policies = state.policies
        if against == "files" {
            let (configuration, definitions) = (state.configuration, state.backendDefinitions)
            let outcome = try await NIOThreadPool.singleton.runIfActive { PolicyLoader.load(configuration, definitions: definitions) }
            guard let compiled = outcome.compiled else {
                return Self.json(.object([
                    ("error", "the policy files do not compile"), ("diagnostics", Self.json(outcome.diagnostics)),
                ]), status: .unprocessableContent)
            }
            policies = compiled
        }
        let prefix = q.get("prefix") ?? ""
        let walks = buckets.map { ResidencyWalk(state: state, policies: policies, bucket: $0, prefix: prefix) }
        if format == "json" {
            // The log's seal when the walk began: every change before it is in the sealed
            // chain, so the summary can be tied to a point of the verifiable log.
            let seal = try await state.store.logSealHead()
            let sealJSON: JSONValue = seal.map {
                .object([("sequence", .int($0.sequence)), ("id", .int($0.id)), ("hash", .string($0.hash))])
            } ?? .null
            var summaries: [(String, ResidencySummary)] = []
            for walk in walks {
                var summary = ResidencySummary()
                try await walk.run { version, rows, _ in summary.add(version, rows) }
                summaries.append((walk.bucket, summary))
            }
            if let bucket, let summary = summaries.first?.1 {
                guard case .object(let fields) = summary.json(bucket: bucket, prefix: prefix, policySetHash: policies.policySetHash,
                                                              against: against) else { return Self.json(.null) }
                return Self.json(.object(fields + [("operations_log_seal", sealJSON)]))
            }
            return Self.json(.object([
                ("generated_at", .string(ISO8601Timestamp.format(Date()))), ("judged_against", .string(against)),
                ("policy_set_hash", .string(policies.policySetHash)), ("prefix", .string(prefix)),
                ("operations_log_seal", sealJSON),
                ("copies_outside_current_policies", .int(Int64(summaries.reduce(0) { $0 + $1.1.outside }))),
                ("buckets", .array(summaries.map {
                    $0.1.json(bucket: $0.0, prefix: prefix, policySetHash: policies.policySetHash, against: against)
                })),
            ]))
        }
        let header = against == "files"
            ? ResidencyRow.csvHeader.replacingOccurrences(of: ",allowed_now\r\n", with: ",allowed_by_files\r\n")
            : ResidencyRow.csvHeader
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"residency-\(bucket ?? "all").csv\""
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: header))
            var chunk = ""
            for walk in walks {
                try await walk.run { version, rows, _ in
                    // A version without any copy recorded still gets a row, with no zone.
                    chunk += rows.isEmpty ? ResidencyRow.csvLine(version: version, replica: nil) : rows.map(\.csvLine).joined()
                    if chunk.utf8.count >= 64 * 1024 {
                        try await writer.write(ByteBuffer(string: chunk))
                        chunk = ""
                    }
                }
            }
            if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
            try await writer.finish(nil)
        })
    }
}

extension ManagementResponder {
    /// `POST /api/residency/remediate?bucket=B[&prefix=P][&dry_run=true]`: moves the copies
    /// that the policies in force no longer allow (the report's drift) to zones they do allow,
    /// without ever leaving a version with fewer allowed copies than it needs
    /// (``DriftRemediation``). Without `bucket`, every bucket. A run queues the new copies; a
    /// later run, once they are complete, retires the old ones, so call it until
    /// `copies_waiting` is 0. `dry_run=true` reports what would be done and changes nothing.
    func remediateResidency(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let bucket = q.get("bucket").flatMap { $0.isEmpty ? nil : $0 }
        let dryRun: Bool
        switch q.get("dry_run") ?? "false" {
        case "true", "1": dryRun = true
        case "false", "0": dryRun = false
        default: return Self.json(.object([("error", "dry_run is true or false")]), status: .badRequest)
        }
        guard let buckets = try await residencyBuckets(bucket) else {
            return Self.json(.object([("error", "no such bucket"), ("bucket", .optional(bucket))]), status: .notFound)
        }
        let prefix = q.get("prefix") ?? ""
        let remediation = DriftRemediation(state: state, dryRun: dryRun)
        var report = DriftRemediation.Report()
        for name in buckets { try await remediation.run(bucket: name, prefix: prefix, into: &report) }
        state.logger.notice("residency remediation", metadata: [
            "dry_run": "\(dryRun)", "buckets": "\(buckets.count)", "copies_outside": "\(report.copiesOutside)",
            "copies_queued": "\(report.copiesQueued)", "copies_retired": "\(report.copiesRetired)",
            "copies_waiting": "\(report.copiesWaiting)", "copies_held": "\(report.copiesHeld)",
            "versions_unplaceable": "\(report.versionsUnplaceable)",
        ])
        return Self.json(.object([
            ("dry_run", .bool(dryRun)), ("bucket", .optional(bucket)), ("prefix", .string(prefix)),
            ("policy_set_hash", .string(state.policies.policySetHash)),
            ("versions_checked", .int(Int64(report.versionsChecked))),
            ("versions_with_drift", .int(Int64(report.versionsWithDrift))),
            ("copies_outside_current_policies", .int(Int64(report.copiesOutside))),
            ("copies_queued", .int(Int64(report.copiesQueued))),
            ("copies_retired", .int(Int64(report.copiesRetired))),
            ("copies_waiting", .int(Int64(report.copiesWaiting))),
            ("copies_held", .int(Int64(report.copiesHeld))),
            ("versions_unplaceable", .int(Int64(report.versionsUnplaceable))),
            ("steps", .array(report.steps.map { step in
                .object([
                    ("bucket", .string(step.bucket)), ("key", .string(step.key)), ("version_id", .string(step.versionId)),
                    ("zone", .string(step.zone)), ("action", .string(step.action.rawValue)),
                    ("new_zones", .strings(step.zones)), ("detail", .string(step.detail)),
                ])
            })),
        ]))
    }
}

extension ManagementResponder {
    /// The buckets a residency call covers: `bucket`, or every bucket in name order; nil when
    /// `bucket` does not exist.
    func residencyBuckets(_ bucket: String?) async throws -> [String]? {
        guard let bucket else { return try await state.store.listBuckets().map(\.name).sorted() }
        return try await state.store.bucket(named: bucket) == nil ? nil : [bucket]
    }
}

/// One copy of one version, as the residency report gives it.
struct ResidencyRow: Sendable {
    var version: ObjectVersion
    var replica: Replica
    var provider: String?
    var country: String?
    var city: String?
    /// Whether the policies in force allow the zone for this object.
    var allowedNow: Bool

    static let csvHeader = "bucket,key,version_id,is_latest,size,created_at,policy_set_hash,residency_policies,"
        + "replication_policy,zone,provider,country,city,status,status_changed_at,allowed_now\r\n"

    /// The row as RFC 4180 CSV (fields with a comma, quote or line break are quoted).
    var csvLine: String { Self.csvLine(version: version, replica: self) }

    /// A version's row with the copy `replica`, or with empty copy fields and the status
    /// `none` when it has no copy recorded.
    static func csvLine(version: ObjectVersion, replica row: ResidencyRow?) -> String {
        let fields: [String] = [
            version.bucket, version.key, version.versionId, version.isLatest ? "true" : "false", String(version.size),
            ISO8601Timestamp.format(version.createdAt), version.placement.policySetHash ?? "",
            version.placement.residencyPolicies.joined(separator: " "), version.placement.replicationPolicy ?? "",
            row?.replica.zone ?? "", row?.provider ?? "", row?.country ?? "", row?.city ?? "",
            row?.replica.status.rawValue ?? "none", row.map { ISO8601Timestamp.format($0.replica.updatedAt) } ?? "",
            row.map { $0.allowedNow ? "true" : "false" } ?? "",
        ]
        return fields.map(csvField).joined(separator: ",") + "\r\n"
    }

    static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Reads a bucket's versions (not delete markers) page by page with their replicas, and judges
/// each copy against the policies in force when the walk began.
struct ResidencyWalk: Sendable {
    let state: GatewayState
    /// The set the copies are judged by.
    let policies: CompiledPolicySet
    let bucket: String
    let prefix: String

    /// Calls `body` with each version, its copies (none when it has no replica recorded) and
    /// where the policies judged by allow it.
    func run(_ body: (ObjectVersion, [ResidencyRow], CurrentPlacement) async throws -> Void) async throws {
        var keyMarker: String?
        var versionIdMarker: String?
        while true {
            let page = try await state.store.listVersions(ListVersionsRequest(
                bucket: bucket, prefix: prefix, keyMarker: keyMarker, versionIdMarker: versionIdMarker, maxKeys: 1000))
            let versions = page.versions.filter { !$0.isDeleteMarker }
            let replicas = try await state.store.replicas(storageIds: versions.map(\.storageId))
            for version in versions {
                let current = CurrentPlacement(version, policies: policies)
                let rows = (replicas[version.storageId] ?? []).filter { $0.status != .deleting }.map { replica in
                    let zone = policies.catalog.zone(replica.zone)
                    return ResidencyRow(version: version, replica: replica, provider: zone?.providerName,
                                        country: zone?.countryCode, city: zone?.city,
                                        allowedNow: current.allowed.contains(replica.zone))
                }
                try await body(version, rows, current)
            }
            guard page.isTruncated, let next = page.nextKeyMarker else { return }
            (keyMarker, versionIdMarker) = (next, page.nextVersionIdMarker)
        }
    }
}

/// The counts of the report's `json` format.
struct ResidencySummary {
    var versions = 0
    var belowPlanned = 0
    var copies = 0
    var complete = 0
    var byCountry: [String: Int] = [:]
    var byZone: [String: Int] = [:]
    var outside = 0
    var outsideExamples: [JSONValue] = []

    mutating func add(_ version: ObjectVersion, _ rows: [ResidencyRow]) {
        versions += 1
        copies += rows.count
        let completeRows = rows.filter { $0.replica.status == .complete }
        complete += completeRows.count
        if completeRows.count < version.placement.requiredCopies { belowPlanned += 1 }
        for row in completeRows {
            byCountry[row.country ?? "unknown", default: 0] += 1
            byZone[row.replica.zone, default: 0] += 1
        }
        for row in rows where !row.allowedNow {
            outside += 1
            if outsideExamples.count < 100 {
                outsideExamples.append(.object([
                    ("key", .string(row.version.key)), ("version_id", .string(row.version.versionId)),
                    ("zone", .string(row.replica.zone)), ("country", .optional(row.country)),
                    ("status", .string(row.replica.status.rawValue)),
                ]))
            }
        }
    }

    func json(bucket: String, prefix: String, policySetHash: String, against: String) -> JSONValue {
        .object([
            ("bucket", .string(bucket)), ("prefix", .string(prefix)),
            ("generated_at", .string(ISO8601Timestamp.format(Date()))), ("judged_against", .string(against)),
            ("policy_set_hash", .string(policySetHash)),
            ("versions", .int(Int64(versions))), ("copies", .int(Int64(copies))),
            ("complete_copies", .int(Int64(complete))),
            ("versions_below_planned_copies", .int(Int64(belowPlanned))),
            ("complete_copies_by_country", .object(byCountry.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("complete_copies_by_zone", .object(byZone.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("copies_outside_current_policies", .int(Int64(outside))),
            ("copies_outside_current_policies_first", .array(outsideExamples)),
        ])
    }
}
