import Foundation
import Metadata
import PolicyEngine
import S3Protocol

/// Brings stored copies back inside the policies in force after a reload changed them: the
/// copies the residency report shows as drift (`allowed_now = false`) are moved to zones the
/// policies allow. Nothing is lost on the way:
///
/// 1. A version with fewer complete copies in allowed zones than its replication policy asks
///    for gets new copies there first (`replicate` jobs, from any complete copy, the drifted
///    ones included).
/// 2. Only when those are complete is a drifted copy retired: under the key's lock, with the
///    allowed copies counted again, the replica becomes `deleting` and a `delete` job removes
///    its object (``MetadataStore/retireReplica(storageId:zone:keeping:copies:reason:log:now:)``).
///    Each retirement is written to the operations log in the same transaction.
///
/// So one run queues the new copies and a later run, once the worker has made them, retires
/// the old ones. Copies of a version under Object Lock (retention or legal hold) stay where
/// they are and are reported as held: the lock forbids removing them, so a person has to
/// decide. A version the policies in force refuse altogether, or cannot place enough allowed
/// copies of, keeps all its copies (fail closed: nothing is removed without a compliant copy).
struct DriftRemediation: Sendable {
    let state: GatewayState
    /// Report what would be done, change nothing.
    var dryRun = false
    /// Who asked, for the operations log.
    var principal = "admin"
    var requestId = "remediation-" + UUID().uuidString.lowercased()

    /// What a run did (or, dry, would do) to each copy outside the policies.
    enum Action: String, Sendable {
        /// New copies in allowed zones were queued first (`zones`).
        case copy
        /// The copy was taken out of service; its object is being deleted.
        case retire
        /// The copy stays until the version's allowed copies are complete: run again.
        case wait
        /// Object Lock protects the version; the copy stays.
        case held
        /// The policies in force cannot place the object: every copy stays.
        case unplaceable
    }

    struct Step: Sendable, Equatable {
        var bucket: String
        var key: String
        var versionId: String
        /// The drifted copy's zone.
        var zone: String
        var action: Action
        /// For `copy`, the zones the new copies go to.
        var zones: [String] = []
        var detail: String
    }

    struct Report: Sendable, Equatable {
        var versionsChecked = 0
        var versionsWithDrift = 0
        var copiesOutside = 0
        /// New copies queued in allowed zones.
        var copiesQueued = 0
        var copiesRetired = 0
        var copiesWaiting = 0
        var copiesHeld = 0
        var versionsUnplaceable = 0
        var copiesUnplaceable = 0
        /// The first `stepLimit` steps.
        var steps: [Step] = []

        static let stepLimit = 100

        mutating func record(_ step: Step) {
            switch step.action {
            case .copy, .wait: copiesWaiting += 1
            case .retire: copiesRetired += 1
            case .held: copiesHeld += 1
            case .unplaceable: copiesUnplaceable += 1
            }
            if steps.count < Self.stepLimit { steps.append(step) }
        }
    }

    /// Walks `bucket`'s versions under `prefix` and remediates each one with drift. `between`
    /// runs before each version (a long pass renews its lease there); what it throws ends the walk.
    func run(bucket: String, prefix: String, into report: inout Report,
             between: () async throws -> Void = {}) async throws {
        let policies = state.policies
        let walk = ResidencyWalk(state: state, policies: policies, bucket: bucket, prefix: prefix)
        try await walk.run { version, rows, current in
            try await between()
            report.versionsChecked += 1
            let drifted = rows.filter { !$0.allowedNow }
            guard !drifted.isEmpty else { return }
            report.versionsWithDrift += 1
            report.copiesOutside += drifted.count
            try await remediate(version, rows: rows, drifted: drifted, current: current, policies: policies, report: &report)
        }
    }

