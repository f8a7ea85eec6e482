/// Runs `kind: PolicyTest` cases against a compiled policy set.
public struct PolicyTestRunner: Sendable {
    public struct CaseResult: Sendable {
        public var test: String
        public var name: String
        public var location: SourceLocation
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    public let compiled: CompiledPolicySet

    public init(compiled: CompiledPolicySet) {
        self.compiled = compiled
    }

    public func run(_ tests: [PolicyTest]) -> [CaseResult] {
        tests.flatMap { test in
            test.cases.enumerated().map { i, c in
                CaseResult(test: test.metadata.name, name: c.name ?? "case \(i + 1): \(c.object)",
                           location: c.location, failures: check(c))
            }
        }
    }

    func check(_ c: PolicyTestCase) -> [String] {
        let plan = compiled.plan(for: c.object)
        let e = c.expect
        let zones = plan.zones.map(\.code)
        func list(_ l: [String]) -> String { "[" + l.joined(separator: ", ") + "]" }
        var failures: [String] = []
        if let allowed = e.allowed, allowed != plan.allowed {
            failures.append("expected allowed: \(allowed), got \(plan.allowed)" +
                            (plan.reasons.isEmpty ? "" : " (" + plan.reasons.joined(separator: "; ") + ")"))
        }
        if let expected = e.zones, expected != zones {
            failures.append("expected zones \(list(expected)), got \(list(zones))")
        }
        if let include = e.zonesInclude {
            let missing = include.filter { !zones.contains($0) }
            if !missing.isEmpty { failures.append("expected zones to include \(list(missing)), got \(list(zones))") }
        }
        if let exclude = e.zonesExclude {
            let present = exclude.filter { zones.contains($0) }
            if !present.isEmpty { failures.append("expected zones to exclude \(list(present)), got \(list(zones))") }
        }
        if let copies = e.copies, copies != plan.copies {
            failures.append("expected copies \(copies), got \(plan.copies)")
        }
        if let quorum = e.writeQuorum, quorum != plan.writeQuorum {
            failures.append("expected writeQuorum \(quorum), got \(plan.writeQuorum)")
        }
        if let countries = e.countries {
            var allowedCodes = Set<String>()
            for c in countries {
                allowedCodes.formUnion(Countries.builtInGroups[c.uppercased()] ?? compiled.countryGroups[c.uppercased()] ?? [c])
            }
            let outside = plan.zones.filter { !allowedCodes.contains($0.countryCode) }
            if !outside.isEmpty {
                failures.append("expected every zone in \(list(countries)), but " +
                                outside.map { "\($0.code) is in \($0.countryCode)" }.joined(separator: ", "))
            }
        }
        if let name = e.replicationPolicy, name != plan.replicationPolicy?.metadata.name {
            failures.append("expected replication policy '\(name)', got '\(plan.replicationPolicy?.metadata.name ?? "none")'")
        }
        if let names = e.residencyPolicies, Set(names) != Set(plan.residencyPolicies) {
            failures.append("expected residency policies \(list(names.sorted())), got \(list(plan.residencyPolicies.sorted()))")
        }
        if let versioning = e.versioning, versioning != plan.versioning?.rawValue {
            failures.append("expected versioning \(versioning), got \(plan.versioning?.rawValue ?? "none")")
        }
        return failures
    }

    /// A line per case, the failures below a failing one, and `N passed, M failed`.
    public static func text(_ results: [CaseResult]) -> String {
        var lines: [String] = []
        for r in results {
            lines.append("\(r.passed ? "PASS" : "FAIL") \(r.test) / \(r.name)")
            if !r.passed {
                lines.append("     at \(r.location)")
                for f in r.failures { lines.append("     \(f)") }
            }
        }
        let failed = results.count { !$0.passed }
        lines.append("\(results.count - failed) passed, \(failed) failed")
        return lines.joined(separator: "\n")
    }

    /// JUnit XML, one `<testsuite>` per PolicyTest document.
    public static func junit(_ results: [CaseResult]) -> String {
        var suites: [String] = []
        var order: [String] = []
        var byTest: [String: [CaseResult]] = [:]
        for r in results {
            if byTest[r.test] == nil { order.append(r.test) }
            byTest[r.test, default: []].append(r)
        }
        for test in order {
            let cases = byTest[test]!
            let failures = cases.count { !$0.passed }
            var s = "  <testsuite name=\"\(xml(test))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\">\n"
            for c in cases {
                s += "    <testcase classname=\"\(xml(test))\" name=\"\(xml(c.name))\" file=\"\(xml(c.location.file))\" line=\"\(c.location.line)\""
                if c.passed {
                    s += "/>\n"
                } else {
                    s += ">\n      <failure message=\"\(xml(c.failures.first ?? ""))\">\(xml(c.failures.joined(separator: "\n")))\n at \(xml(c.location.description))</failure>\n    </testcase>\n"
                }
            }
            s += "  </testsuite>\n"
            suites.append(s)
        }
        let total = results.count, failed = results.count { !$0.passed }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"policyctl test\" tests=\"\(total)\" failures=\"\(failed)\" errors=\"0\">\n"
            + suites.joined() + "</testsuites>"
    }

    static func xml(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { out += "?" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
