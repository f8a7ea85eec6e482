import ArgumentParser
import PolicyEngine

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the PolicyTest cases of a policy directory.",
        discussion: """
            Loads every policy and every kind: PolicyTest document below DIR (default: policies), \
            plans each case's object and checks its expectations. Prints a line per case and \
            'N passed, M failed'. Exit codes: 0 all passed, 1 a case failed, 2 usage or invalid policies.

            Examples:
              policyctl test policies/
              policyctl test policies/ --format junit > policy-tests.xml
            """
    )

    @Argument(help: "The policies directory with *.test.yaml files (default: policies).")
    var directory: String?

    @Option(help: "The provider catalog (default: $PROVIDERS_FILE or providers_flat.csv).")
    var catalog: String?

    @Option(help: "A backends file: only zones with an enabled backend are eligible.")
    var backends: String?

    @Option(help: "Output format: text or junit.")
    var format: TestFormat = .text

    enum TestFormat: String, ExpressibleByArgument, CaseIterable { case text, junit }

    func run() throws {
        let workspace = try Workspace.load(
            policyPaths: [directory ?? defaultPoliciesPath()],
            catalogPath: catalog ?? defaultCatalogPath(), backendsPath: backends)
        if !workspace.isValid {
            printError(DiagnosticFormatter.render(workspace.diagnostics, format: .text, valid: false))
            throw ExitCode(2)
        }
        let results = PolicyTestRunner(compiled: workspace.compiled).run(workspace.policySet.tests)
        switch format {
        case .text: print(PolicyTestRunner.text(results))
        case .junit: print(PolicyTestRunner.junit(results))
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}
