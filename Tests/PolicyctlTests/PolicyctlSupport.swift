import Foundation
import Testing

/// Runs the real `policyctl` binary as a subprocess, from the project root (so that the
/// default `policies/` and `providers_flat.csv` are found).
enum Policyctl {
    /// `Tests/PolicyctlTests/PolicyctlSupport.swift` → two levels above the test directory
    /// (symlinks resolved).
    static let projectRoot: String = {
        let here = resolvedPath(#filePath)
        return URL(fileURLWithPath: here).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// The built `policyctl`: `$POLICYCTL` if set, else the build products directory that holds
    /// the test bundle (`.build/<triple>/debug`), else `<root>/.build/debug/policyctl`.
    static let binary: String = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["POLICYCTL"], fm.isExecutableFile(atPath: env) { return env }
        var directories: [URL] = []
        for start in [URL(fileURLWithPath: resolvedPath(CommandLine.arguments[0])), Bundle.main.bundleURL]
            + Bundle.allBundles.map(\.bundleURL) {
            var url = start
            for _ in 0..<5 {
                url = url.deletingLastPathComponent()
                directories.append(url)
            }
        }
        directories.append(URL(fileURLWithPath: projectRoot + "/.build/debug"))
        for dir in directories {
            let candidate = dir.appendingPathComponent("policyctl").path
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               fm.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return projectRoot + "/.build/debug/policyctl"
    }()

    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
        }
    }

    /// Runs `policyctl args…` in `cwd` (default: the project root); stdout and stderr go through
    /// temporary files, so a large output cannot block the child.
    static func run(_ args: [String], cwd: String = projectRoot, environment: [String: String] = [:]) throws -> Result {
        let fm = FileManager.default
        let tmp = fm.temporaryDirectory.appendingPathComponent("policyctl-run-\(UUID().uuidString)")
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: tmp) }
        let outURL = tmp.appendingPathComponent("stdout"), errURL = tmp.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        env["POLICIES_DIR"] = nil
        env["PROVIDERS_FILE"] = nil
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

func resolvedPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// A fresh temporary directory with the given files (relative paths), removed afterwards.
func withTempFiles<R>(_ files: [String: String], _ body: (String) throws -> R) throws -> R {
    let fm = FileManager.default
    let dir = fm.temporaryDirectory.appendingPathComponent("policyctl-tests-\(UUID().uuidString)")
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: dir) }
    for (name, text) in files {
        let url = dir.appendingPathComponent(name)
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
    return try body(resolvedPath(dir.path))
}

func matches(_ text: String, _ pattern: String) -> Bool {
    text.range(of: pattern, options: .regularExpression) != nil
}

/// `FILE:LINE:COL: error[CODE]: ` or `warning[CODE]`, as the contract's text format requires.
let diagnosticLinePattern = #"^[^\s:][^:]*:[0-9]+:[0-9]+: (error|warning)\[[a-z0-9-]+\]: "#

// MARK: - Policy texts

enum Texts {
    static let catchAllResidency = """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata:
          name: eu-everything
        spec:
          match: {}
          allow:
            countries: [EU]
        """

    static let catchAllReplication = """
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata:
          name: two-copies
        spec:
          match: {}
          priority: 1
          copies: 2
          minProviders: 2
        """

    /// Valid, but only for `hr-*` buckets: no catch-all (warnings), and other objects are refused.
    static let hrOnly = """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata:
          name: hr-in-finland
        spec:
          match: { buckets: ["hr-*"] }
          allow:
            countries: [FI]
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata:
          name: hr-two-copies
        spec:
          match: { buckets: ["hr-*"] }
          copies: 2
          minProviders: 2
        """

    /// Invalid in several ways, each with a location (the set has catch-alls).
    static let invalid = """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata:
          name: bad-residency
        spec:
          match: { keyPrefixes: [x/] }
          allow:
            countries: [XX]
          require:
            euHeadquartered: yes
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata:
          name: bad-replication
        spec:
          match: { buckets: [b] }
          copies: 2
          writeQuorum: 5
          prefered: [FI-HEL-UC-1]
        """
}
