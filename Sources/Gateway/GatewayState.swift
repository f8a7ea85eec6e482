import Foundation
import Logging
import Metadata
import PolicyEngine
import Prometheus

/// The running gateway's shared state: configuration, metadata authority, compiled policies,
/// backends by zone and their health. Immutable apart from the guarded health table and the
/// policy set, which a reload swaps as a whole.
final class GatewayState: Sendable {
    let configuration: GatewayConfiguration
    let store: any MetadataStore
    /// The policy set in force (see ``reloadPolicies(trigger:)``).
    let policyStore: PolicyStore
    let backends: [String: any ObjectBackend]
    let backendDefinitions: [BackendDefinition]
    let credentials: CredentialStore
    let logger: Logger
    /// What `/metrics` renders; swift-metrics is bootstrapped with it when the gateway runs.
    let metricsRegistry: PrometheusCollectorRegistry
    /// The operational metrics in that registry (refusals, replication queue, breakers).
    let metrics: GatewayMetrics
    /// A circuit breaker per backend (see ``CircuitBreaker``).
    let health: BackendHealth
    /// Open once ``GatewayApp/prepare(_:)`` has run.
    let startup = StartupGate()
    /// How policy reloads reach the other instances on the same metadata store (PostgreSQL's
    /// `LISTEN`/`NOTIFY`); nil where the store serves one instance (SQLite).
    let announcer: (any PolicySetAnnouncer)?
    /// What this instance has heard of the sets the instances put in force.
    let announcementStatus = PolicyAnnouncementStatus()
    /// What the last replica verification pass found (``ReplicaVerifier``).
    let verification = VerificationStatus()

    /// `announcer` defaults to the store, when it is one.
    init(configuration: GatewayConfiguration, store: any MetadataStore, policies: CompiledPolicySet,
         policyDiagnostics: [Diagnostic], backends: [String: any ObjectBackend],
         backendDefinitions: [BackendDefinition], credentials: CredentialStore, logger: Logger,
         announcer: (any PolicySetAnnouncer)? = nil, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.configuration = configuration
        self.store = store
        self.announcer = announcer ?? (store as? any PolicySetAnnouncer)
        self.metricsRegistry = registry
        self.metrics = GatewayMetrics(registry: registry)
        self.policyStore = PolicyStore(LoadedPolicySet(compiled: policies, diagnostics: policyDiagnostics, loadedAt: Date()),
                                       registry: registry)
        self.backends = backends
        self.backendDefinitions = backendDefinitions
        self.credentials = credentials
        self.logger = logger
        self.health = BackendHealth(zones: backends.keys, logger: logger)
    }

    /// The compiled policy set in force now. A request reads it once and keeps that snapshot,
    /// so that a reload cannot change its plan halfway.
    var policies: CompiledPolicySet { policyStore.current.compiled }

    /// The warnings the set in force was loaded with.
    var policyDiagnostics: [Diagnostic] { policyStore.current.diagnostics }

    /// Whether requests may go to the zone (its circuit breaker is not open).
    func isHealthy(_ zone: String) -> Bool {
        backends[zone] != nil && health.isAvailable(zone)
    }

    /// Marks a zone down until it is seen to work again, or up.
    func setHealth(_ zone: String, _ healthy: Bool) {
        health.force(zone, healthy: healthy)
    }

    var healthTable: [String: Bool] {
        Dictionary(uniqueKeysWithValues: backends.keys.map { ($0, isHealthy($0)) })
    }

    /// Whether the catalog gives `zone` the Object Lock capability (its physical bucket is then
    /// created with Object Lock).
    func zoneHasObjectLock(_ zone: String) -> Bool {
        policies.catalog.zone(zone)?.has("object_lock") ?? false
    }

    /// A new, unique, time-ordered id for a version's storage (and its S3 version id);
    /// upper case for a request id, as S3 writes them.
    static func newStorageId(now: Date = Date(), uppercase: Bool = false) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let time = String(millis, radix: 36, uppercase: uppercase)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36, uppercase: uppercase)
        return String(repeating: "0", count: max(0, 9 - time.count)) + time
            + String(repeating: "0", count: max(0, 13 - random.count)) + random
    }
}
