import Metadata

/// Everything the gateway is started with. Each field has an environment variable (the
/// original service's names) and a command-line flag; see `GatewayCommand`.
struct GatewayConfiguration: Sendable {
    /// PostgreSQL URL; nil = SQLite under `dataDirectory`.
    var databaseURL: String?
    var dataDirectory: String = "./data"
    var backendsFile: String = "config/s3_backends.json"
    var providersFile: String = "providers_flat.csv"
    var policiesDirectory: String = "policies"
    var host: String = "127.0.0.1"
    /// The S3 API at the root path.
    var s3Port: Int = 8080
    /// The management API, plus the S3 API under `/s3/`.
    var managementPort: Int = 8000
    /// PEM certificate of both listeners, the server's own first and then any intermediates;
    /// with ``tlsKeyFile`` both ports serve HTTPS only (TLS 1.2 or later). Neither set: plain
    /// HTTP. One without the other stops the start-up.
    var tlsCertificateFile: String?
    /// PEM private key of the first certificate in ``tlsCertificateFile``.
    var tlsKeyFile: String?
    /// The listeners' URL scheme: `https` with a certificate and a key, else `http`.
    var scheme: String { tlsCertificateFile != nil && tlsKeyFile != nil ? "https" : "http" }
    /// PEM bundle of CA certificates that HTTPS backends may chain to besides the system's
    /// trust roots (an on-premises S3 behind a private CA); nil trusts the system's alone.
    var backendCAFile: String?
    var accessKey: String?
    var secretKey: String?
    /// A JSON file `{"principals": [{"accessKey", "secretKey", "admin"}]}` with several principals.
    var credentialsFile: String?
    /// Bearer token of the management API (except `/health`); nil or empty = no token needed.
    var adminToken: String?
    /// The physical bucket every backend keeps its data in.
    var physicalBucket: String = "2025-datatransfer"
    /// Region reported by GetBucketLocation and used when none is given.
    var region: String = "us-east-1"
    /// With a domain, `BUCKET.DOMAIN` requests are virtual-hosted style.
    var domain: String?
    /// Whether every read of the S3 API (GET and HEAD: objects, listings, configurations),
    /// refused ones included, is recorded in the operations log before it is answered; a read
    /// that cannot be recorded is refused with 503.
    var auditReads = false
    /// Seconds a connection may stay silent (no request, or no bytes of a request body being
    /// read) before it is closed, so a stalled client cannot hold a connection and its upload.
    var idleTimeout: Int = 30
    /// Seconds between reconciler passes.
    var reconcileInterval: Int = 60
    /// Seconds after which an uncommitted write intent counts as crashed and its backend
    /// objects are removed; far longer than any write takes.
    var intentGrace: Int = 3600
    /// Seconds after which an unfinished multipart upload is aborted by the reconciler; 0 keeps
    /// uploads until the client completes or aborts them.
    var uploadExpiry: Int = 7 * 86400
    /// Seconds from the end of one verification pass over every complete replica (on any
    /// instance sharing the store) to the start of the next (``ReplicaVerifier``); 0 turns
    /// verification off.
    var verifyInterval: Int = 86400
    /// Replicas verification checks per second at most.
    var verifyRate: Double = 20
    /// Seconds that the zones of a write beyond its quorum may take for a step (a chunk of the
    /// body, or the end) after the quorum's zones have taken it, or as long as those took if
    /// that is longer. A zone still busy then is left behind: its copy is made later by the
    /// replication worker, as for a zone that was down, and the write does not wait for a
    /// provider that stopped answering.
    var stragglerGrace: Double = 2
    /// Seconds a streamed write to an S3 backend may wait for the provider to take the next
    /// piece of the body, and a small write sent whole for the provider's answer, before that
    /// zone's write fails (a zone the quorum needs: the write fails with 503). Below ``idleTimeout``, which closes the client's connection when its
    /// body is not read for that long, so the client gets an answer first.
    var backendStallTimeout: Double = 10
    /// Seconds an S3 backend's connection may receive nothing while a response is awaited or
    /// read before the request fails: a provider that goes silent mid-body is given up after
    /// it, and the read goes on from another replica. It also runs while a client pauses its
    /// download; such a read goes on from the same replica.
    var backendReadTimeout: Double = 30
    /// Seconds a request may wait for a connection to an S3 backend host whose
    /// `backendConnectionsPerHost` are all busy (first come, first served) before it fails.
    /// Below the idle timeout: the gateway reads none of a waiting upload's body meanwhile.
    var backendConnectionWait: Double = 20
    /// Seconds from the end of one drift remediation pass (on any instance sharing the store)
    /// to the start of the next (``DriftRemediator``); 0, the default, leaves moving copies
    /// after a policy change to `POST /api/residency/remediate`.
    var remediateInterval: Int = 0
    /// Seconds between the batches that seal the operations log into its hash chain
    /// (``LogSealer``); 0 stops sealing.
    var logSealInterval: Int = 10
    /// The HMAC key of the chain; without one the chain is plain SHA-256.
    var logSealKey: String?
    /// Seconds from the end of one check of the whole chain (on any instance sharing the
    /// store) to the next (``LogChainChecker``); 0 turns the checks off.
    var logVerifyInterval: Int = 86400
    /// HTTP connections (requests in flight) per S3 backend host.
    var backendConnectionsPerHost: Int = 64
    /// Seconds a graceful shutdown (SIGTERM, SIGINT) may take for requests in flight to end;
    /// then what still runs is cancelled, and if that does not end within 10 s the process
    /// stops with an error.
    var shutdownGrace: Int = 60
    /// The embedded SQLite store's `PRAGMA synchronous` (see ``SQLiteMetadataStore/Configuration``).
    var sqliteSynchronous: SQLiteMetadataStore.Configuration.Synchronous = .normal

    /// Whether a metadata commit is on the disk when it returns: always on PostgreSQL
    /// (`synchronous_commit`), on SQLite with `synchronous = FULL`. Local-disk zones then sync
    /// their folders too (``LocalDiskBackend``), so that an object is as durable as its record.
    var commitsAreSynced: Bool { databaseURL != nil || sqliteSynchronous == .full }
}
