import NIOSSL
import PolicyEngine

/// HTTPS: the listeners' certificate and key (`GATEWAY_TLS_CERT_FILE`, `GATEWAY_TLS_KEY_FILE`)
/// and the extra trust roots of HTTPS backends (`GATEWAY_BACKEND_CA_FILE`). Each file is read
/// and checked once, before anything else starts; a file that cannot serve stops the start-up
/// with a ``GatewayApp/StartupError`` naming the variable and the file.
extension GatewayApp {
    /// The listeners' TLS configuration (TLS 1.2 or later), nil when neither the certificate
    /// nor the key is set (plain HTTP). Throws for one without the other, a file that cannot be
    /// read, one without a PEM certificate or key, and a key that is not the first certificate's.
    static func serverTLSConfiguration(_ configuration: GatewayConfiguration) throws(StartupError) -> TLSConfiguration? {
        let certificateFile: String
        let keyFile: String
        switch (configuration.tlsCertificateFile, configuration.tlsKeyFile) {
        case (nil, nil):
            return nil
        case (let certificate?, nil):
            throw StartupError(description: "GATEWAY_TLS_CERT_FILE is \(certificate) but GATEWAY_TLS_KEY_FILE is not set: HTTPS needs both")
        case (nil, let key?):
            throw StartupError(description: "GATEWAY_TLS_KEY_FILE is \(key) but GATEWAY_TLS_CERT_FILE is not set: HTTPS needs both")
        case (let certificate?, let key?):
            certificateFile = certificate
            keyFile = key
        }
        let chain = try certificates(in: certificateFile, variable: "GATEWAY_TLS_CERT_FILE")
        let keyBytes = try read(keyFile, variable: "GATEWAY_TLS_KEY_FILE")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw StartupError(description: "GATEWAY_TLS_KEY_FILE \(keyFile) holds no PEM private key (unencrypted): \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                           privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // A context checks that the key belongs to the first certificate. The listeners make
        // theirs only once they start: made here, a mismatch stops the start-up with a message.
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw StartupError(description: "GATEWAY_TLS_KEY_FILE \(keyFile) is not the key of the first certificate in GATEWAY_TLS_CERT_FILE \(certificateFile): \(error)")
        }
        return tls
    }

    /// ``serverTLSConfiguration(_:)`` whose certificate and key can be read again while the
    /// listeners run (``TLSIdentityReloader``); nil on plain HTTP.
    static func reloadableServerTLS(_ configuration: GatewayConfiguration) throws(StartupError)
        -> (tls: TLSConfiguration, reloader: TLSIdentityReloader)? {
        guard var tls = try serverTLSConfiguration(configuration) else { return nil }
        let reloader = TLSIdentityReloader(configuration: configuration)
        tls.sslContextCallback = reloader.contextCallback
        return (tls, reloader)
    }

    /// The TLS configuration of the backends' HTTP clients: the system's trust roots plus the
    /// certificates in `GATEWAY_BACKEND_CA_FILE`; nil (the client's default, the system's
    /// roots alone) when that is unset.
    static func backendTLSConfiguration(_ configuration: GatewayConfiguration) throws(StartupError) -> TLSConfiguration? {
        guard let file = configuration.backendCAFile else { return nil }
        let roots = try certificates(in: file, variable: "GATEWAY_BACKEND_CA_FILE")
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(roots)]
        return tls
    }

    /// The PEM certificates in `path`, at least one.
    private static func certificates(in path: String, variable: String) throws(StartupError) -> [NIOSSLCertificate] {
        let bytes = try read(path, variable: variable)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw StartupError(description: "\(variable) \(path) is not a PEM certificate file: \(error)")
        }
        guard !certificates.isEmpty else {
            throw StartupError(description: "\(variable) \(path) holds no PEM certificate")
        }
        return certificates
    }

    private static func read(_ path: String, variable: String) throws(StartupError) -> [UInt8] {
        do {
            return try FileReader.read(path, limit: 1024 * 1024)
        } catch {
            throw StartupError(description: "\(variable): \(error)")
        }
    }
}
