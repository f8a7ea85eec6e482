import Foundation
import Metadata
import PolicyEngine

/// Reads the catalog and compiles the policy directory: the same steps at start-up and on a
/// reload, so that a set the gateway would refuse to start with is never put in force later.
enum PolicyLoader {
    /// A compilation: the set when it has no error, and every finding.
    struct Outcome: Sendable {
        var compiled: CompiledPolicySet?
        var diagnostics: [Diagnostic]

        var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    }

    /// Reads `PROVIDERS_FILE`; an unreadable file is an error finding.
    static func readCatalog(path: String) -> (catalog: Catalog?, diagnostics: [Diagnostic]) {
        do {
            let result = try CatalogLoader.load(path: path)
            return (result.diagnostics.hasErrors ? nil : result.catalog, result.diagnostics)
        } catch {
            return (nil, [.error(.unreadableFile, at: nil, "the catalog cannot be read: \(error)")])
        }
    }

    /// Compiles `POLICIES_DIR` against `catalog` for the zones with an enabled backend.
    /// A set without residency or replication policies is an error: it would refuse every
    /// write, which is what an emptied or half-copied directory looks like.
    static func compile(policiesDirectory: String, catalog: Catalog, definitions: [BackendDefinition],
                        backendsFile: String) -> Outcome {
        let set: PolicySet
        do {
            set = try PolicySet.load(paths: [policiesDirectory])
        } catch {
            return Outcome(compiled: nil, diagnostics: [.error(.unreadableFile, at: nil, "the policies cannot be read: \(error)")])
        }
        let compiler = PolicyCompiler(enabledZones: Set(definitions.filter(\.enabled).map(\.zoneCode)),
                                      backendsFile: backendsFile)
        let result = compiler.compile(set, catalog: catalog)
        var diagnostics = result.diagnostics
        if !set.diagnostics.hasErrors {
            if set.residencyPolicies.isEmpty {
                diagnostics.append(.error(.noResidencyPolicy, at: nil,
                    "\(policiesDirectory) holds no ResidencyPolicy: every write would be refused"))
            }
            if set.replicationPolicies.isEmpty {
                diagnostics.append(.error(.noReplicationPolicy, at: nil,
                    "\(policiesDirectory) holds no ReplicationPolicy: every write would be refused"))
            }
        }
        return Outcome(compiled: diagnostics.hasErrors ? nil : result.compiled, diagnostics: diagnostics)
    }

    /// A reload: the catalog and the policies again, for the backends the gateway started with
    /// (backends are not reloaded, so each of them must still be a zone of the catalog).
    static func load(_ configuration: GatewayConfiguration, definitions: [BackendDefinition]) -> Outcome {
        let (catalog, catalogDiagnostics) = readCatalog(path: configuration.providersFile)
        guard let catalog else { return Outcome(compiled: nil, diagnostics: catalogDiagnostics) }
        let missing = definitions.filter { catalog.zone($0.zoneCode) == nil }.map { d in
            Diagnostic.error(.backendUnknownZone, at: nil,
                             "backend '\(d.name)' of \(configuration.backendsFile) names zone '\(d.zoneCode)', which is not in the catalog \(configuration.providersFile)",
                             hints: ["backends are read at start-up only: keep the zone in the catalog, or restart with a new backends file"])
        }
        if !missing.isEmpty { return Outcome(compiled: nil, diagnostics: catalogDiagnostics + missing) }
        var outcome = compile(policiesDirectory: configuration.policiesDirectory, catalog: catalog,
                              definitions: definitions, backendsFile: configuration.backendsFile)
        outcome.diagnostics = catalogDiagnostics + outcome.diagnostics
        return outcome
    }

    /// The metadata store's copy of the catalog.
    static func providerRecords(_ catalog: Catalog) -> [ProviderRecord] {
        catalog.zones.map { zone in
            ProviderRecord(zoneCode: zone.code, providerName: zone.providerName, countryCode: zone.countryCode,
                           regionCity: zone.city, endpoint: zone.endpoint,
                           flags: Dictionary(uniqueKeysWithValues: catalog.flagNames.map { flag in (flag, zone.has(flag) ? "true" : "false") }))
        }
    }

    /// The metadata store's record of a policy set: its hash and what it holds.
    static func record(_ set: LoadedPolicySet, zones: [String]) -> PolicySetRecord {
        let summary = JSONValue.object([
            ("residencyPolicies", .strings(set.compiled.residencyPolicies.map(\.metadata.name))),
            ("replicationPolicies", .strings(set.compiled.replicationPolicies.map(\.metadata.name))),
            ("zones", .strings(zones.sorted())),
        ]).serialized(indent: 0)
        return PolicySetRecord(hash: set.hash, summaryJSON: summary, loadedAt: set.loadedAt)
    }
}
