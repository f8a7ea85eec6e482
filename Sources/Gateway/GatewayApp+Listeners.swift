import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// The gateway's two listeners, plain HTTP or HTTPS.
extension GatewayApp {
    /// Which of the two ports a listener serves.
    enum Listener: String, Sendable {
        /// The S3 API at the root path (``GatewayConfiguration/s3Port``).
        case s3
        /// The management API, plus the S3 API under `/s3/` (``GatewayConfiguration/managementPort``).
        case management
    }

    /// The HTTP/1.1 set-up of both listeners: `Expect: 100-continue` is answered at once; a
    /// connection silent for the idle timeout, also in the middle of a request body, is closed
    /// (the upload then fails and is cleaned); a header section over S3's 8 KiB gets S3's
    /// RequestHeaderSectionTooLarge.
    static func httpConfiguration(_ configuration: GatewayConfiguration) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [HeaderSectionLimitHandler(), ExpectContinueHandler()],
            idleTimeout: .seconds(Int64(max(1, configuration.idleTimeout))),
            httpDecoderConfiguration: HeaderSectionLimitHandler.decoderConfiguration)
    }

    /// HTTP/1.1 with `http`'s handlers and decoder limits, inside TLS when `tls` is given (then
    /// the port speaks nothing but TLS).
    static func makeServer(_ http: HTTP1Channel.Configuration, tls: TLSConfiguration?) throws -> HTTPServerBuilder {
        guard let tls else { return .http1(configuration: http) }
        return try .tls(.http1(configuration: http), tlsConfiguration: tls)
    }

    /// The S3 and the management listener on the configured host and ports, HTTPS when `tls`
    /// is given (``serverTLSConfiguration(_:)``). Each logs its scheme and address once it
    /// listens, then calls `onRunning` with its port.
    static func makeListeners(state: GatewayState, tls: TLSConfiguration?, logger: Logger,
                              onRunning: @escaping @Sendable (Listener, Int) async -> Void = { _, _ in })
        throws -> (s3: any Service, management: any Service) {
        let configuration = state.configuration
        let server = try makeServer(httpConfiguration(configuration), tls: tls)
        let scheme = tls == nil ? "http" : "https"
        let running = { @Sendable (listener: Listener) in
            { @Sendable (channel: any Channel) async in
                let port = channel.localAddress?.port ?? 0
                logger.notice("listening", metadata: [
                    "listener": "\(listener.rawValue)", "listener.url": "\(scheme)://\(configuration.host):\(port)",
                ])
                await onRunning(listener, port)
            }
        }
        let s3 = Application(
            responder: S3Responder(state: state, prefix: ""),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.s3Port), serverName: "gateway-s3"),
            onServerRunning: running(.s3),
            logger: logger)
        let management = Application(
            responder: ManagementResponder(state: state),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.managementPort), serverName: "gateway"),
            onServerRunning: running(.management),
            logger: logger)
        return (s3, management)
    }
}
