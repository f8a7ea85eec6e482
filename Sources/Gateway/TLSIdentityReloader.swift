import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The listeners' certificate and key, read again when the gateway gets SIGHUP, so a renewed
/// certificate is served without a restart. The files are checked as at start-up
/// (``GatewayApp/serverTLSConfiguration(_:)``); a pair that does not pass leaves the one in
/// use and is logged as an error. New connections get the new pair (``contextCallback``, set as
/// the listeners' `sslContextCallback`); connections already open keep theirs.
final class TLSIdentityReloader: Sendable {
    private struct Identity: Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }

    let configuration: GatewayConfiguration
    /// The pair read by the last successful reload; nil until then (the start-up pair serves).
    private let current = Mutex<Identity?>(nil)

    init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// Reads the files again; true when the new pair is in use.
    @discardableResult
    func reload(logger: Logger) -> Bool {
        do {
            guard let tls = try GatewayApp.serverTLSConfiguration(configuration),
                  case .privateKey(let key)? = tls.privateKey else { return false }
            let chain = tls.certificateChain.compactMap { source -> NIOSSLCertificate? in
                if case .certificate(let certificate) = source { return certificate }
                return nil
            }
            current.withLock { $0 = Identity(chain: chain, key: key) }
            logger.notice("TLS certificate reloaded", metadata: [
                "tls.certificate_file": "\(configuration.tlsCertificateFile ?? "")", "tls.certificates": "\(chain.count)",
            ])
            return true
        } catch {
            logger.error("TLS certificate reload refused; the certificate in use stays", metadata: ["error": "\(error.description)"])
            return false
        }
    }

    /// Gives each new handshake the pair of the last reload (none before the first).
    var contextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            guard let identity = self.current.withLock({ $0 }) else {
                promise.succeed(.noChanges)
                return
            }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = identity.chain.map { .certificate($0) }
            override.privateKey = .privateKey(identity.key)
            promise.succeed(override)
        }
    }
}
