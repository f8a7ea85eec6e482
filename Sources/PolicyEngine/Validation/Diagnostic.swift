/// One finding about a policy set, a catalog or a backends file.
///
/// Diagnostics are collected, not thrown: every stage reports everything it finds so that a
/// compliance officer sees all problems of a change at once.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error
        case warning
        case note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// A secondary location that explains the finding (the other policy of a conflict, say).
    public struct Related: Sendable, Hashable {
        public var location: SourceLocation
        public var message: String

        public init(location: SourceLocation, message: String) {
            self.location = location
            self.message = message
        }
    }

    /// Stable identifier of the rule, e.g. `duplicate-key`; see `DiagnosticCode`.
    public var code: String
    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    public var hints: [String]
    public var related: [Related]

    public init(
        _ severity: Severity,
        _ code: DiagnosticCode,
        at location: SourceLocation?,
        _ message: String,
        hints: [String] = [],
        related: [Related] = []
    ) {
        self.code = code.rawValue
        self.severity = severity
        self.location = location
        self.message = message
        self.hints = hints
        self.related = related
    }

    public static func error(
        _ code: DiagnosticCode, at location: SourceLocation?, _ message: String,
        hints: [String] = [], related: [Related] = []
    ) -> Diagnostic {
        Diagnostic(.error, code, at: location, message, hints: hints, related: related)
    }

    public static func warning(
        _ code: DiagnosticCode, at location: SourceLocation?, _ message: String,
        hints: [String] = [], related: [Related] = []
    ) -> Diagnostic {
        Diagnostic(.warning, code, at: location, message, hints: hints, related: related)
    }

    /// `FILE:LINE:COL: error[CODE]: message`
    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)\(severity.rawValue)[\(code)]: \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errorCount: Int { count { $0.severity == .error } }
    public var warningCount: Int { count { $0.severity == .warning } }

    /// Sorted by file, line, column, then severity; findings without a location come first.
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case (let l?, let r?): return l == r ? a.offset < b.offset : l < r
            }
        }.map(\.element)
    }
}
