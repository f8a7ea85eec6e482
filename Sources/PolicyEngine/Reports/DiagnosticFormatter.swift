/// Renders diagnostics for people (text), programs (json), code scanning (SARIF 2.1.0) and
/// GitHub Actions workflow commands.
public enum DiagnosticFormat: String, Sendable, CaseIterable {
    case text, json, sarif, github
}

public enum DiagnosticFormatter {
    public static func render(_ diagnostics: [Diagnostic], format: DiagnosticFormat, valid: Bool, toolVersion: String = PolicyEngineInfo.version) -> String {
        let sorted = diagnostics.sortedByLocation()
        switch format {
        case .text: return text(sorted, valid: valid)
        case .json: return json(sorted, valid: valid).serialized()
        case .sarif: return sarif(sorted, toolVersion: toolVersion).serialized()
        case .github: return github(sorted)
        }
    }

    /// `FILE:LINE:COL: error[CODE]: message`, then indented hints and related locations, then a summary.
    public static func text(_ diagnostics: [Diagnostic], valid: Bool) -> String {
        var lines: [String] = []
        for d in diagnostics {
            lines.append(d.description)
            for hint in d.hints { lines.append("    hint: \(hint)") }
            for r in d.related { lines.append("    note: \(r.location): \(r.message)") }
        }
        let errors = diagnostics.errorCount, warnings = diagnostics.warningCount
        lines.append("\(valid ? "valid" : "invalid"): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
    }

    public static func json(_ diagnostics: [Diagnostic], valid: Bool) -> JSONValue {
        .object([
            ("valid", .bool(valid)),
            ("errors", .int(Int64(diagnostics.errorCount))),
            ("warnings", .int(Int64(diagnostics.warningCount))),
            ("diagnostics", .array(diagnostics.map(json))),
        ])
    }

    static func json(_ d: Diagnostic) -> JSONValue {
        .object([
            ("code", .string(d.code)),
            ("severity", .string(d.severity.rawValue)),
            ("file", .optional(d.location?.file)),
            ("line", d.location.map { .int(Int64($0.line)) } ?? .null),
            ("column", d.location.map { .int(Int64($0.column)) } ?? .null),
            ("message", .string(d.message)),
            ("hints", .strings(d.hints)),
            ("related", .array(d.related.map {
                .object([("file", .string($0.location.file)), ("line", .int(Int64($0.location.line))),
                         ("column", .int(Int64($0.location.column))), ("message", .string($0.message))])
            })),
        ])
    }

    public static func sarif(_ diagnostics: [Diagnostic], toolVersion: String) -> JSONValue {
        let codes = Array(Set(diagnostics.map(\.code))).sorted()
        func region(_ l: SourceLocation) -> JSONValue {
            .object([("startLine", .int(Int64(l.line))), ("startColumn", .int(Int64(l.column)))])
        }
        func physical(_ l: SourceLocation) -> JSONValue {
            .object([("physicalLocation", .object([
                ("artifactLocation", .object([("uri", .string(l.file))])),
                ("region", region(l)),
            ]))])
        }
        let results: [JSONValue] = diagnostics.map { d in
            var fields: [(String, JSONValue)] = [
                ("ruleId", .string(d.code)),
                ("ruleIndex", .int(Int64(codes.firstIndex(of: d.code) ?? 0))),
                ("level", .string(d.severity == .error ? "error" : d.severity == .warning ? "warning" : "note")),
                ("message", .object([("text", .string(([d.message] + d.hints.map { "hint: \($0)" }).joined(separator: "\n")))])),
            ]
            if let l = d.location { fields.append(("locations", .array([physical(l)]))) }
            if !d.related.isEmpty {
                fields.append(("relatedLocations", .array(d.related.enumerated().map { i, r in
                    var loc = physical(r.location)
                    if case .object(var f) = loc {
                        f.insert(("id", .int(Int64(i))), at: 0)
                        f.append(("message", .object([("text", .string(r.message))])))
                        loc = .object(f)
                    }
                    return loc
                })))
            }
            return .object(fields)
        }
        return .object([
            ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"),
            ("version", "2.1.0"),
            ("runs", .array([.object([
                ("tool", .object([("driver", .object([
                    ("name", "policyctl"),
                    ("version", .string(toolVersion)),
                    ("informationUri", "https://example.invalid/policyctl"),
                    ("rules", .array(codes.map { .object([("id", .string($0)), ("name", .string($0))]) })),
                ]))])),
                ("results", .array(results)),
            ])])),
        ])
    }

    /// GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=CODE::message`.
    public static func github(_ diagnostics: [Diagnostic]) -> String {
        func escapeData(_ s: String) -> String {
            s.replacingAll("%", "%25").replacingAll("\r", "%0D").replacingAll("\n", "%0A")
        }
        func escapeProperty(_ s: String) -> String {
            escapeData(s).replacingAll(":", "%3A").replacingAll(",", "%2C")
        }
        return diagnostics.map { d in
            let command = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
            var props: [String] = []
            if let l = d.location {
                props += ["file=\(escapeProperty(l.file))", "line=\(l.line)", "col=\(l.column)"]
            }
            props.append("title=\(escapeProperty(d.code))")
            let message = ([d.message] + d.hints.map { "hint: \($0)" }).joined(separator: "\n")
            return "::\(command) \(props.joined(separator: ","))::\(escapeData(message))"
        }.joined(separator: "\n")
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

public enum PolicyEngineInfo {
    public static let version = "1.0.0"
    public static let apiVersion = "sovereignty/v1"
}
