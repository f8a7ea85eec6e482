import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import Logging
import Metadata
import Metrics
import PolicyEngine
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Builds the gateway from its configuration and runs it until SIGTERM/SIGINT; SIGHUP reloads
/// the policies and the catalog.
enum GatewayApp {
    struct StartupError: Error, CustomStringConvertible {
        var description: String
    }

    /// Loads catalog, policies and backends; fails on anything invalid (fail closed). The
    /// catalog and policies go through ``PolicyLoader``, as a reload does.
    static func loadPolicies(_ configuration: GatewayConfiguration, logger: Logger) throws
        -> (CompiledPolicySet, [Diagnostic], [BackendDefinition]) {
        let (catalog, catalogDiagnostics) = PolicyLoader.readCatalog(path: configuration.providersFile)
        guard let catalog else {
            throw StartupError(description: "the catalog has errors:\n" + catalogDiagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n"))
        }
        let backendsText: String
        do {
            backendsText = String(decoding: try FileReader.read(configuration.backendsFile), as: UTF8.self)
        } catch {
            throw StartupError(description: "\(error)")
        }
        let definitions = try BackendsConfig.parse(backendsText, file: configuration.backendsFile,
                                                   catalog: catalog,
                                                   environment: ProcessInfo.processInfo.environment)
        let outcome = PolicyLoader.compile(policiesDirectory: configuration.policiesDirectory, catalog: catalog,
                                           definitions: definitions, backendsFile: configuration.backendsFile)
        for d in outcome.diagnostics where d.severity == .warning { logger.warning("policy: \(d)") }
        guard let compiled = outcome.compiled else {
            throw StartupError(description: "the policies are invalid (fail closed):\n"
                + outcome.errors.map(\.description).joined(separator: "\n"))
        }
        return (compiled, outcome.diagnostics, definitions)
    }

    static func makeStore(_ configuration: GatewayConfiguration, logger: Logger) async throws -> any MetadataStore {
        if let url = configuration.databaseURL {
            return try PostgresMetadataStore(configuration: .init(url: url), logger: logger)
        }
        try Posix.makeDirectories(configuration.dataDirectory)
        var sqlite = SQLiteMetadataStore.Configuration(directory: configuration.dataDirectory)
        sqlite.synchronous = configuration.sqliteSynchronous
        return try await SQLiteMetadataStore.open(configuration: sqlite, logger: logger)
    }

    /// With `registry`, each S3 backend counts its requests there (``BackendRequestMetrics``).
    static func makeBackends(_ definitions: [BackendDefinition], configuration: GatewayConfiguration,
                             httpClients: BackendHTTPClients? = nil,
                             registry: PrometheusCollectorRegistry? = nil) throws -> [String: any ObjectBackend] {
        let clients = httpClients ?? BackendHTTPClients(HTTPClient.shared)
        var backends: [String: any ObjectBackend] = [:]
        for d in definitions where d.enabled {
            if d.isLocalDisk {
                backends[d.zoneCode] = LocalDiskBackend(zone: d.zoneCode, root: d.localPath,
                                                        bucket: d.bucket ?? configuration.physicalBucket,
                                                        syncFolder: configuration.commitsAreSynced ? Posix.syncFolder : nil)
            } else {
                do {
                    var backend = try S3Backend(zone: d.zoneCode, endpoint: d.endpoint,
                                                bucket: d.bucket ?? configuration.physicalBucket, region: d.region,
                                                accessKey: d.accessKey, secretKey: d.secretKey, clients: clients)
                    backend.metrics = registry.map { BackendRequestMetrics(zone: d.zoneCode, registry: $0) }
                    backend.stallTimeout = .milliseconds(Int64(configuration.backendStallTimeout * 1000))
                    backends[d.zoneCode] = backend
                } catch {
                    throw StartupError(description: "backend '\(d.name)': \(error); use http(s)://HOST[:PORT] or file:PATH")
                }
            }
        }
        return backends
    }

    /// `httpClients` serve the S3 backends (`HTTPClient.shared` when nil).
    static func makeState(_ configuration: GatewayConfiguration, store: any MetadataStore, logger: Logger,
                          httpClients: BackendHTTPClients? = nil) throws -> GatewayState {
        let (policies, diagnostics, definitions) = try loadPolicies(configuration, logger: logger)
        let registry = PrometheusCollectorRegistry()
        let backends = try makeBackends(definitions, configuration: configuration, httpClients: httpClients, registry: registry)
        let credentials = try CredentialStore.load(configuration) { path in
            String(decoding: try FileReader.read(path), as: UTF8.self)
        }
        if credentials.usesDefault {
            logger.warning("no GATEWAY_ACCESS_KEY/GATEWAY_SECRET_KEY or credentials file: using the default local-identity / local-credential; do not expose this gateway")
        }
        return GatewayState(configuration: configuration, store: store, policies: policies, policyDiagnostics: diagnostics,
                            backends: backends, backendDefinitions: definitions, credentials: credentials, logger: logger,
                            registry: registry)
    }

    /// Migrates the metadata store, records the catalog and policy set, creates the zone
    /// buckets, then opens ``GatewayState/startup``.
    static func prepare(_ state: GatewayState) async throws {
        try await state.store.migrate()
        let policies = state.policyStore.current
        try await state.store.replaceProviders(PolicyLoader.providerRecords(policies.compiled.catalog))
        _ = try await state.store.recordPolicySet(PolicyLoader.record(policies, zones: Array(state.backends.keys)))
        for (zone, backend) in state.backends {
            do {
                // With Object Lock where the zone has it: S3 servers such as Ceph RGW cannot
                // turn it on for a bucket created without it, and copies would go unlocked.
                try await backend.initialize(objectLock: state.zoneHasObjectLock(zone))
            } catch let error as BackendError where error.code == .unavailable {
                // A zone that is down at start-up does not stop the gateway: it is marked down
                // and the health prober creates its bucket when it answers again.
                state.logger.warning("zone unavailable at start-up", metadata: ["zone": "\(zone)", "error": "\(error)"])
                state.setHealth(zone, false)
            }
        }
        state.startup.open()
    }

    static func run(configuration: GatewayConfiguration, logger: Logger) async throws {
        // The TLS files first: one that cannot serve stops the gateway before it touches anything.
        // SIGHUP reads the certificate and key again (a renewed certificate, no restart).
        let reloadable = try reloadableServerTLS(configuration)
        let serverTLS = reloadable?.tls
        let tlsReloader = reloadable?.reloader
        let backendTLS = try backendTLSConfiguration(configuration)
        let store = try await makeStore(configuration, logger: logger)
        let httpClient = BackendHTTPClients(connectionsPerHost: configuration.backendConnectionsPerHost,
                                            tlsConfiguration: backendTLS,
                                            readTimeout: .milliseconds(Int64(configuration.backendReadTimeout * 1000)),
                                            connectionWait: .milliseconds(Int64(configuration.backendConnectionWait * 1000)))
        let state: GatewayState
        do {
            state = try makeState(configuration, store: store, logger: logger, httpClients: httpClient)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: state.metricsRegistry))
        let listeners: (s3: any Service, management: any Service)
        do {
            listeners = try makeListeners(state: state, tls: serverTLS, logger: logger)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        let storeService = StoreService(store: store)
        let startup = StartupService(state: state, logger: logger)
        let reloadTLS: (@Sendable () -> Void)? = tlsReloader.map { reloader in { @Sendable in _ = reloader.reload(logger: logger) } }
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: storeService),
                .init(service: startup, successTerminationBehavior: .ignore),
                .init(service: listeners.s3),
                .init(service: listeners.management),
                .init(service: HealthProber(state: state)),
                .init(service: ReplicationWorker(state: state)),
                .init(service: Reconciler(state: state, interval: .seconds(max(1, configuration.reconcileInterval)),
                                           grace: TimeInterval(max(1, configuration.intentGrace)),
                                           uploadExpiry: configuration.uploadExpiry > 0 ? TimeInterval(configuration.uploadExpiry) : nil)),
                .init(service: PolicyReloadService(state: state, reloadTLS: reloadTLS)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        if let announcer = state.announcer {
            groupConfiguration.services.append(.init(service: PolicyAnnouncementListener(state: state, announcer: announcer)))
        }
        if configuration.verifyInterval > 0 {
            groupConfiguration.services.append(.init(service: ReplicaVerifier(
                state: state, interval: .seconds(configuration.verifyInterval), rate: configuration.verifyRate)))
        }
        if configuration.logSealInterval > 0 {
            groupConfiguration.services.append(.init(service: LogSealer(
                state: state, chain: LogChain(key: configuration.logSealKey), interval: .seconds(configuration.logSealInterval))))
        }
        if configuration.logVerifyInterval > 0 {
            groupConfiguration.services.append(.init(service: LogChainChecker(
                state: state, chain: LogChain(key: configuration.logSealKey), interval: .seconds(configuration.logVerifyInterval))))
        }
        if configuration.remediateInterval > 0 {
            groupConfiguration.services.append(.init(service: DriftRemediator(
                state: state, interval: .seconds(configuration.remediateInterval))))
        }
        // A shutdown that hangs (a request or service that never ends) is escalated to
        // cancellation, then to a crash, instead of keeping the process alive.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(max(1, configuration.shutdownGrace))
        groupConfiguration.maximumCancellationDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}

/// Runs the metadata store's connection pool.
struct StoreService: Service {
    let store: any MetadataStore
    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await store.run()
        }
    }
}

