import Foundation
import Logging
import Metadata
import ServiceLifecycle

/// Runs ``DriftRemediation`` over every bucket on its own, `GATEWAY_REMEDIATE_INTERVAL` seconds
/// after the last pass ended on any instance sharing the store (off by default: moving data
/// after a policy change is then an operator's call, `POST /api/residency/remediate`).
///
/// A pass queues the copies that drifted versions miss in allowed zones and retires the
/// drifted copies whose replacements are complete, so a move takes two passes. Instances on one
/// store take turns through `service_runs`, as verification does.
struct DriftRemediator: Service {
    let state: GatewayState
    /// Time from the end of one pass (on any instance) to the start of the next.
    var interval: Duration
    /// The first look for a due pass comes this long after start-up (at most `interval`).
    var firstDelay: Duration = .seconds(60)
    /// How long a claimed pass is this instance's without a renewal; renewed at a third of it.
    var lease: TimeInterval = 600
    var holder = "remediator-" + GatewayState.newStorageId()

    static let runName = "drift-remediation"

    func run() async throws {
        await SharedServiceRun.loop(state: state, firstDelay: min(firstDelay, interval), checkEvery: min(.seconds(60), interval),
                                    failure: "drift remediation pass failed") { _ = try await runIfDue() }
    }

    /// A pass over every bucket, when one is due for all instances sharing the store and this
    /// one claims it; nil when it is not due or another instance runs it.
    func runIfDue(now: @escaping @Sendable () -> Date = { Date() }) async throws -> DriftRemediation.Report? {
        let run = SharedServiceRun(store: state.store, name: Self.runName, holder: holder, lease: lease, interval: interval)
        let remediation = DriftRemediation(state: state, principal: "remediator", requestId: holder)
        guard let report = try await run.runIfDue(now: now, { renew in
            var report = DriftRemediation.Report()
            for bucket in try await state.store.listBuckets().map(\.name).sorted() {
                try await remediation.run(bucket: bucket, prefix: "", into: &report, between: renew)
            }
            return report
        }) else { return nil }
        state.metrics.recordRemediation(report)
        let metadata: Logger.Metadata = [
            "drift.versions": "\(report.versionsWithDrift)", "drift.copies_outside": "\(report.copiesOutside)",
            "drift.copies_queued": "\(report.copiesQueued)", "drift.copies_retired": "\(report.copiesRetired)",
            "drift.copies_waiting": "\(report.copiesWaiting)", "drift.copies_held": "\(report.copiesHeld)",
            "drift.versions_unplaceable": "\(report.versionsUnplaceable)",
        ]
        if report.copiesOutside > 0 {
            state.logger.notice("drift remediation pass", metadata: metadata)
        } else {
            state.logger.debug("drift remediation pass: no copy outside the policies in force", metadata: metadata)
        }
        return report
    }
}
