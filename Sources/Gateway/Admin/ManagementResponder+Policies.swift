import Foundation
import HTTPTypes
import Hummingbird
import PolicyEngine
import S3Protocol

/// `GET /api/policies` (the set in force) and `POST /api/policies/reload`.
extension ManagementResponder {
    /// The policy set in force: its hash, when it was loaded, its policies and its warnings.
    func currentPolicies() -> Response {
        let set = state.policyStore.current
        let compiled = set.compiled
        return Self.json(.object([
            ("policySetHash", .string(set.hash)),
            ("loadedAt", .string(ISO8601Timestamp.format(set.loadedAt))),
            ("residencyPolicies", .strings(compiled.residencyPolicies.map(\.metadata.name))),
            ("replicationPolicies", .strings(compiled.replicationPolicies.map(\.metadata.name))),
            ("countryGroups", .strings(compiled.countryGroups.keys.sorted())),
            ("counts", .object([
                ("residencyPolicies", .int(Int64(compiled.residencyPolicies.count))),
                ("replicationPolicies", .int(Int64(compiled.replicationPolicies.count))),
                ("countryGroups", .int(Int64(compiled.countryGroups.count))),
                ("catalogZones", .int(Int64(compiled.catalog.zones.count))),
                ("warnings", .int(Int64(set.diagnostics.warningCount))),
            ])),
            ("diagnostics", Self.json(set.diagnostics)),
            ("announcements", announcements(inForce: set.hash)),
        ]))
    }

    /// Whether this instance hears the other instances' reloads (a shared PostgreSQL), and
    /// whether the last set announced is the one in force here; null on a store of one instance.
    func announcements(inForce: String) -> JSONValue {
        guard state.announcer != nil else { return .null }
        let status = state.announcementStatus.snapshot
        return .object([
            ("listening", .bool(status.listening)),
            ("lastAnnounced", .optional(status.lastAnnounced)),
            ("lastAnnouncedAt", status.lastAnnouncedAt.map { .string(ISO8601Timestamp.format($0)) } ?? .null),
            ("inForceHere", status.lastAnnounced.map { .bool($0 == inForce) } ?? .null),
        ])
    }

    /// Recompiles the policies and the catalog: 200 when the new set is in force, 422 when it
    /// was refused (the previous set stays in force; the diagnostics say why).
    func reloadPolicies() async -> Response {
        let result = await state.reloadPolicies(trigger: "api")
        return Self.json(.object([
            ("reloaded", .bool(result.reloaded)),
            ("policySetHash", .string(result.policySetHash)),
            ("previousHash", .string(result.previousHash)),
            ("diagnostics", Self.json(result.diagnostics)),
        ]), status: result.reloaded ? .ok : .unprocessableContent)
    }

    /// Diagnostics sorted by location, each with its `FILE:LINE:COL` (null when it has none).
    static func json(_ diagnostics: [Diagnostic]) -> JSONValue {
        .array(diagnostics.sortedByLocation().map { d in
            .object([
                ("code", .string(d.code)),
                ("severity", .string(d.severity.rawValue)),
                ("location", .optional(d.location?.description)),
                ("message", .string(d.message)),
                ("hints", .strings(d.hints)),
            ])
        })
    }
}
