import Foundation
import PolicyEngine
import Testing

/// `policyctl plan`: the JSON contract, exit codes 0/1/2 and `--explain`.
@Suite struct PlanCommandTests {
    static let contractKeys = ["allowed", "bucket", "key", "tags", "residencyPolicies", "replicationPolicy", "copies",
                               "writeQuorum", "minProviders", "minCities", "zones", "eligibleZones", "versioning",
                               "immutability", "policySetHash", "reasons", "rejected"]

    static func planJSON(_ args: [String], cwd: String = Policyctl.projectRoot) throws -> (Policyctl.Result, [String: Any]) {
        let r = try Policyctl.run(["plan"] + args + ["--format", "json"], cwd: cwd)
        let root = try #require(try r.json() as? [String: Any], "\(r)")
        return (r, root)
    }

    @Test func planJSONHasTheContractsKeysAndValues() throws {
        let (r, root) = try Self.planJSON(["--bucket", "hr-data", "--key", "personal/a.txt", "--tag", "classification=personal"])
        #expect(r.status == 0, "\(r)")
        for key in Self.contractKeys { #expect(root[key] != nil, "missing key \(key)") }
        #expect(root["allowed"] as? Bool == true)
        #expect(root["bucket"] as? String == "hr-data")
        #expect(root["key"] as? String == "personal/a.txt")
        #expect(root["tags"] as? [String: String] == ["classification": "personal"])
        #expect(root["residencyPolicies"] as? [String] == ["eu-default-residency", "personal-data-tagged-in-finland",
                                                             "personal-prefix-in-finland", "hr-buckets-in-finland"])
        #expect(root["replicationPolicy"] as? String == "personal-data-tagged")
        #expect(root["copies"] as? Int == 2)
        #expect(root["writeQuorum"] as? Int == 2)
        #expect(root["minProviders"] as? Int == 2)
        #expect(root["minCities"] as? Int == 1)
        #expect(root["zones"] as? [String] == ["FI-HEL-UC-1", "FI-HEL-ST-1"])
        #expect(root["eligibleZones"] as? [String] == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1", "FI-HEL-HZ-2", "FI-HEL-UC-2"])
        #expect(root["versioning"] as? String == "enabled")
        #expect(root["immutability"] is NSNull)
        #expect(matches(root["policySetHash"] as? String ?? "", "^[0-9a-f]{64}$"))
        #expect((root["reasons"] as? [String])?.isEmpty == true)
        let rejected = try #require(root["rejected"] as? [[String: Any]])
        let catalogCount = try #require(try Policyctl.run(["catalog", "--format", "json"]).json() as? [Any]).count
        #expect(rejected.count == catalogCount - 5)
        for entry in rejected {
            let zone = try #require(entry["zone"] as? String)
            let reasons = try #require(entry["reasons"] as? [String])
            #expect(!reasons.isEmpty, "\(zone)")
            for reason in reasons {
                #expect(matches(reason, #"(allow|deny|require)\.[A-Za-z]+"#), "no clause named: \(reason)")
                #expect(matches(reason, #"policies/[a-z-]+\.yaml:[0-9]+:[0-9]+"#), "no FILE:LINE:COL: \(reason)")
            }
        }
        let de = try #require(rejected.first { $0["zone"] as? String == "DE-FSN-HZ-1" })
        #expect((de["reasons"] as? [String])?.contains {
            $0.contains("'personal-data-tagged-in-finland'") && $0.contains("allow.countries [FI]") && $0.contains("policies/residency.yaml:")
        } == true)
    }

    @Test func theAuditPlanCarriesImmutability() throws {
        let (r, root) = try Self.planJSON(["--bucket", "audit-logs", "--key", "2025/01/events.jsonl"])
        #expect(r.status == 0, "\(r)")
        let immutability = try #require(root["immutability"] as? [String: Any])
        #expect(immutability["mode"] as? String == "compliance")
        #expect(immutability["retentionSeconds"] as? Int == 220_752_000)
        #expect(root["zones"] as? [String] == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
        #expect(root["copies"] as? Int == 3)
        #expect(root["writeQuorum"] as? Int == 2)
        #expect(root["replicationPolicy"] as? String == "audit-buckets-immutable")
        #expect(root["tags"] as? [String: String] == [:])
    }

    @Test func thePlansHashIsTheLibrarysHashOfTheSameInputs() throws {
        let (_, root) = try Self.planJSON(["--bucket", "b", "--key", "k"])
        let set = try PolicySet.load(paths: [Policyctl.projectRoot + "/policies"])
        let catalog = try CatalogLoader.load(path: Policyctl.projectRoot + "/providers_flat.csv").catalog
        let compiled = PolicyCompiler().compile(set, catalog: catalog).compiled
        #expect(root["policySetHash"] as? String == compiled.policySetHash)
        // The same hash for every object, and a different one with a backends file.
        let (_, other) = try Self.planJSON(["--bucket", "hr-x", "--key", "y"])
        #expect(other["policySetHash"] as? String == compiled.policySetHash)
        let (_, withBackends) = try Self.planJSON(["--bucket", "b", "--key", "k", "--backends", "config/s3_backends.json"])
        #expect(withBackends["policySetHash"] as? String != compiled.policySetHash)
    }

    @Test func aBackendsFileRestrictsTheEligibleZones() throws {
        let (r, root) = try Self.planJSON(["--bucket", "hr-data", "--key", "x", "--backends", "config/s3_backends.json"])
        #expect(r.status == 0, "\(r)")
        #expect(root["eligibleZones"] as? [String] == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
        #expect(root["zones"] as? [String] == ["FI-HEL-UC-1", "FI-HEL-ST-1"])
    }

    @Test func aRefusedObjectExitsWithOne() throws {
        try withTempFiles(["hr.yaml": Texts.hrOnly]) { dir in
            let (r, root) = try Self.planJSON(["--bucket", "web", "--key", "index.html", "--policies", dir])
            #expect(r.status == 1, "\(r)")
            for key in Self.contractKeys { #expect(root[key] != nil, "missing key \(key)") }
            #expect(root["allowed"] as? Bool == false)
            #expect((root["zones"] as? [String])?.isEmpty == true)
            #expect(root["replicationPolicy"] is NSNull)
            let reasons = try #require(root["reasons"] as? [String])
            #expect(reasons.contains { $0.contains("no residency policy") }, "\(reasons)")
            #expect(reasons.contains { $0.contains("no replication policy") }, "\(reasons)")
            // Text output says so too.
            let text = try Policyctl.run(["plan", "--bucket", "web", "--key", "index.html", "--policies", dir])
            #expect(text.status == 1)
            #expect(text.stdout.contains("REFUSED"), "\(text)")
            // An hr- object under the same policies is allowed.
            let (ok, okRoot) = try Self.planJSON(["--bucket", "hr-data", "--key", "x", "--policies", dir])
            #expect(ok.status == 0, "\(ok)")
            #expect(okRoot["allowed"] as? Bool == true)
        }
    }

    @Test func anUnsatisfiableSetIsInvalidSoPlanExitsWithTwo() throws {
        let policies = """
            apiVersion: sovereignty/v1
            kind: ResidencyPolicy
            metadata:
              name: finland
            spec:
              match: {}
              allow:
                countries: [FI]
            ---
            apiVersion: sovereignty/v1
            kind: ReplicationPolicy
            metadata:
              name: too-many
            spec:
              match: {}
              copies: 6
            """
        try withTempFiles(["p.yaml": policies]) { dir in
            let r = try Policyctl.run(["plan", "--bucket", "b", "--key", "k", "--policies", dir])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.contains("\(dir)/p.yaml:16:11: error[unsatisfiable]"), "\(r)")
            let validate = try Policyctl.run(["validate", dir])
            #expect(validate.status == 1, "\(validate)")
            #expect(validate.stdout.contains("hint: ") && validate.stdout.contains("5 eligible zones for 6 copies"), "\(validate)")
        }
    }

    @Test func invalidPoliciesExitWithTwo() throws {
        try withTempFiles(["bad.yaml": Texts.invalid]) { dir in
            let r = try Policyctl.run(["plan", "--bucket", "b", "--key", "k", "--policies", dir])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.contains("error[unknown-country]"), "\(r)")
        }
        let missing = try Policyctl.run(["plan", "--bucket", "b", "--key", "k", "--policies", "/nonexistent"])
        #expect(missing.status == 2, "\(missing)")
    }

    @Test func explainPrintsAPerZoneTableOfEveryConstraint() throws {
        let r = try Policyctl.run(["plan", "--bucket", "hr-data", "--key", "personal/a.txt", "--explain"])
        #expect(r.status == 0, "\(r)")
        let lines = r.stdoutLines
        let header = try #require(lines.firstIndex { $0.hasPrefix("zone ") && $0.contains("result") }, "\(r)")
        #expect(lines[header].contains("provider") && lines[header].contains("eu-default-residency: allow.countries"))
        #expect(lines[header].contains("hr-buckets-in-finland: allow.countries"))
        let catalog = try CatalogLoader.load(path: Policyctl.projectRoot + "/providers_flat.csv").catalog
        for zone in catalog.zones {
            let row = try #require(lines.first { $0.hasPrefix(zone.code + " ") }, "no row for \(zone.code)")
            let expected = ["FI-HEL-UC-1", "FI-HEL-ST-1"].contains(zone.code) ? "chosen"
                : zone.countryCode == "FI" ? "eligible" : "rejected"
            #expect(row.contains(" \(expected) "), "\(row)")
            #expect(row.contains("pass") || row.contains("FAIL"), "\(row)")
            if zone.countryCode == "US" { #expect(row.contains("FAIL")) }
        }
        #expect(lines.contains("rejected:"))
        #expect(lines.contains("constraints:"))
        // Without --explain there is no table.
        let plain = try Policyctl.run(["plan", "--bucket", "hr-data", "--key", "personal/a.txt"])
        #expect(!plain.stdout.contains("rejected:"))
        #expect(plain.stdout.contains("zones:       FI-HEL-UC-1 (UpCloud, Helsinki, FI), FI-HEL-ST-1 (Spacetime, Helsinki, FI)"), "\(plain)")
    }

    /// S3 refuses an `x-amz-tagging` set with a key twice; `plan` matches the first value while
    /// its JSON prints both (a duplicate JSON key, which most readers resolve to the last one).
    @Test func aTagKeyGivenTwiceIsAUsageError() throws {
        let r = try Policyctl.run(["plan", "--bucket", "b", "--key", "k", "--tag", "classification=public",
                                   "--tag", "classification=personal", "--format", "json"])
        #expect(r.status == 2, "\(r)")
        #expect(!r.stdout.contains("\"classification\": \"public\",\n    \"classification\""), "duplicate JSON key: \(r)")
    }

    @Test func backendRejectionsAlsoNameTheirSource() throws {
        let (r, root) = try Self.planJSON(["--bucket", "hr-data", "--key", "x", "--backends", "config/s3_backends.json"])
        #expect(r.status == 0, "\(r)")
        let rejected = try #require(root["rejected"] as? [[String: Any]])
        let hz2 = try #require(rejected.first { $0["zone"] as? String == "FI-HEL-HZ-2" })
        let reasons = try #require(hz2["reasons"] as? [String])
        #expect(reasons.contains { $0.contains("no enabled backend") && $0.contains("config/s3_backends.json") }, "\(reasons)")
        // The contract asks for FILE:LINE:COL in every rejection reason, backend ones included.
        let unlocated = rejected.flatMap { $0["reasons"] as? [String] ?? [] }.filter { !matches($0, #"[^\s(]+:[0-9]+:[0-9]+"#) }
        #expect(unlocated.isEmpty, "\(unlocated.count) reasons without FILE:LINE:COL, e.g. \(unlocated.first ?? "")")
    }

    @Test func tagsWithEqualsSignsInTheValueAndEmptyValues() throws {
        let (r, root) = try Self.planJSON(["--bucket", "b", "--key", "k", "--tag", "a=b=c", "--tag", "empty="])
        #expect(r.status == 0, "\(r)")
        #expect(root["tags"] as? [String: String] == ["a": "b=c", "empty": ""])
    }
}
