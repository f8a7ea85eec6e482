/// Strict typed reading of YAML nodes, collecting diagnostics instead of stopping.
struct NodeReader {
    var diagnostics: [Diagnostic] = []

    mutating func error(_ code: DiagnosticCode, _ location: SourceLocation, _ message: String, hints: [String] = []) {
        diagnostics.append(.error(code, at: location, message, hints: hints))
    }

    mutating func warning(_ code: DiagnosticCode, _ location: SourceLocation, _ message: String, hints: [String] = []) {
        diagnostics.append(.warning(code, at: location, message, hints: hints))
    }

    /// Reads a mapping, reporting unknown fields (with a "did you mean" hint) and missing required ones.
    mutating func mapping(
        _ node: YAMLNode, _ path: String, allowed: [String], required: [String] = []
    ) -> YAMLMapping? {
        guard case .mapping(let m) = node else {
            if case .scalar(let s) = node, s.isNull, required.isEmpty {
                return YAMLMapping(entries: [], location: s.location)
            }
            error(.wrongType, node.location, "\(path) must be a mapping, not \(node.kindDescription)")
            return nil
        }
        for entry in m.entries where !allowed.contains(entry.key.value) {
            error(.unknownField, entry.key.location, "unknown field '\(entry.key.value)' in \(path)",
                  hints: Suggestions.hint(for: entry.key.value, in: allowed) + ["allowed fields: " + allowed.joined(separator: ", ")])
        }
        for field in required where m[field] == nil {
            error(.missingField, m.location, "\(path) is missing required field '\(field)'")
        }
        return m
    }

    /// Where a string is expected every scalar is a string: a plain `~`, `null` or empty value
    /// is the text it spells (`"~"`, `"null"`, `""`), as `NO` is Norway.
    mutating func string(_ node: YAMLNode, _ path: String) -> Located<String>? {
        guard case .scalar(let s) = node else {
            error(.wrongType, node.location, "\(path) must be a string, not \(node.kindDescription)")
            return nil
        }
        return Located(s.value, at: s.location)
    }

    mutating func bool(_ node: YAMLNode, _ path: String) -> Located<Bool>? {
        guard case .scalar(let s) = node else {
            error(.wrongType, node.location, "\(path) must be true or false, not \(node.kindDescription)")
            return nil
        }
        if s.style == .plain {
            if s.value == "true" { return Located(true, at: s.location) }
            if s.value == "false" { return Located(false, at: s.location) }
            let yaml11: [String: Bool] = [
                "yes": true, "y": true, "on": true, "no": false, "n": false, "off": false,
                "True": true, "TRUE": true, "False": false, "FALSE": false,
            ]
            if let meant = yaml11[s.value] ?? yaml11[s.value.lowercased()] {
                error(.yamlBoolean, s.location,
                      "'\(s.value)' is not a boolean here: only true and false are booleans",
                      hints: ["write \(meant) (YAML 1.1 spellings such as yes/no/on/off are refused)"])
                return nil
            }
        }
        error(.wrongType, s.location, "\(path) must be true or false, not '\(s.value)'")
        return nil
    }

    mutating func int(_ node: YAMLNode, _ path: String, range: ClosedRange<Int>? = nil) -> Located<Int>? {
        guard case .scalar(let s) = node, s.style == .plain, let value = Int(s.value) else {
            error(.wrongType, node.location, "\(path) must be an integer")
            return nil
        }
        if let range, !range.contains(value) {
            error(.invalidValue, s.location, "\(path) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            return nil
        }
        return Located(value, at: s.location)
    }

    mutating func list(_ node: YAMLNode, _ path: String) -> [YAMLNode]? {
        guard case .sequence(let s) = node else {
            error(.wrongType, node.location, "\(path) must be a list, not \(node.kindDescription)",
                  hints: ["write [\(describe(node))] for a list of one"])
            return nil
        }
        return s.items
    }

    mutating func stringList(_ node: YAMLNode, _ path: String) -> [Located<String>]? {
        stringListCheckingItems(node, path)?.list
    }

    /// The entries that are strings (and, with `naming`, not empty), and whether every entry
    /// was: a list with a refused entry is not the list that was written, so what follows from
    /// its length (an empty list admits nothing) must not be reported about it.
    mutating func stringListCheckingItems(_ node: YAMLNode, _ path: String, naming what: String? = nil)
        -> (list: [Located<String>], complete: Bool)? {
        guard let items = list(node, path) else { return nil }
        var result: [Located<String>] = []
        for (i, item) in items.enumerated() {
            guard let s = string(item, "\(path)[\(i)]") else { continue }
            if let what, s.value.isEmpty {
                error(.invalidValue, s.location, "\(path)[\(i)] is empty: an empty string is not \(what)",
                      hints: ["write \(what), or remove the entry"])
                continue
            }
            result.append(s)
        }
        return (result, result.count == items.count)
    }

    mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ path: String, as type: E.Type) -> Located<E>? where E.RawValue == String {
        guard let s = string(node, path) else { return nil }
        guard let value = E(rawValue: s.value) else {
            let options = E.allCases.map(\.rawValue)
            error(.invalidValue, s.location, "\(path) must be one of \(options.joined(separator: ", ")), not '\(s.value)'",
                  hints: Suggestions.hint(for: s.value, in: options))
            return nil
        }
        return Located(value, at: s.location)
    }

    /// `15m`, `365d`, `7y`: integer + s, m, h, d, w or y (y = 365 days).
    mutating func duration(_ node: YAMLNode, _ path: String) -> Located<Int64>? {
        guard let s = string(node, path) else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800, "y": 31_536_000]
        guard let unit = s.value.last, let factor = units[unit],
              let n = Int64(s.value.dropLast()), n > 0, String(n) == String(s.value.dropLast()) else {
            error(.invalidValue, s.location, "\(path) '\(s.value)' is not a duration",
                  hints: ["write a positive integer and a unit: s, m, h, d, w or y (e.g. 15m, 365d, 7y)"])
            return nil
        }
        let (seconds, overflow) = n.multipliedReportingOverflow(by: factor)
        if overflow {
            error(.invalidValue, s.location, "\(path) '\(s.value)' is too long")
            return nil
        }
        return Located(seconds, at: s.location)
    }

    private func describe(_ node: YAMLNode) -> String {
        if case .scalar(let s) = node { return s.value }
        return "..."
    }
}
