import PolicyEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The catalog path when none is given: `PROVIDERS_FILE`, else `providers_flat.csv`.
func defaultCatalogPath() -> String {
    if let env = getenv("PROVIDERS_FILE") { return String(cString: env) }
    return "providers_flat.csv"
}

/// The policies directory when none is given: `POLICIES_DIR`, else `policies`.
func defaultPoliciesPath() -> String {
    if let env = getenv("POLICIES_DIR") { return String(cString: env) }
    return "policies"
}

/// Policies, catalog and backends loaded and compiled, with everything found wrong.
struct Workspace {
    var policySet: PolicySet
    var catalog: Catalog
    var compiled: CompiledPolicySet
    var diagnostics: [Diagnostic]

    var isValid: Bool { !diagnostics.hasErrors }

    static func load(policyPaths: [String], catalogPath: String, backendsPath: String?) throws -> Workspace {
        let catalogResult: CatalogLoader.Result
        do {
            catalogResult = try CatalogLoader.load(path: catalogPath)
        } catch {
            throw InputFailure(description: "\(error)")
        }
        var diagnostics = catalogResult.diagnostics
        var enabledZones: Set<String>?
        var backendLocations: [String: SourceLocation] = [:]
        if let backendsPath {
            do {
                let backends = try BackendsFile.load(path: backendsPath, catalog: catalogResult.catalog)
                diagnostics += backends.diagnostics
                enabledZones = backends.enabledZones
                backendLocations = backends.zoneLocations
            } catch {
                throw InputFailure(description: "\(error)")
            }
        }
        let set: PolicySet
        do {
            set = try PolicySet.load(paths: policyPaths)
        } catch {
            throw InputFailure(description: "\(error)")
        }
        var compiler = PolicyCompiler(enabledZones: enabledZones, backendsFile: backendsPath)
        compiler.backendLocations = backendLocations
        let result = compiler.compile(set, catalog: catalogResult.catalog)
        diagnostics += result.diagnostics
        return Workspace(policySet: set, catalog: catalogResult.catalog, compiled: result.compiled, diagnostics: diagnostics)
    }
}

func writeOut(_ text: String) {
    print(text)
}
