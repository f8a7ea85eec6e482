import ArgumentParser
import PolicyEngine

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check policy files strictly and analyse every object class.",
        discussion: """
            Reads every *.yaml/*.yml file below each PATH (default: policies), checks the strict \
            profile, resolves references against the catalog and reports unsatisfiable or \
            ambiguous object classes with a witness object.

            Text output: FILE:LINE:COL: error[CODE]: message, then hints.
            Exit codes: 0 valid (warnings allowed unless --strict), 1 invalid, 2 usage or unreadable input.

            Examples:
              policyctl validate policies/ --catalog providers_flat.csv
              policyctl validate policies/ --strict --format sarif > policies.sarif
              policyctl validate policies/ --backends config/s3_backends.json
            """
    )

    @Argument(help: "Policy files or directories (default: policies).")
    var paths: [String] = []

    @Option(help: "The provider catalog (default: $PROVIDERS_FILE or providers_flat.csv).")
    var catalog: String?

    @Option(help: "A backends file: only zones with an enabled backend are eligible.")
    var backends: String?

    @Option(help: "Output format: text, json, sarif or github.")
    var format: DiagnosticFormat = .text

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    func run() throws {
        let workspace = try Workspace.load(
            policyPaths: paths.isEmpty ? [defaultPoliciesPath()] : paths,
            catalogPath: catalog ?? defaultCatalogPath(), backendsPath: backends)
        let valid = workspace.isValid && !(strict && workspace.diagnostics.warningCount > 0)
        let output = DiagnosticFormatter.render(workspace.diagnostics, format: format, valid: valid)
        if !output.isEmpty { print(output) }
        // The workspace holds every object class of the set; freeing it all would take longer
        // than a large part of the check, and the process ends here anyway.
        exitAfterFlushing(valid ? 0 : 1, keeping: workspace)
    }
}

extension DiagnosticFormat: ExpressibleByArgument {}
