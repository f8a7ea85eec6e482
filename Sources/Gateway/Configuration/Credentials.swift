import PolicyEngine

/// The principals allowed to call the S3 API.
struct Principal: Sendable, Equatable {
    var accessKey: String
    var secretKey: String
    /// May bypass GOVERNANCE retention.
    var isAdmin: Bool
}

struct CredentialStore: Sendable {
    /// The original service's fixed pair, used (with a warning) when nothing is configured.
    static let defaultAccessKey = "local-identity"
    static let defaultSecretKey = "local-credential"

    let principals: [String: Principal]
    let usesDefault: Bool

    init(principals: [Principal], usesDefault: Bool = false) {
        self.principals = Dictionary(principals.map { ($0.accessKey, $0) }, uniquingKeysWith: { a, _ in a })
        self.usesDefault = usesDefault
    }

    func principal(_ accessKey: String) -> Principal? { principals[accessKey] }

    static func load(_ configuration: GatewayConfiguration, readFile: (String) throws -> String) throws -> CredentialStore {
        var principals: [Principal] = []
        // Empty values are unset (see ``GatewayCommand/setting(_:_:environment:)``).
        let accessKey = configuration.accessKey.flatMap { $0.isEmpty ? nil : $0 }
        let secretKey = configuration.secretKey.flatMap { $0.isEmpty ? nil : $0 }
        switch (accessKey, secretKey) {
        case let (accessKey?, secretKey?):
            principals.append(Principal(accessKey: accessKey, secretKey: secretKey, isAdmin: true))
        case (nil, nil):
            break
        default:
            // Half a principal would silently leave the gateway on the default pair.
            throw BackendsConfigError(description: "GATEWAY_ACCESS_KEY and GATEWAY_SECRET_KEY must be set together")
        }
        if let file = configuration.credentialsFile.flatMap({ $0.isEmpty ? nil : $0 }) {
            let json = try JSONValue.parse(try readFile(file))
            guard case .array(let list)? = json["principals"] else {
                throw BackendsConfigError(description: "\(file): expected {\"principals\": [...]}")
            }
            for entry in list {
                guard let a = entry["accessKey"]?.stringValue, let s = entry["secretKey"]?.stringValue else {
                    throw BackendsConfigError(description: "\(file): every principal needs accessKey and secretKey")
                }
                principals.append(Principal(accessKey: a, secretKey: s, isAdmin: entry["admin"]?.boolValue ?? false))
            }
        }
        if principals.isEmpty {
            return CredentialStore(principals: [Principal(accessKey: defaultAccessKey, secretKey: defaultSecretKey, isAdmin: true)],
                                   usesDefault: true)
        }
        return CredentialStore(principals: principals)
    }
}
