import Foundation
import PolicyEngine
import Prometheus
import Synchronization

/// A compiled policy set in force: what requests plan with, the warnings it was loaded with
/// and when it was loaded.
struct LoadedPolicySet: Sendable {
    let compiled: CompiledPolicySet
    /// Warnings and notes of the compilation (a set with errors is never loaded).
    let diagnostics: [Diagnostic]
    let loadedAt: Date

    var hash: String { compiled.policySetHash }
}

/// The policy set the gateway runs with, swapped as a whole by a reload.
///
/// Each request reads ``current`` once and plans with that snapshot throughout, so a write
/// is placed and recorded by one policy set even when a reload lands in the middle of it.
///
/// `/metrics`: `gateway_policy_reloads_total{result="applied"|"refused"}`.
final class PolicyStore: Sendable {
    private struct Slot {
        var current: LoadedPolicySet
        /// Ticket of the reload that installed `current` (0 = start-up).
        var installed: UInt64 = 0
        /// Last ticket handed out by ``beginReload()``.
        var issued: UInt64 = 0
    }

    private let slot: Mutex<Slot>
    private let applied: Counter
    private let refused: Counter

    init(_ initial: LoadedPolicySet, registry: PrometheusCollectorRegistry) {
        self.slot = Mutex(Slot(current: initial))
        let descriptor = MetricNameDescriptor(namespace: "gateway", subsystem: "policy", metricName: "reloads", unitName: "total",
                                              helpText: "Policy reloads by result: applied, or refused (the previous set stays in force)")
        self.applied = registry.makeCounter(descriptor: descriptor, labels: [("result", "applied")])
        self.refused = registry.makeCounter(descriptor: descriptor, labels: [("result", "refused")])
    }

    /// The set in force now.
    var current: LoadedPolicySet { slot.withLock { $0.current } }

    /// A ticket for a reload about to read the policy files. Tickets order reloads by when
    /// they started reading, so that a slow reload cannot replace the set of a later one.
    func beginReload() -> UInt64 {
        slot.withLock { s in
            s.issued += 1
            return s.issued
        }
    }

    /// Puts `set` in force unless a reload that started later already put in its own.
    /// Returns the set it replaced, or nil when it was superseded (the later set stays).
    func install(_ set: LoadedPolicySet, ticket: UInt64) -> LoadedPolicySet? {
        let replaced: LoadedPolicySet? = slot.withLock { s in
            guard ticket > s.installed else { return nil }
            let old = s.current
            s.current = set
            s.installed = ticket
            return old
        }
        applied.increment()
        return replaced
    }

    /// Counts a reload that was refused: the set in force does not change.
    func recordRefusal() {
        refused.increment()
    }
}
