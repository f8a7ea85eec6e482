import Foundation

/// The two SQL dialects the shared store core speaks.
enum SQLDialect: Sendable {
    case postgres
    case sqlite
}

/// A bound value. Dates travel as integer microseconds since 1970 (timestamptz on PostgreSQL,
/// INTEGER on SQLite) so both stores return identical `Date`s.
enum SQLValue: Sendable, Hashable {
    case text(String?)
    case int(Int64?)
    case bool(Bool?)
    case date(Date?)

    /// `::type` of the value's PostgreSQL parameter.
    var postgresCast: String {
        switch self {
        case .text: "::text"
        case .int: "::int8"
        case .bool: "::bool"
        case .date: "::timestamptz"
        }
    }

    var isNull: Bool {
        switch self {
        case .text(let v): v == nil
        case .int(let v): v == nil
        case .bool(let v): v == nil
        case .date(let v): v == nil
        }
    }
}

/// Values that can be interpolated (bound) into ``SQL``.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Int64: SQLBindable { var sqlValue: SQLValue { .int(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .bool(self) } }
extension Date: SQLBindable { var sqlValue: SQLValue { .date(self) } }

extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue {
        if let self { return self.sqlValue }
        // A typed NULL, so that PostgreSQL never has to guess a parameter's type.
        switch Wrapped.self {
        case is String.Type: return .text(nil)
        case is Int64.Type, is Int.Type: return .int(nil)
        case is Bool.Type: return .bool(nil)
        case is Date.Type: return .date(nil)
        default: return .text(nil)
        }
    }
}

/// A statement built from literal SQL text and bound values: `"... WHERE name = \(name)"` binds
/// `name` as a parameter (`$n` on PostgreSQL, `?n` on SQLite). Values are never spliced into
/// the text; the only way to add text is another `SQL` value (itself made of literals).
struct SQL: Sendable, Hashable, ExpressibleByStringInterpolation {
    enum Part: Sendable, Hashable {
        case text(String)
        case bind(SQLValue)
    }

    private(set) var parts: [Part]

    init(stringLiteral value: String) {
        self.parts = [.text(value)]
    }

    init(stringInterpolation: StringInterpolation) {
        self.parts = stringInterpolation.parts
    }

    /// Text that is not a literal: only for identifiers validated beforehand (schema names).
    init(unsafeRaw text: String) {
        self.parts = [.text(text)]
    }

    struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
        }

        mutating func appendLiteral(_ literal: String) {
            parts.append(.text(literal))
        }

        mutating func appendInterpolation<Value: SQLBindable>(_ value: Value) {
            parts.append(.bind(value.sqlValue))
        }

        mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            parts.append(.bind(value.sqlValue))
        }

        mutating func appendInterpolation(_ value: SQLValue) {
            parts.append(.bind(value))
        }

        /// Splices a fragment (its text and its binds).
        mutating func appendInterpolation(sql fragment: SQL) {
            parts.append(contentsOf: fragment.parts)
        }
    }

    static func + (lhs: SQL, rhs: SQL) -> SQL {
        var result = lhs
        result.parts.append(contentsOf: rhs.parts)
        return result
    }

    static func += (lhs: inout SQL, rhs: SQL) {
        lhs.parts.append(contentsOf: rhs.parts)
    }

    /// Joins fragments with a literal separator.
    static func joined(_ fragments: [SQL], separator: String) -> SQL {
        var result = SQL(stringLiteral: "")
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { result.parts.append(.text(separator)) }
            result.parts.append(contentsOf: fragment.parts)
        }
        return result
    }

    /// The statement text with numbered placeholders, and the values in placeholder order.
    func render(_ dialect: SQLDialect) -> (text: String, binds: [SQLValue]) {
        // Sized up front and appended piece by piece: statements run on every request, and
        // growing the text (or concatenating temporaries) showed in profiles.
        var capacity = 0
        var bindCount = 0
        for part in parts {
            switch part {
            case .text(let fragment): capacity += fragment.utf8.count
            case .bind: bindCount += 1
            }
        }
        var text = ""
        text.reserveCapacity(capacity + bindCount * (dialect == .sqlite ? 4 : 16))
        var binds: [SQLValue] = []
        binds.reserveCapacity(bindCount)
        for part in parts {
            switch part {
            case .text(let fragment):
                text.append(fragment)
            case .bind(let value):
                binds.append(value)
                switch dialect {
                case .sqlite:
                    text.append("?")
                    text.append(String(binds.count))
                case .postgres:
                    // The type in the text: a statement prepared from it (see
                    // `PreparedStatements`) types each parameter as it is bound, even where
                    // the context alone would not say (`SELECT $1`).
                    text.append("$")
                    text.append(String(binds.count))
                    text.append(value.postgresCast)
                }
            }
        }
        return (text, binds)
    }
}
