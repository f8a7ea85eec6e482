import Foundation
import PolicyEngine
import Testing

@testable import Gateway

/// The gateway's reading of the backends file (`S3_BACKENDS_CONFIG`).
@Suite("Backends file")
struct BackendsConfigTests {
    static let catalog: Catalog = {
        let loaded = try! CatalogLoader.load(path: TestGateway.root + "/providers_flat.csv")
        return loaded.catalog
    }()

    static func parse(_ text: String, environment: [String: String] = [:]) throws -> [BackendDefinition] {
        try BackendsConfig.parse(text, file: "backends.json", catalog: catalog, environment: environment)
    }

    /// The description of the error `text` is refused with.
    static func refusal(_ text: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try parse(text, environment: environment)
            return nil
        } catch let error as BackendsConfigError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    static let withEnvironmentKeys = """
        {"spacetime": {"provider": "Spacetime", "zone_code": "FI-HEL-ST-1", "region": "hel1",
                       "endpoint": "https://hel1.your-objectstorage.com",
                       "access_key_env": "SPACETIME_ACCESS_KEY", "secret_key_env": "SPACETIME_SECRET_KEY",
                       "access_key": "ignored-literal", "is_primary": true, "enabled": true}}
        """

    @Test func keysComeFromTheNamedEnvironmentVariables() throws {
        let parsed = try Self.parse(Self.withEnvironmentKeys,
                                    environment: ["SPACETIME_ACCESS_KEY": "AK-from-env", "SPACETIME_SECRET_KEY": "SK-from-env"])
        #expect(parsed.count == 1)
        let d = try #require(parsed.first)
        #expect(d.name == "spacetime")
        #expect(d.accessKey == "AK-from-env")
        #expect(d.secretKey == "SK-from-env")
        #expect(d.zoneCode == "FI-HEL-ST-1")
        #expect(d.region.name == "hel1")
        #expect(d.isPrimary)
        #expect(d.enabled)
    }

    @Test func aMissingOrEmptyKeyVariableStopsStartUp() {
        let missingSecret = Self.refusal(Self.withEnvironmentKeys, environment: ["SPACETIME_ACCESS_KEY": "AK"])
        #expect(missingSecret == "backends.json: backend 'spacetime': environment variable SPACETIME_SECRET_KEY (secret_key_env) is not set")
        let missingAccess = Self.refusal(Self.withEnvironmentKeys, environment: ["SPACETIME_SECRET_KEY": "SK"])
        #expect(missingAccess == "backends.json: backend 'spacetime': environment variable SPACETIME_ACCESS_KEY (access_key_env) is not set")
        // docker-compose's `${SPACETIME_SECRET_KEY:-}` passes "" for an unset variable.
        let empty = Self.refusal(Self.withEnvironmentKeys, environment: ["SPACETIME_ACCESS_KEY": "AK", "SPACETIME_SECRET_KEY": ""])
        #expect(empty?.contains("SPACETIME_SECRET_KEY (secret_key_env) is not set") == true, "\(empty ?? "accepted")")
    }

    @Test func literalKeysAndDefaults() throws {
        let parsed = try Self.parse("""
            {"uc": {"zone_code": "FI-HEL-UC-1", "endpoint": "https://f969k.upcloudobjects.com",
                    "access_key": "AK", "secret_key": "SK"},
             "local": {"zone_code": "FI-HEL-HZ-1", "endpoint": "file:/tmp/zones/hz"}}
            """)
        let uc = try #require(parsed.first { $0.name == "uc" })
        #expect(uc.accessKey == "AK" && uc.secretKey == "SK")
        #expect(uc.provider == "UpCloud")  // from the catalog
        #expect(uc.region.name == "us-east-1")
        #expect(uc.enabled && !uc.isPrimary)
        #expect(uc.bucket == nil)
        let local = try #require(parsed.first { $0.name == "local" })
        #expect(local.isLocalDisk && local.localPath == "/tmp/zones/hz")
        #expect(local.accessKey == "" && local.secretKey == "")
    }

    @Test func twoEnabledBackendsForOneZoneAreRefused() throws {
        let duplicate = """
            {"spacetime": {"zone_code": "FI-HEL-ST-1", "endpoint": "https://hel1.your-objectstorage.com", "enabled": true},
             "spacetime-2": {"zone_code": "FI-HEL-ST-1", "endpoint": "https://other.example", "enabled": true}}
            """
        let refusal = Self.refusal(duplicate)
        #expect(refusal == "backends.json: backends 'spacetime' and 'spacetime-2' both serve zone FI-HEL-ST-1; disable one (\"enabled\": false)")
        // `enabled` defaults to true.
        #expect(Self.refusal(duplicate.replacingOccurrences(of: ", \"enabled\": true", with: ""))?.contains("both serve zone FI-HEL-ST-1") == true)
        // A disabled second entry is allowed (kept for /backends, serves nothing).
        let parsed = try Self.parse(duplicate.replacingOccurrences(of: "\"https://other.example\", \"enabled\": true",
                                                                   with: "\"https://other.example\", \"enabled\": false"))
        #expect(parsed.filter(\.enabled).map(\.name) == ["spacetime"])
        #expect(parsed.count == 2)
    }

    @Test func entriesMustNameACatalogZoneAndAnEndpoint() {
        #expect(Self.refusal(#"{"x": {"endpoint": "https://a.example"}}"#) == "backends.json: backend 'x' has no zone_code")
        #expect(Self.refusal(#"{"x": {"zone_code": "FI-HEL-ST-1"}}"#) == "backends.json: backend 'x' has no endpoint")
        let unknown = Self.refusal(#"{"x": {"zone_code": "XX-NOWHERE-1", "endpoint": "https://a.example"}}"#)
        #expect(unknown?.hasPrefix("backends.json: backend 'x' names zone 'XX-NOWHERE-1', which is not in the catalog") == true)
        #expect(Self.refusal("[]") == "backends.json: expected a JSON object keyed by backend name")
        #expect(Self.refusal("{\"x\": ")?.hasPrefix("backends.json:1:") == true)
    }
}
