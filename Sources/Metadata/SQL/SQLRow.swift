import Foundation

/// A result row, already converted from the driver's representation. Accessors interpret the
/// stored value: a bool or a date may arrive as an integer (SQLite).
struct SQLRow: Sendable {
    var values: [String: SQLValue]

    init(_ values: [String: SQLValue]) {
        self.values = values
    }

    private func value(_ column: String) throws -> SQLValue {
        guard let value = values[column] else {
            throw MetadataError(.internal, "unexpected database result", details: "missing column \(column)")
        }
        return value
    }

    func optionalString(_ column: String) throws -> String? {
        switch try value(column) {
        case .text(let v): return v
        case .int(let v): return v.map { String($0) }
        case .bool(let v): return v.map { $0 ? "true" : "false" }
        case .date(let v): return v.map { String(SQLTime.micros($0)) }
        }
    }

    func string(_ column: String) throws -> String {
        guard let v = try optionalString(column) else { throw nullError(column) }
        return v
    }

    func optionalInt(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .int(let v): return v
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        case .text(let v):
            guard let v else { return nil }
            guard let parsed = Int64(v) else { throw typeError(column) }
            return parsed
        case .date(let v): return v.map(SQLTime.micros)
        }
    }

    func int(_ column: String) throws -> Int64 {
        guard let v = try optionalInt(column) else { throw nullError(column) }
        return v
    }

    func bool(_ column: String) throws -> Bool {
        switch try value(column) {
        case .bool(let v?): return v
        case .int(let v?): return v != 0
        default: throw typeError(column)
        }
    }

    func optionalDate(_ column: String) throws -> Date? {
        switch try value(column) {
        case .date(let v): return v
        case .int(let v): return v.map(SQLTime.date)
        case .text(nil), .bool(nil): return nil
        default: throw typeError(column)
        }
    }

    func date(_ column: String) throws -> Date {
        guard let v = try optionalDate(column) else { throw nullError(column) }
        return v
    }

    func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
        try JSONColumn.decode(type, from: string(column), column: column)
    }

    private func nullError(_ column: String) -> MetadataError {
        MetadataError(.internal, "unexpected database result", details: "column \(column) is NULL")
    }

    private func typeError(_ column: String) -> MetadataError {
        MetadataError(.internal, "unexpected database result", details: "column \(column) has type \(String(describing: values[column]))")
    }
}

/// Exact conversion between `Date` and integer microseconds since 1970, used by both stores.
enum SQLTime {
    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func date(_ micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// The date as the database will return it.
    static func normalized(_ date: Date) -> Date {
        self.date(micros(date))
    }
}
