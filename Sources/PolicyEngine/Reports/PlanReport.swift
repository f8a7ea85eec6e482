/// The machine-readable form of a plan, shared by `policyctl plan --format json` and the
/// gateway's `GET /api/plan`.
public enum PlanReport {
    public static func json(_ explanation: PlanExplanation) -> JSONValue {
        let plan = explanation.plan
        let object = explanation.object
        let immutability: JSONValue = plan.immutability.map {
            .object([("mode", .string($0.mode.rawValue)), ("retentionSeconds", .int($0.retentionSeconds))])
        } ?? .null
        return .object([
            ("allowed", .bool(plan.allowed)),
            ("bucket", .string(object.bucket)),
            ("key", .string(object.key)),
            ("tags", .object(object.tags.map { ($0.key, .string($0.value)) })),
            ("residencyPolicies", .strings(plan.residencyPolicies)),
            ("replicationPolicy", .optional(plan.replicationPolicy?.metadata.name)),
            ("copies", .int(Int64(plan.copies))),
            ("writeQuorum", .int(Int64(plan.writeQuorum))),
            ("minProviders", .int(Int64(plan.minProviders))),
            ("minCities", .int(Int64(plan.minCities))),
            ("zones", .strings(plan.zones.map(\.code))),
            ("eligibleZones", .strings(plan.eligibleZones.map(\.code))),
            ("candidates", .strings(plan.candidates.map(\.code))),
            ("placement", .optional(plan.replicationPolicy?.placement.rawValue)),
            ("versioning", .optional(plan.versioning?.rawValue)),
            ("immutability", immutability),
            ("replicationDeadlineSeconds", plan.replicationDeadlineSeconds.map { .int($0) } ?? .null),
            ("policySetHash", .string(plan.policySetHash)),
            ("reasons", .strings(plan.reasons)),
            ("rejected", .array(explanation.rejected.map {
                .object([("zone", .string($0.zone.code)), ("reasons", .strings($0.reasons))])
            })),
        ])
    }

    /// Human-readable summary; with `explain`, the per-zone table of every constraint.
    public static func text(_ explanation: PlanExplanation, explain: Bool) -> String {
        let plan = explanation.plan
        var lines: [String] = []
        lines.append("object:      \(explanation.object)")
        lines.append("decision:    " + (plan.allowed ? "allowed" : "REFUSED"))
        lines.append("residency:   " + (plan.residencyPolicies.isEmpty ? "(none)" : plan.residencyPolicies.joined(separator: ", ")))
        if let policy = plan.replicationPolicy {
            lines.append("replication: \(policy.metadata.name) (priority \(policy.priority.value)): copies \(plan.copies), writeQuorum \(plan.writeQuorum), minProviders \(plan.minProviders), minCities \(plan.minCities), placement \(policy.placement.rawValue)")
            var storage = "versioning \(policy.versioning.value.rawValue)"
            if let im = plan.immutability { storage += ", immutability \(im.mode.rawValue) \(DurationText.describe(im.retentionSeconds))" }
            if let d = plan.replicationDeadlineSeconds { storage += ", replicationDeadline \(DurationText.describe(d))" }
            lines.append("storage:     " + storage)
        } else {
            lines.append("replication: (none)")
        }
        if plan.allowed {
            lines.append("zones:       " + plan.zones.map { "\($0.code) (\($0.providerName), \($0.city), \($0.countryCode))" }.joined(separator: ", "))
        }
        lines.append("eligible:    \(plan.eligibleZones.count) of \(plan.context.zones.count) zones")
        for reason in plan.reasons { lines.append("reason:      \(reason)") }
        lines.append("policy set:  \(plan.policySetHash)")
        if explain {
            lines.append("")
            lines += table(explanation)
        }
        return lines.joined(separator: "\n")
    }

    static func table(_ explanation: PlanExplanation) -> [String] {
        var constraintNames: [String] = []
        for row in explanation.rows { for c in row.constraints where !constraintNames.contains(c.name) { constraintNames.append(c.name) } }
        var header = ["zone", "provider", "city", "cc", "result"]
        header += constraintNames
        var rows: [[String]] = [header]
        for row in explanation.rows {
            var cells = [row.zone.code, row.zone.providerName, row.zone.city, row.zone.countryCode, row.status.rawValue]
            for name in constraintNames {
                cells.append(row.constraints.first { $0.name == name }.map { $0.passed ? "pass" : "FAIL" } ?? "-")
            }
            rows.append(cells)
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        var lines = rows.map { cells in
            cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        if !constraintNames.isEmpty {
            lines.append("")
            lines.append("constraints:")
            for name in constraintNames {
                let location = explanation.rows.lazy.compactMap { $0.constraints.first { $0.name == name }?.location }.first
                lines.append("  \(name)" + (location.map { "  (\($0))" } ?? ""))
            }
        }
        let rejected = explanation.rejected
        if !rejected.isEmpty {
            lines.append("")
            lines.append("rejected:")
            for row in rejected { lines.append("  \(row.zone.code): " + row.reasons.joined(separator: "; ")) }
        }
        return lines
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Durations as the policy language writes them.
public enum DurationText {
    public static func describe(_ seconds: Int64) -> String {
        for (unit, size) in [("y", Int64(31_536_000)), ("w", 604_800), ("d", 86400), ("h", 3600), ("m", 60)]
        where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