    private func remediate(_ version: ObjectVersion, rows: [ResidencyRow], drifted: [ResidencyRow], current: CurrentPlacement,
                           policies: CompiledPolicySet, report: inout Report) async throws {
        func step(_ row: ResidencyRow, _ action: Action, zones: [String] = [], _ detail: String) -> Step {
            Step(bucket: version.bucket, key: version.key, versionId: version.versionId, zone: row.replica.zone,
                 action: action, zones: zones, detail: detail)
        }
        guard !current.allowed.isEmpty else {
            report.versionsUnplaceable += 1
            let why = current.plan.reasons.joined(separator: "; ")
            for row in drifted { report.record(step(row, .unplaceable, "the policies in force refuse the object: \(why)")) }
            return
        }
        let copies = current.copies(writtenWith: version.placement.requiredCopies)
        let allowedRows = rows.filter(\.allowedNow)
        let complete = allowedRows.filter { $0.replica.status == .complete }.count
        let now = Date()
        if complete < copies {
            // First the new copies; the drifted ones stay until those are complete.
            let zones = current.repairZones(preferring: [], backends: Set(state.backends.keys))
            let queued: [String]
            if dryRun {
                let inFlight = allowedRows.filter { $0.replica.status == .pending }
                let taken = Set(allowedRows.map(\.replica.zone))
                queued = Array(zones.filter { !taken.contains($0) }.prefix(max(0, copies - complete - inFlight.count)))
            } else {
                queued = try await state.store.requeueReplicas(
                    storageId: version.storageId, zones: zones, copies: copies, counting: current.allowed, now: now).map(\.zone)
                if !queued.isEmpty {
                    _ = try await state.store.appendLog(logEntry(
                        version, zones: queued, policies: policies, now: now,
                        detail: "copies queued in \(queued.joined(separator: ", ")) before \(drifted.count) "
                            + "cop\(drifted.count == 1 ? "y" : "ies") outside the policies in force "
                            + "(\(drifted.map(\.replica.zone).joined(separator: ", "))) can be retired"))
                }
            }
            report.copiesQueued += queued.count
            let pendingAllowed = allowedRows.contains { $0.replica.status == .pending }
            if queued.isEmpty && !pendingAllowed {
                report.versionsUnplaceable += 1
                for row in drifted {
                    report.record(step(row, .unplaceable, "\(complete) of \(copies) copies are in allowed zones and "
                        + "no other allowed zone with a backend is free: \(zones.joined(separator: ", "))"))
                }
                return
            }
            for row in drifted {
                report.record(queued.isEmpty
                    ? step(row, .wait, "\(complete) of \(copies) copies in allowed zones are complete; the others are being made")
                    : step(row, .copy, zones: queued, "\(complete) of \(copies) copies are in allowed zones; "
                        + "new copies queued in \(queued.joined(separator: ", ")); run again once they are complete"))
            }
            return
        }
        if version.isLocked(at: now, bypassGovernance: false) {
            let until = version.legalHold ? "a legal hold" : "retention until "
                + (version.retention.map { ISO8601Timestamp.format($0.retainUntil) } ?? "-")
            for row in drifted { report.record(step(row, .held, "Object Lock (\(until)) protects the version; the copy stays")) }
            return
        }
        for row in drifted {
            let reason = "outside the policies in force (\(policies.policySetHash)): zone \(row.replica.zone)"
                + (row.country.map { " (\($0))" } ?? "") + " is not allowed for the object"
            if dryRun {
                report.record(step(row, .retire, reason))
                continue
            }
            let outcome = try await state.store.retireReplica(
                storageId: version.storageId, zone: row.replica.zone, keeping: current.allowed, copies: copies,
                reason: reason, log: logEntry(version, zones: [row.replica.zone], policies: policies, now: now,
                                              detail: "copy retired: \(reason); \(complete) copies remain in allowed zones"),
                now: now)
            switch outcome {
            case .retired:
                report.record(step(row, .retire, reason))
            case .held(let until):
                report.record(step(row, .held, "Object Lock (\(until.map { "retention until " + ISO8601Timestamp.format($0) } ?? "a legal hold")) protects the version; the copy stays"))
            case .tooFewCopies(let kept):
                report.record(step(row, .wait, "\(kept) of \(copies) copies in allowed zones are complete now"))
            case .copying:
                report.record(step(row, .wait, "a copy to the zone is still being made; it is retired once that job ends"))
            case .gone:
                continue
            }
        }
    }

    private func logEntry(_ version: ObjectVersion, zones: [String], policies: CompiledPolicySet, now: Date,
                          detail: String) -> OperationLogEntry {
        OperationLogEntry(time: now, requestId: requestId, principal: principal, operation: "RemediateResidency",
                          bucket: version.bucket, key: version.key, versionId: version.versionId, httpStatus: 200,
                          zones: zones, policySetHash: policies.policySetHash, bytes: version.size, detail: detail)
    }
}
