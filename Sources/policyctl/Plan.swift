import ArgumentParser
import PolicyEngine

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry-run where an object would be placed, and why.",
        discussion: """
            Exit codes: 0 allowed, 1 refused, 2 usage or invalid policies.

            Examples:
              policyctl plan --bucket hr-data --key personal/alice.json --tag classification=personal
              policyctl plan --bucket audit-logs --key 2025/01/events.jsonl --format json
              policyctl plan --bucket website --key logo.png --explain
            """
    )

    @Option(help: "The object's bucket.")
    var bucket: String

    @Option(help: "The object's key.")
    var key: String

    @Option(name: .customLong("tag"), help: "An object tag as key=value (repeatable).")
    var tags: [String] = []

    @Option(help: "The policies directory (default: $POLICIES_DIR or policies).")
    var policies: String?

    @Option(help: "The provider catalog (default: $PROVIDERS_FILE or providers_flat.csv).")
    var catalog: String?

    @Option(help: "A backends file: only zones with an enabled backend are eligible.")
    var backends: String?

    @Option(help: "Output format: text or json.")
    var format: PlanFormat = .text

    @Flag(help: "Add the per-zone table of every constraint (text) .")
    var explain = false

    enum PlanFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func validate() throws {
        var seen = Set<Substring>()
        for tag in tags {
            guard let eq = tag.firstIndex(of: "=") else { throw ValidationError("--tag takes key=value, not '\(tag)'") }
            guard seen.insert(tag[..<eq]).inserted else {
                throw ValidationError("--tag '\(tag[..<eq])' is given twice: an object has one value per tag key")
            }
        }
    }

    func run() throws {
        let workspace = try Workspace.load(
            policyPaths: [policies ?? defaultPoliciesPath()],
            catalogPath: catalog ?? defaultCatalogPath(), backendsPath: backends)
        if !workspace.isValid {
            printError(DiagnosticFormatter.render(workspace.diagnostics, format: .text, valid: false))
            throw ExitCode(2)
        }
        let objectTags = tags.map { tag -> ObjectRef.Tag in
            let parts = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return ObjectRef.Tag(key: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
        let object = ObjectRef(bucket: bucket, key: key, tags: objectTags)
        let explanation = workspace.compiled.explain(object)
        switch format {
        case .json: print(PlanReport.json(explanation).serialized())
        case .text: print(PlanReport.text(explanation, explain: explain))
        }
        if !explanation.plan.allowed { throw ExitCode(1) }
    }
}
