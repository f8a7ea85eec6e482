import Foundation
import Testing

/// `policyctl validate`: exit codes, --strict, and the four output formats.
@Suite struct ValidateCommandTests {
    @Test func theBinaryIsFound() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Policyctl.binary), "policyctl not found at \(Policyctl.binary)")
        #expect(FileManager.default.fileExists(atPath: Policyctl.projectRoot + "/providers_flat.csv"))
        #expect(FileManager.default.fileExists(atPath: Policyctl.projectRoot + "/policies"))
    }

    // MARK: the shipped example set

    @Test func theShippedPoliciesAreStrictlyValid() throws {
        let r = try Policyctl.run(["validate", "--strict"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("valid: 0 errors, 0 warnings"), "\(r)")
        let explicit = try Policyctl.run(["validate", "policies", "--catalog", "providers_flat.csv", "--strict"])
        #expect(explicit.status == 0, "\(explicit)")
    }

    @Test func theShippedPoliciesAreStrictlyValidWithOnlyTheSeedBackends() throws {
        let r = try Policyctl.run(["validate", "--strict", "--backends", "config/s3_backends.json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("valid: 0 errors, 0 warnings"), "\(r)")
    }

    // MARK: exit codes

    @Test func anInvalidSetExitsWithOneAndEveryFindingHasFileLineCol() throws {
        try withTempFiles(["a-catch-all.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication,
                           "bad.yaml": Texts.invalid]) { dir in
            let r = try Policyctl.run(["validate", dir])
            #expect(r.status == 1, "\(r)")
            let findings = r.stdoutLines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("valid") && !$0.hasPrefix("invalid") }
            #expect(findings.count >= 4, "\(r)")
            for line in findings {
                #expect(matches(line, diagnosticLinePattern), "not FILE:LINE:COL: error[CODE]: …: \(line)")
            }
            let bad = dir + "/bad.yaml"
            #expect(findings.contains { $0.hasPrefix("\(bad):8:17: error[unknown-country]: ") }, "\(r)")
            #expect(findings.contains { $0.hasPrefix("\(bad):10:22: error[yaml11-boolean]: ") }, "\(r)")
            #expect(findings.contains { $0.hasPrefix("\(bad):19:16: error[invalid-quorum]: ") }, "\(r)")
            #expect(findings.contains { $0.hasPrefix("\(bad):20:3: error[unknown-field]: ") }, "\(r)")
            #expect(r.stdout.contains("    hint: did you mean 'prefer'?"), "\(r)")
            #expect(r.stdoutLines.last?.hasPrefix("invalid: ") == true)
        }
    }

    @Test func aFileWithOnlyAYAMLErrorStillPrintsFileLineColForEveryFinding() throws {
        try withTempFiles(["broken.yaml": "a: 1\na: 2\n"]) { dir in
            let r = try Policyctl.run(["validate", dir])
            #expect(r.status == 1, "\(r)")
            #expect(r.stdout.contains("\(dir)/broken.yaml:2:1: error[duplicate-key]: "), "\(r)")
            let findings = r.stdoutLines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("valid") && !$0.hasPrefix("invalid") }
            for line in findings {
                #expect(matches(line, diagnosticLinePattern), "not FILE:LINE:COL: error[CODE]: …: \(line)")
            }
        }
    }

    @Test func aMissingPathExitsWithTwo() throws {
        let r = try Policyctl.run(["validate", "/nonexistent/policies"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("/nonexistent/policies"), "\(r)")
        let catalog = try Policyctl.run(["validate", "--catalog", "/nonexistent/catalog.csv"])
        #expect(catalog.status == 2, "\(catalog)")
        let backends = try Policyctl.run(["validate", "--backends", "/nonexistent/backends.json"])
        #expect(backends.status == 2, "\(backends)")
    }

    @Test(arguments: [["validate", "--frobnicate"], ["validate", "--format", "xml"], ["frobnicate"],
                      ["validate", "--catalog"], ["plan", "--key", "k"], ["plan", "--bucket", "b", "--key", "k", "--tag", "novalue"],
                      ["test", "--format", "tap"], ["catalog", "--format", "yaml"]])
    func usageErrorsExitWithTwoNotSixtyFour(_ args: [String]) throws {
        let r = try Policyctl.run(args)
        #expect(r.status == 2, "\(args): \(r)")
        #expect(!r.stderr.isEmpty, "\(args): a usage error should say why")
    }

    @Test func strictTurnsWarningsIntoExitOne() throws {
        try withTempFiles(["hr.yaml": Texts.hrOnly]) { dir in
            let lax = try Policyctl.run(["validate", dir])
            #expect(lax.status == 0, "\(lax)")
            let warnings = lax.stdoutLines.filter { $0.contains("warning[") }
            #expect(warnings.count == 2, "\(lax)")
            for line in warnings { #expect(matches(line, diagnosticLinePattern), "\(line)") }
            #expect(warnings.allSatisfy { $0.contains("warning[missing-catch-all]") })
            #expect(lax.stdoutLines.last == "valid: 0 errors, 2 warnings")
            let strict = try Policyctl.run(["validate", dir, "--strict"])
            #expect(strict.status == 1, "\(strict)")
            #expect(strict.stdoutLines.last?.hasPrefix("invalid") == true, "\(strict)")
        }
    }

    @Test func aSingleFileCanBeValidated() throws {
        try withTempFiles(["one.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication]) { dir in
            let r = try Policyctl.run(["validate", dir + "/one.yaml", "--strict"])
            #expect(r.status == 0, "\(r)")
        }
    }

    // MARK: formats

    @Test func jsonFormatParsesWithTheDocumentedFields() throws {
        try withTempFiles(["a.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication, "bad.yaml": Texts.invalid]) { dir in
            let r = try Policyctl.run(["validate", dir, "--format", "json"])
            #expect(r.status == 1, "\(r)")
            let root = try #require(try r.json() as? [String: Any], "\(r)")
            #expect(root["valid"] as? Bool == false)
            #expect((root["errors"] as? Int ?? 0) >= 4)
            #expect(root["warnings"] is Int)
            let diagnostics = try #require(root["diagnostics"] as? [[String: Any]])
            #expect(diagnostics.count == (root["errors"] as? Int ?? 0) + (root["warnings"] as? Int ?? 0))
            for d in diagnostics {
                #expect(d["code"] is String)
                #expect(["error", "warning", "note"].contains(d["severity"] as? String ?? ""))
                #expect(d["message"] is String)
                #expect((d["file"] as? String)?.hasPrefix(dir) == true, "\(d)")
                #expect((d["line"] as? Int ?? 0) >= 1)
                #expect((d["column"] as? Int ?? 0) >= 1)
            }
            #expect(diagnostics.contains { $0["code"] as? String == "unknown-country" && $0["line"] as? Int == 8 && $0["column"] as? Int == 17 })
        }
        let valid = try Policyctl.run(["validate", "--format", "json"])
        #expect(valid.status == 0)
        let root = try #require(try valid.json() as? [String: Any], "\(valid)")
        #expect(root["valid"] as? Bool == true)
        #expect((root["diagnostics"] as? [Any])?.isEmpty == true)
    }

    @Test func sarifFormatIsVersion210WithRegions() throws {
        try withTempFiles(["a.yaml": Texts.catchAllResidency + "\n---\n" + Texts.catchAllReplication, "bad.yaml": Texts.invalid]) { dir in
            let r = try Policyctl.run(["validate", dir, "--format", "sarif"])
            #expect(r.status == 1, "\(r)")
            let root = try #require(try r.json() as? [String: Any], "\(r)")
            #expect(root["version"] as? String == "2.1.0")
            let runs = try #require(root["runs"] as? [[String: Any]])
            #expect(runs.count == 1)
            let driver = (runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any]
            #expect(driver?["name"] as? String == "policyctl")
            let results = try #require(runs[0]["results"] as? [[String: Any]])
            #expect(results.count >= 4)
            for result in results {
                #expect(result["ruleId"] is String)
                #expect(["error", "warning", "note"].contains(result["level"] as? String ?? ""))
                #expect((result["message"] as? [String: Any])?["text"] is String)
                let location = try #require((result["locations"] as? [[String: Any]])?.first, "\(result)")
                let physical = try #require(location["physicalLocation"] as? [String: Any])
                #expect(((physical["artifactLocation"] as? [String: Any])?["uri"] as? String)?.hasPrefix(dir) == true)
                let region = try #require(physical["region"] as? [String: Any])
                #expect((region["startLine"] as? Int ?? 0) >= 1)
                #expect((region["startColumn"] as? Int ?? 0) >= 1)
            }
        }
    }

    @Test func githubFormatPrintsWorkflowCommands() throws {
        try withTempFiles(["bad.yaml": Texts.invalid]) { dir in
            let r = try Policyctl.run(["validate", dir, "--format", "github"])
            #expect(r.status == 1, "\(r)")
            let lines = r.stdoutLines
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(line.hasPrefix("::error file=") || line.hasPrefix("::warning file="), "\(line)")
            }
            #expect(lines.contains { $0.hasPrefix("::error file=\(dir)/bad.yaml,line=8,col=17,title=unknown-country::") }, "\(r)")
        }
    }

    // MARK: spread placement

    /// Keys are free within a class, so with placement: spread a class is unsatisfiable when
    /// some rendezvous order of its zones makes the walk fail: here an object whose order
    /// starts with the two Hetzner Helsinki zones (s3://data/i is one) cannot get a third copy
    /// in another city at another provider.
    @Test func aSpreadClassWithAFailingOrderIsInvalid() throws {
        let policies = """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata: { name: four-zones }
            spec:
              match: {}
              allow:
                zones: [FI-HEL-HZ-1, FI-HEL-HZ-2, FI-HEL-UC-1, DE-FSN-HZ-1]
            ---
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata: { name: spread-three }
            spec:
              match: {}
              copies: 3
              minProviders: 2
              minCities: 2
              placement: spread
            """
        try withTempFiles(["policies/p.yaml": policies]) { dir in
            let r = try Policyctl.run(["validate", dir + "/policies", "--catalog", "providers_flat.csv"])
            #expect(r.status == 1, "\(r)")
            let errors = r.stdoutLines.filter { $0.contains("error[") }
            #expect(errors.count == 1, "\(r)")
            #expect(errors.first?.hasPrefix("\(dir)/policies/p.yaml:14:11: error[unsatisfiable]: with placement: spread, objects such as s3://") == true, "\(r)")
            #expect(r.stdout.contains("FI-HEL-UC-1 (UpCloud, Helsinki): skipped: taking it would leave 0 copies for 1 more city"), "\(r)")
            #expect(r.stdoutLines.last == "invalid: 1 error, 0 warnings", "\(r)")
            // The set is invalid, so plan refuses to plan with it (exit 2) and says why.
            let plan = try Policyctl.run(["plan", "--bucket", "data", "--key", "i", "--policies", dir + "/policies",
                                          "--catalog", "providers_flat.csv"])
            #expect(plan.status == 2, "\(plan)")
            #expect(plan.stderr.contains("error[unsatisfiable]"), "\(plan)")
        }
    }

    // MARK: hints

    /// Several candidates at the same edit distance: the hint must not follow a `Set`'s or a
    /// `Dictionary`'s iteration order, which changes from one process to the next.
    @Test func didYouMeanHintsAreTheSameInEveryRun() throws {
        let catalog = """
            zone_code,provider_name,country_code,region_city,endpoint
            FI-HEL-A-1,ProvA,FI,Helsinki,a.example.com
            XX-BAD-A-1,ProvA,XX,Nowhere,x.example.com
            """
        let policies = """
            apiVersion: sovereignty/v1
            kind: CountryGroup
            metadata: { name: abcx }
            spec: { countries: [FI] }
            ---
            apiVersion: sovereignty/v1
            kind: CountryGroup
            metadata: { name: abcy }
            spec: { countries: [SE] }
            ---
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata: { name: everything }
            spec:
              match: {}
              allow: { countries: [EUA, ABCZ] }
            ---
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata: { name: one }
            spec: { match: {}, copies: 1 }
            """
        try withTempFiles(["catalog.csv": catalog, "policies/p.yaml": policies]) { dir in
            var outputs = Set<String>()
            for _ in 0..<6 {
                let r = try Policyctl.run(["validate", dir + "/policies", "--catalog", dir + "/catalog.csv"])
                #expect(r.status == 1, "\(r)")
                outputs.insert(r.stdout)
            }
            #expect(outputs.count == 1, "the output differs between runs:\n\(outputs.joined(separator: "\n---\n"))")
            let out = outputs.first ?? ""
            // Ties go to the candidate first in byte order.
            #expect(out.contains("did you mean 'AX'?"), "\(out)")
            #expect(out.contains("did you mean 'EEA'?"), "\(out)")
            #expect(out.contains("did you mean 'ABCX'?"), "\(out)")
        }
    }
}
