import ArgumentParser
import PolicyEngine

#if canImport(Glibc)
import Glibc
private let processExit = Glibc.exit
private let systemWrite = Glibc.write
#elseif canImport(Musl)
import Musl
private let processExit = Musl.exit
private let systemWrite = Musl.write
#elseif canImport(Darwin)
import Darwin
private let processExit = Darwin.exit
private let systemWrite = Darwin.write
#endif

@main
struct Policyctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policyctl",
        abstract: "Check, dry-run and test data-sovereignty policies.",
        discussion: """
            Policies are YAML files (apiVersion: sovereignty/v1) that say where objects may live \
            (ResidencyPolicy) and how they are copied and kept (ReplicationPolicy). They are \
            compiled against the provider catalog (providers_flat.csv).

            Examples:
              policyctl validate policies/ --catalog providers_flat.csv --strict
              policyctl validate policies/ --format github
              policyctl plan --bucket hr-data --key personal/a.txt --tag classification=personal
              policyctl plan --bucket logs --key app.log --format json
              policyctl plan --bucket hr-data --key a.txt --explain
              policyctl test policies/
              policyctl catalog --country EU --capability object_lock
              policyctl schema > policy.schema.json

            Exit codes: 0 = valid / allowed / all tests passed; 1 = invalid / refused / a test \
            failed; 2 = usage error or unreadable input.
            """,
        version: PolicyEngineInfo.version,
        subcommands: [Validate.self, Plan.self, Test.self, CatalogCommand.self, Schema.self]
    )

    /// Runs the command, mapping errors to the documented exit codes (argument errors are 2,
    /// not the argument parser's default 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            processExit(code.rawValue)
        } catch {
            let exitCode = Self.exitCode(for: error)
            if exitCode == .success {
                Self.exit(withError: error)
            }
            let message = Self.fullMessage(for: error)
            if !message.isEmpty { printError(message) }
            processExit(2)
        }
    }
}

/// Ends the process with `code` once standard output is flushed, without releasing `value`
/// first (the operating system reclaims the memory at once).
func exitAfterFlushing<T>(_ code: Int32, keeping value: T) -> Never {
    withExtendedLifetime(value) {
        fflush(nil)
        processExit(code)
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var text = message
    if !text.hasSuffix("\n") { text += "\n" }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { systemWrite(2, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

/// A failure that is the user's input (a missing file, a bad option): exit 2.
struct InputFailure: Error, CustomStringConvertible {
    var description: String
}
