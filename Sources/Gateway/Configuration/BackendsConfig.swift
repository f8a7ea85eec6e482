import PolicyEngine

/// The region of an S3 backend, as S3 names it: the region its requests are signed for
/// (`region` in the backends file) and the `LocationConstraint` the physical bucket is created
/// with (`location_constraint`, by default the region).
struct BackendRegion: Sendable, Equatable {
    /// The SigV4 signing region, such as `hel1` or `eu-north-1`.
    var name: String
    /// CreateBucket's LocationConstraint; nil sends none, as S3 wants for us-east-1 (it refuses
    /// `us-east-1` as a constraint) and as a provider whose endpoint alone decides the location
    /// may want (`"location_constraint": ""`).
    var locationConstraint: String?

    /// `locationConstraint` nil: the region; "" or us-east-1: none.
    init(name: String, locationConstraint: String? = nil) {
        self.name = name
        let constraint = locationConstraint ?? name
        self.locationConstraint = constraint.isEmpty || constraint == "us-east-1" ? nil : constraint
    }
}

/// One entry of `config/s3_backends.json` (the original service's format, plus
/// `access_key_env`/`secret_key_env`, `location_constraint` and an optional physical `bucket`).
struct BackendDefinition: Sendable, Equatable {
    var name: String
    var provider: String
    var zoneCode: String
    var region: BackendRegion
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
                zoneCode: zone,
                region: BackendRegion(name: string("region").flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1",
                                      locationConstraint: string("location_constraint")),
                endpoint: endpoint,
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
