import ArgumentParser
import Foundation
import Testing

@testable import Gateway

/// The gateway's flags become its configuration, and values that cannot work stop it.
@Suite("Gateway command line")
struct GatewayCommandTests {
    static func configuration(_ arguments: [String]) throws -> GatewayConfiguration {
        try GatewayCommand.parse(arguments).makeConfiguration()
    }

    @Test func thePhysicalBucketAndTheRegionCanBeSet() throws {
        let defaults = try Self.configuration([])
        #expect(defaults.physicalBucket == "2025-datatransfer")
        let set = try Self.configuration(["--physical-bucket", "acme-sovereign-data", "--region", "eu-north-1"])
        #expect(set.physicalBucket == "acme-sovereign-data")
        #expect(set.region == "eu-north-1")
        // A physical bucket no S3 provider would create stops the gateway at once.
        #expect(throws: ValidationError.self) { try Self.configuration(["--physical-bucket", "Not_A_Bucket"]) }
    }

    @Test func auditReadsIsOnOrOff() throws {
        #expect(try Self.configuration(["--audit-reads", "on"]).auditReads)
        #expect(try !Self.configuration(["--audit-reads", "off"]).auditReads)
        #expect(throws: ValidationError.self) { try Self.configuration(["--audit-reads", "sometimes"]) }
    }

    @Test func verificationRunsDailyByDefaultAndItsRateMustBePositive() throws {
        let defaults = try Self.configuration([])
        #expect(defaults.verifyInterval == 86400 && defaults.verifyRate == 20)
        let set = try Self.configuration(["--verify-interval", "0", "--verify-rate", "2.5"])
        #expect(set.verifyInterval == 0 && set.verifyRate == 2.5)
        #expect(throws: (any Error).self) { try Self.configuration(["--verify-rate", "0"]) }
        #expect(throws: (any Error).self) { try Self.configuration(["--verify-rate", "-1"]) }
    }

    @Test func remediationPassesAreOffByDefault() throws {
        #expect(try Self.configuration([]).remediateInterval == 0)
        #expect(try Self.configuration(["--remediate-interval", "300"]).remediateInterval == 300)
        #expect(try Self.configuration(["--remediate-interval=-5"]).remediateInterval == 0)
    }

    @Test func theLogIsSealedEveryTenSecondsByDefault() throws {
        let defaults = try Self.configuration([])
        #expect(defaults.logSealInterval == 10 && defaults.logSealKey == nil && defaults.logVerifyInterval == 86400)
        let set = try Self.configuration(["--log-seal-interval", "0", "--log-seal-key", "secret", "--log-verify-interval", "60"])
        #expect(set.logSealInterval == 0 && set.logSealKey == "secret" && set.logVerifyInterval == 60)
    }

    @Test func aStalledBackendWriteFailsBeforeTheIdleTimeoutClosesTheClient() throws {
        // 10 s by default; half the idle timeout when that is shorter.
        #expect(try Self.configuration([]).backendStallTimeout == 10)
        #expect(try Self.configuration(["--idle-timeout", "8"]).backendStallTimeout == 4)
        #expect(try Self.configuration(["--backend-stall-timeout", "2.5"]).backendStallTimeout == 2.5)
        // Not as long as the idle timeout: the client's connection would be closed first.
        #expect(throws: ValidationError.self) { try Self.configuration(["--backend-stall-timeout", "30"]) }
        #expect(throws: ValidationError.self) { try Self.configuration(["--backend-stall-timeout", "0"]) }
    }

    @Test func theBackendReadTimeoutIsThirtySecondsByDefault() throws {
        #expect(try Self.configuration([]).backendReadTimeout == 30)
        #expect(try Self.configuration(["--backend-read-timeout", "4.5"]).backendReadTimeout == 4.5)
        #expect(throws: ValidationError.self) { try Self.configuration(["--backend-read-timeout", "0.5"]) }
    }

    @Test func aRequestWaitsTwentySecondsForABusyBackendsConnectionByDefault() throws {
        #expect(try Self.configuration([]).backendConnectionWait == 20)
        #expect(try Self.configuration(["--backend-connection-wait", "0"]).backendConnectionWait == 0)
        #expect(try Self.configuration(["--idle-timeout", "9"]).backendConnectionWait == 6)
        // Not as long as the idle timeout: a waiting upload's client connection would be closed first.
        #expect(throws: ValidationError.self) { try Self.configuration(["--backend-connection-wait", "30"]) }
        #expect(throws: ValidationError.self) { try Self.configuration(["--backend-connection-wait=-1"]) }
    }

    @Test func theTLSFilesAreSetTogether() throws {
        let defaults = try Self.configuration([])
        #expect(defaults.tlsCertificateFile == nil && defaults.tlsKeyFile == nil && defaults.backendCAFile == nil)
        #expect(defaults.scheme == "http")
        let set = try Self.configuration(["--tls-cert-file", "/etc/gateway/cert.pem", "--tls-key-file", "/etc/gateway/key.pem",
                                          "--backend-ca-file", "/etc/gateway/ca.pem"])
        #expect(set.tlsCertificateFile == "/etc/gateway/cert.pem")
        #expect(set.tlsKeyFile == "/etc/gateway/key.pem")
        #expect(set.backendCAFile == "/etc/gateway/ca.pem")
        #expect(set.scheme == "https")
        // One without the other stops the gateway at once, naming both variables.
        for arguments in [["--tls-cert-file", "/etc/gateway/cert.pem"], ["--tls-key-file", "/etc/gateway/key.pem"],
                          ["--tls-cert-file", "/etc/gateway/cert.pem", "--tls-key-file", ""]] {
            let error = #expect(throws: ValidationError.self) { try Self.configuration(arguments) }
            #expect(error?.message.contains("GATEWAY_TLS_CERT_FILE") == true && error?.message.contains("GATEWAY_TLS_KEY_FILE") == true,
                    "\(arguments)")
        }
        // Empty is unset, as for the other optional settings.
        let empty = try Self.configuration(["--tls-cert-file", "", "--tls-key-file", "", "--backend-ca-file", ""])
        #expect(empty.tlsCertificateFile == nil && empty.tlsKeyFile == nil && empty.backendCAFile == nil)
    }

    @Test func emptyOptionalSettingsAreUnset() throws {
        let configuration = try Self.configuration(["--admin-token", "", "--domain", ""])
        #expect(configuration.adminToken == nil)
        #expect(configuration.domain == nil)
    }
}
