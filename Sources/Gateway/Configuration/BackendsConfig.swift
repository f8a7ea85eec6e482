import PolicyEngine

/// One entry of `config/s3_backends.json` (the original service's format, plus
/// `access_key_env`/`secret_key_env` and an optional physical `bucket`).
struct BackendDefinition: Sendable, Equatable {
    var name: String
    var provider: String
    var zoneCode: String
    var region: String
    /// `https://host`, `http://host:port`, or `file:PATH` for a local-disk zone.
    var endpoint: String
    var accessKey: String
    var secretKey: String
    var isPrimary: Bool
    var enabled: Bool
    var bucket: String?

    var isLocalDisk: Bool { endpoint.hasPrefix("file:") }
    var localPath: String { String(endpoint.dropFirst("file:".count)) }
}

struct BackendsConfigError: Error, CustomStringConvertible {
    var description: String
}

enum BackendsConfig {
    /// Parses the file; `environment` resolves `*_env` secrets. Every backend must name a zone of
    /// the catalog (a start-up error otherwise).
    static func parse(_ text: String, file: String, catalog: Catalog,
                      environment: [String: String]) throws -> [BackendDefinition] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw BackendsConfigError(description: "\(file):\(error.line):\(error.column): \(error.message)")
        }
        guard case .object(let entries) = json else {
            throw BackendsConfigError(description: "\(file): expected a JSON object keyed by backend name")
        }
        var result: [BackendDefinition] = []
        for (name, value) in entries {
            func string(_ key: String) -> String? { value[key]?.stringValue }
            guard let zone = string("zone_code"), !zone.isEmpty else {
                throw BackendsConfigError(description: "\(file): backend '\(name)' has no zone_code")
            }
            guard catalog.zone(zone) != nil else {
                throw BackendsConfigError(description: "\(file): backend '\(name)' names zone '\(zone)', which is not in the catalog \(catalog.file)")
            }
            guard let endpoint = string("endpoint"), !endpoint.isEmpty else {
                throw BackendsConfigError(description: "\(file): backend '\(name)' has no endpoint")
            }
            func secret(_ key: String) throws -> String {
                if let env = string(key + "_env") {
                    // Empty counts as unset (docker-compose's `${VAR:-}` passes "").
                    guard let v = environment[env], !v.isEmpty else {
                        throw BackendsConfigError(description: "\(file): backend '\(name)': environment variable \(env) (\(key)_env) is not set")
                    }
                    return v
                }
                return string(key) ?? ""
            }
            result.append(BackendDefinition(
                name: name, provider: string("provider") ?? catalog.zone(zone)!.providerName,
                zoneCode: zone, region: string("region") ?? "us-east-1", endpoint: endpoint,
                accessKey: try secret("access_key"), secretKey: try secret("secret_key"),
                isPrimary: value["is_primary"]?.boolValue ?? false, enabled: value["enabled"]?.boolValue ?? true,
                bucket: string("bucket")))
        }
        var servedBy: [String: String] = [:]
        for backend in result where backend.enabled {
            if let other = servedBy[backend.zoneCode] {
                throw BackendsConfigError(description: "\(file): backends '\(other)' and '\(backend.name)' both serve zone \(backend.zoneCode); disable one (\"enabled\": false)")
            }
            servedBy[backend.zoneCode] = backend.name
        }
        return result
    }
}
