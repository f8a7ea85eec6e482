import ArgumentParser
import Foundation
import Logging
import Metadata
import NIOCore
import NIOPosix
import S3Protocol

/// `gateway`: the S3-compatible data-sovereignty gateway.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "S3-compatible gateway that places every write by data-sovereignty policies.",
        discussion: """
            Every option also reads the environment variable named in its help. With no \
            DATABASE_URL the metadata is kept in SQLite under DATA_DIR.

            Example:
              gateway --policies-dir policies --backends-config config/s3_backends.json
              aws --endpoint-url http://127.0.0.1:8080 s3 ls
            """
    )

    static let environment = ProcessInfo.processInfo.environment

    /// Swift concurrency runs on the event loops that do the network I/O: a request's task, the
    /// backend connections it streams to and the client connection it answers then share
    /// threads instead of handing every body chunk between two pools (1 GiB GETs through the
    /// gateway were 0.41-0.54x of direct before, 0.70-0.74x after, see BENCHMARKS.md). Nothing
    /// in the gateway blocks a task: files go through NIO's thread pool and SQLite has its own
    /// threads. Installed before anything else runs, from the main thread.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    @Option(help: "PostgreSQL URL (env DATABASE_URL); unset = SQLite under --data-dir.")
    var databaseURL: String?

    @Option(help: "Folder for SQLite metadata (env DATA_DIR).")
    var dataDir: String = environment["DATA_DIR"] ?? "./data"

    @Option(help: "Backends file (env S3_BACKENDS_CONFIG).")
    var backendsConfig: String = environment["S3_BACKENDS_CONFIG"] ?? "config/s3_backends.json"

    @Option(help: "Provider catalog (env PROVIDERS_FILE).")
    var providersFile: String = environment["PROVIDERS_FILE"] ?? "providers_flat.csv"

    @Option(help: "Policies directory (env POLICIES_DIR).")
    var policiesDir: String = environment["POLICIES_DIR"] ?? "policies"

    @Option(help: "Address to listen on (env GATEWAY_HOST).")
    var host: String = environment["GATEWAY_HOST"] ?? "127.0.0.1"

    @Option(help: "Port of the S3 API at the root path (env GATEWAY_S3_PORT).")
    var s3Port: Int = Int(environment["GATEWAY_S3_PORT"] ?? "") ?? 8080

    @Option(help: "Port of the management API and the S3 API under /s3/ (env GATEWAY_PORT).")
    var port: Int = Int(environment["GATEWAY_PORT"] ?? "") ?? 8000

    @Option(help: "PEM certificate (chain) of both ports; with --tls-key-file they serve HTTPS only (env GATEWAY_TLS_CERT_FILE).")
    var tlsCertFile: String?

    @Option(help: "PEM private key of --tls-cert-file's certificate (env GATEWAY_TLS_KEY_FILE).")
    var tlsKeyFile: String?

    @Option(name: .customLong("backend-ca-file"),
            help: "PEM bundle of CA certificates trusted for HTTPS backends besides the system's (env GATEWAY_BACKEND_CA_FILE).")
    var backendCAFile: String?

    @Option(help: "Access key of the S3 principal (env GATEWAY_ACCESS_KEY).")
    var accessKey: String?

    @Option(help: "Secret key of the S3 principal (env GATEWAY_SECRET_KEY).")
    var secretKey: String?

    @Option(help: "JSON file with several principals (env GATEWAY_CREDENTIALS_FILE).")
    var credentialsFile: String?

    @Option(help: "Bearer token for the management API (env GATEWAY_ADMIN_TOKEN).")
    var adminToken: String?

    @Option(help: "Domain for virtual-hosted-style requests (env GATEWAY_DOMAIN).")
    var domain: String?

    @Option(help: "The bucket every S3 backend keeps the data in, unless its entry in the backends file names its own (env GATEWAY_PHYSICAL_BUCKET).")
    var physicalBucket: String?

    @Option(help: "The region the S3 API reports and gives new buckets by default (env GATEWAY_REGION).")
    var region: String?

    @Option(help: "Seconds a connection may stay silent, also mid-upload, before it is closed (env GATEWAY_IDLE_TIMEOUT).")
    var idleTimeout: Int = Int(environment["GATEWAY_IDLE_TIMEOUT"] ?? "") ?? 30

    @Option(help: "Seconds between reconciler passes (env GATEWAY_RECONCILE_INTERVAL).")
    var reconcileInterval: Int = Int(environment["GATEWAY_RECONCILE_INTERVAL"] ?? "") ?? 60

    @Option(help: "Seconds before an uncommitted write counts as crashed and its copies are removed (env GATEWAY_INTENT_GRACE).")
    var intentGrace: Int = Int(environment["GATEWAY_INTENT_GRACE"] ?? "") ?? 3600

    @Option(help: "Seconds after which an unfinished multipart upload is aborted, its parts removed from every zone; 0 keeps uploads until completed or aborted (env GATEWAY_UPLOAD_EXPIRY).")
    var uploadExpiry: Int = Int(environment["GATEWAY_UPLOAD_EXPIRY"] ?? "") ?? 7 * 86400

    @Option(help: "Seconds from the end of one verification pass (which checks that every complete replica is still in its zone) to the next, shared by the instances on one store; 0 turns them off (env GATEWAY_VERIFY_INTERVAL).")
    var verifyInterval: Int = Int(environment["GATEWAY_VERIFY_INTERVAL"] ?? "") ?? 86400

    @Option(help: "Replicas verified per second at most (env GATEWAY_VERIFY_RATE).")
    var verifyRate: Double = Double(environment["GATEWAY_VERIFY_RATE"] ?? "") ?? 20

    @Option(help: "Seconds from the end of one drift remediation pass (which moves copies the policies in force no longer allow to zones they do) to the next, shared by the instances on one store; 0 turns them off (env GATEWAY_REMEDIATE_INTERVAL).")
    var remediateInterval: Int = Int(environment["GATEWAY_REMEDIATE_INTERVAL"] ?? "") ?? 0

    @Option(help: "Seconds between the batches that seal the operations log into its hash chain; 0 stops sealing (env GATEWAY_LOG_SEAL_INTERVAL).")
    var logSealInterval: Int = Int(environment["GATEWAY_LOG_SEAL_INTERVAL"] ?? "") ?? 10

    @Option(help: "Key of the operations log's hash chain (HMAC-SHA256); without one it is SHA-256 (env GATEWAY_LOG_SEAL_KEY).")
    var logSealKey: String?

    @Option(help: "Seconds from the end of one check of the operations log's whole hash chain to the next, shared by the instances on one store; 0 turns them off (env GATEWAY_LOG_VERIFY_INTERVAL).")
    var logVerifyInterval: Int = Int(environment["GATEWAY_LOG_VERIFY_INTERVAL"] ?? "") ?? 86400

    @Option(help: "Seconds the zones of a write beyond its quorum may take for a step after the quorum's zones took it (at least as long as those took); a zone still busy then is left to the replication worker (env GATEWAY_STRAGGLER_GRACE).")
    var stragglerGrace: Double = Double(environment["GATEWAY_STRAGGLER_GRACE"] ?? "") ?? 2

    @Option(help: "Seconds a streamed write may wait for an S3 backend to take more of the body, and a small write for its answer, before that zone's write fails; below the idle timeout (default: 10, or half the idle timeout if that is less) (env GATEWAY_BACKEND_STALL_TIMEOUT).")
    var backendStallTimeout: Double?

    @Option(help: "Seconds an S3 backend's connection may receive nothing while a response is awaited or read before the request fails; a provider silent mid-body is given up after it (env GATEWAY_BACKEND_READ_TIMEOUT).")
    var backendReadTimeout: Double = Double(environment["GATEWAY_BACKEND_READ_TIMEOUT"] ?? "") ?? 30

    @Option(help: "HTTP connections, so requests in flight, per S3 backend host (env GATEWAY_BACKEND_CONNECTIONS).")
    var backendConnections: Int = Int(environment["GATEWAY_BACKEND_CONNECTIONS"] ?? "") ?? 64

    @Option(help: "Seconds a request may wait for a connection to an S3 backend host whose connections are all busy before it fails; below the idle timeout (default: 20, or two thirds of the idle timeout if that is less) (env GATEWAY_BACKEND_CONNECTION_WAIT).")
    var backendConnectionWait: Double?

    @Option(help: "Seconds a graceful shutdown waits for requests in flight before cancelling them (env GATEWAY_SHUTDOWN_GRACE).")
    var shutdownGrace: Int = Int(environment["GATEWAY_SHUTDOWN_GRACE"] ?? "") ?? 60

    @Option(help: "SQLite commit durability: normal (survives a crash of the process; the last commits may be lost on power loss) or full (every commit synced, and local-disk zones sync the folders of their new objects) (env SQLITE_SYNCHRONOUS).")
    var sqliteSynchronous: String = environment["SQLITE_SYNCHRONOUS"] ?? "normal"

    @Option(help: "Record every read (GET, HEAD) in the operations log before answering it, and refuse a read that cannot be recorded: on or off (env GATEWAY_AUDIT_READS).")
    var auditReads: String = environment["GATEWAY_AUDIT_READS"] ?? "off"

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env LOG_LEVEL).")
    var logLevel: String = environment["LOG_LEVEL"] ?? "info"

    /// An optional string setting: the flag, else the environment variable. An empty value is
    /// unset, as docker-compose's `${VAR:-}` passes one when the variable is not set.
    static func setting(_ flag: String?, _ variable: String, environment: [String: String] = environment) -> String? {
        guard let value = flag ?? environment[variable], !value.isEmpty else { return nil }
        return value
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label) }
        let configuration = try makeConfiguration()
        var logger = Logger(label: "gateway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await GatewayApp.run(configuration: configuration, logger: logger)
    }

    /// The configuration the flags and the environment give; throws `ValidationError` for a
    /// value that is not allowed.
    func makeConfiguration() throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.databaseURL = (databaseURL ?? Self.environment["DATABASE_URL"]).flatMap { $0.isEmpty ? nil : $0 }
        configuration.dataDirectory = dataDir
        configuration.backendsFile = backendsConfig
        configuration.providersFile = providersFile
        configuration.policiesDirectory = policiesDir
        configuration.host = host
        configuration.s3Port = s3Port
        configuration.managementPort = port
        configuration.tlsCertificateFile = Self.setting(tlsCertFile, "GATEWAY_TLS_CERT_FILE")
        configuration.tlsKeyFile = Self.setting(tlsKeyFile, "GATEWAY_TLS_KEY_FILE")
        switch (configuration.tlsCertificateFile, configuration.tlsKeyFile) {
        case (let certificate?, nil):
            throw ValidationError("GATEWAY_TLS_CERT_FILE (--tls-cert-file) is \(certificate) but GATEWAY_TLS_KEY_FILE (--tls-key-file) is not set: HTTPS needs both")
        case (nil, let key?):
            throw ValidationError("GATEWAY_TLS_KEY_FILE (--tls-key-file) is \(key) but GATEWAY_TLS_CERT_FILE (--tls-cert-file) is not set: HTTPS needs both")
        default: break
        }
        configuration.backendCAFile = Self.setting(backendCAFile, "GATEWAY_BACKEND_CA_FILE")
        configuration.accessKey = Self.setting(accessKey, "GATEWAY_ACCESS_KEY")
        configuration.secretKey = Self.setting(secretKey, "GATEWAY_SECRET_KEY")
        configuration.credentialsFile = Self.setting(credentialsFile, "GATEWAY_CREDENTIALS_FILE")
        configuration.adminToken = Self.setting(adminToken, "GATEWAY_ADMIN_TOKEN")
        configuration.domain = Self.setting(domain, "GATEWAY_DOMAIN")
        if let bucket = Self.setting(physicalBucket, "GATEWAY_PHYSICAL_BUCKET") {
            guard BucketNameValidator.isValid(bucket) else {
                throw ValidationError("--physical-bucket must be a valid S3 bucket name, not \(bucket)")
            }
            configuration.physicalBucket = bucket
        }
        if let region = Self.setting(region, "GATEWAY_REGION") { configuration.region = region }
        configuration.idleTimeout = idleTimeout
        configuration.reconcileInterval = reconcileInterval
        configuration.intentGrace = intentGrace
        guard let synchronous = SQLiteMetadataStore.Configuration.Synchronous(rawValue: sqliteSynchronous.uppercased()) else {
            throw ValidationError("--sqlite-synchronous must be normal or full, not \(sqliteSynchronous)")
        }
        configuration.sqliteSynchronous = synchronous
        guard backendConnections >= 1 else { throw ValidationError("--backend-connections must be at least 1") }
        configuration.backendConnectionsPerHost = backendConnections
        configuration.uploadExpiry = max(0, uploadExpiry)
        configuration.verifyInterval = max(0, verifyInterval)
        configuration.remediateInterval = max(0, remediateInterval)
        configuration.logSealInterval = max(0, logSealInterval)
        configuration.logVerifyInterval = max(0, logVerifyInterval)
        configuration.logSealKey = Self.setting(logSealKey, "GATEWAY_LOG_SEAL_KEY")
        guard verifyRate > 0, verifyRate.isFinite else {
            throw ValidationError("GATEWAY_VERIFY_RATE must be a number of replicas per second above 0; got \(verifyRate)")
        }
        configuration.verifyRate = verifyRate
        guard stragglerGrace >= 0.1, stragglerGrace.isFinite else {
            throw ValidationError("GATEWAY_STRAGGLER_GRACE must be a number of seconds of at least 0.1; got \(stragglerGrace)")
        }
        configuration.stragglerGrace = stragglerGrace
        let idle = Double(max(1, configuration.idleTimeout))
        let stallText = Self.setting(backendStallTimeout.map { "\($0)" }, "GATEWAY_BACKEND_STALL_TIMEOUT")
        let stall = stallText.map { Double($0) ?? .nan } ?? min(10, idle / 2)
        guard stall >= 0.1, stall.isFinite, stall < idle else {
            throw ValidationError("GATEWAY_BACKEND_STALL_TIMEOUT must be a number of seconds of at least 0.1 and below the idle timeout (\(configuration.idleTimeout) s); got \(stallText ?? "\(stall)")")
        }
        configuration.backendStallTimeout = stall
        guard backendReadTimeout >= 1, backendReadTimeout.isFinite else {
            throw ValidationError("GATEWAY_BACKEND_READ_TIMEOUT must be a number of seconds of at least 1; got \(backendReadTimeout)")
        }
        configuration.backendReadTimeout = backendReadTimeout
        let waitText = Self.setting(backendConnectionWait.map { "\($0)" }, "GATEWAY_BACKEND_CONNECTION_WAIT")
        let wait = waitText.map { Double($0) ?? .nan } ?? min(20, idle * 2 / 3)
        guard wait >= 0, wait.isFinite, wait < idle else {
            throw ValidationError("GATEWAY_BACKEND_CONNECTION_WAIT must be a number of seconds, 0 or more and below the idle timeout (\(configuration.idleTimeout) s); got \(waitText ?? "\(wait)")")
        }
        configuration.backendConnectionWait = wait
        configuration.shutdownGrace = max(1, shutdownGrace)
        switch auditReads.lowercased() {
        case "on", "true", "1": configuration.auditReads = true
        case "off", "false", "0", "": configuration.auditReads = false
        default: throw ValidationError("--audit-reads must be on or off, not \(auditReads)")
        }
        return configuration
    }
}