/// Reloads the policies and the catalog on each SIGHUP (see ``GatewayState/reloadPolicies(trigger:)``),
/// and the listeners' TLS certificate and key when they serve HTTPS.
struct PolicyReloadService: Service {
    let state: GatewayState
    /// Called once SIGHUP is trapped: from then on a SIGHUP reloads instead of ending the process.
    var onTrapped: @Sendable () -> Void = {}
    /// Reads the TLS certificate and key again (``TLSIdentityReloader``); nil on plain HTTP.
    var reloadTLS: (@Sendable () -> Void)?

    init(state: GatewayState, onTrapped: @escaping @Sendable () -> Void = {}, reloadTLS: (@Sendable () -> Void)? = nil) {
        self.state = state
        self.onTrapped = onTrapped
        self.reloadTLS = reloadTLS
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        onTrapped()
        for await _ in signals.cancelOnGracefulShutdown() {
            reloadTLS?()
            _ = await state.reloadPolicies(trigger: "SIGHUP")
        }
    }
}

/// Migrations and start-up records, then prints how to use the gateway.
struct StartupService: Service {
    let state: GatewayState
    let logger: Logger

    func run() async throws {
        var attempt = 0
        while true {
            do {
                try await GatewayApp.prepare(state)
                break
            } catch {
                attempt += 1
                if attempt > 30 { throw error }
                logger.warning("metadata store not ready, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
        let c = state.configuration
        logger.notice("gateway ready", metadata: [
            "s3.endpoint": "\(c.scheme)://\(c.host):\(c.s3Port)", "management": "\(c.scheme)://\(c.host):\(c.managementPort)",
            "policy.set": "\(state.policies.policySetHash)", "zones": "\(state.backends.keys.sorted().joined(separator: ","))",
        ])
        let key = state.credentials.principals.keys.sorted().first ?? CredentialStore.defaultAccessKey
        let secret = state.credentials.usesDefault ? CredentialStore.defaultSecretKey : "<your secret key>"
        print("""

            Gateway ready. Try:
              export AWS_ACCESS_KEY_ID=\(key) AWS_SECRET_ACCESS_KEY=\(secret) AWS_DEFAULT_REGION=\(c.region)
              aws --endpoint-url \(c.scheme)://\(c.host):\(c.s3Port) s3 mb s3://hr-data
              aws --endpoint-url \(c.scheme)://\(c.host):\(c.s3Port) s3 cp README.md s3://hr-data/personal/readme.md
            """)
    }
}
