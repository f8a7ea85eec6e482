import Foundation
import PostgresNIO

extension PostgresMetadataStore.Configuration {
    /// Parses `postgres://user[:password]@host[:port]/database[?options]` (also `postgresql://`).
    ///
    /// Options: `sslmode` = `disable`, `prefer` (default, as libpq) or `require`;
    /// `schema` (see ``schema``); `max_connections` (pool size); `prepared_statements` = `on`
    /// (default) or `off` (see ``preparedStatements``); `host=/path/to/socket/dir` for a unix
    /// socket (then `.s.PGSQL.<port>` in it).
    public init(url: String) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw MetadataError.invalid("not a postgres:// URL") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last }
        )
        let username = components.user ?? "postgres"
        let password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.isEmpty ? nil : path
        let port = components.port ?? 5432

        var client: PostgresClient.Configuration
        // The listener's TLS needs a context made up front; if that fails, it listens on a
        // pooled connection instead.
        let listener: PostgresConnection.Configuration?
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            client = PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)",
                username: username, password: password, database: database
            )
            listener = PostgresConnection.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)",
                username: username, password: password, database: database
            )
        } else {
            guard let host = components.host, !host.isEmpty else { throw MetadataError.invalid("the URL has no host") }
            let tls: PostgresClient.Configuration.TLS
            let listenerTLS: PostgresConnection.Configuration.TLS?
            switch query["sslmode"] ?? "prefer" {
            case "disable": (tls, listenerTLS) = (.disable, .disable)
            case "prefer", "allow":
                let context = try? NIOSSLContext(configuration: .makeClientConfiguration())
                (tls, listenerTLS) = (.prefer(.makeClientConfiguration()), context.map { .prefer($0) })
            case "require", "verify-ca", "verify-full":
                let context = try? NIOSSLContext(configuration: .makeClientConfiguration())
                (tls, listenerTLS) = (.require(.makeClientConfiguration()), context.map { .require($0) })
            case let mode: throw MetadataError.invalid("unsupported sslmode \(mode)")
            }
            client = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls
            )
            listener = listenerTLS.map {
                PostgresConnection.Configuration(
                    host: host, port: port, username: username, password: password, database: database, tls: $0)
            }
        }
        if let value = query["max_connections"] {
            guard let max = Int(value), max > 0 else { throw MetadataError.invalid("max_connections must be a positive integer") }
            client.options.maximumConnections = max
        }
        self.init(client: client, schema: query["schema"].flatMap { $0.isEmpty ? nil : $0 })
        listenerConnection = listener
        switch query["prepared_statements"] ?? "on" {
        case "on", "true", "1": preparedStatements = true
        case "off", "false", "0": preparedStatements = false
        case let value: throw MetadataError.invalid("prepared_statements must be on or off, not \(value)")
        }
    }
}
