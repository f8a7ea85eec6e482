/// A single byte range from an HTTP `Range` header.
///
/// S3 supports exactly one range per request. Like S3, ``init(rangeHeader:)`` returns nil — meaning
/// "ignore the header and send the whole object with 200" — when the header is not a `bytes=` range,
/// is syntactically invalid (including `last < first`), or lists several ranges. A well-formed range
/// that does not overlap the object is rejected later by ``resolve(objectSize:)`` with `416 InvalidRange`.
public enum ByteRange: Sendable, Hashable {
    /// `bytes=first-last`
    case closed(first: Int64, last: Int64)
    /// `bytes=first-`
    case from(first: Int64)
    /// `bytes=-length`: the last `length` bytes.
    case suffix(length: Int64)

    /// Parses a `Range` header value; nil when S3 would ignore it (see the type's discussion).
    /// Numbers too large for `Int64` are clamped to `Int64.max`.
    public init?(rangeHeader: String) {
        let value = rangeHeader.trimmingXMLWhitespace()
        guard let eq = value.firstIndex(of: "="),
              value[..<eq].trimmingXMLWhitespace().lowercased() == "bytes"
        else { return nil }
        let specs = value[value.index(after: eq)...]
            .split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingXMLWhitespace() }
            .filter { !$0.isEmpty }
        guard specs.count == 1, let spec = specs.first else { return nil }
        self.init(spec: spec)
    }

    /// Parses one `first-last` / `first-` / `-length` spec without the `bytes=` unit.
    init?(spec: Substring) {
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let firstText = spec[..<dash]
        let lastText = spec[spec.index(after: dash)...]
        switch (firstText.isEmpty, lastText.isEmpty) {
        case (true, true):
            return nil
        case (true, false):
            guard let length = Self.number(lastText) else { return nil }
            self = .suffix(length: length)
        case (false, true):
            guard let first = Self.number(firstText) else { return nil }
            self = .from(first: first)
        case (false, false):
            guard let first = Self.number(firstText), let last = Self.number(lastText), last >= first else {
                return nil
            }
            self = .closed(first: first, last: last)
        }
    }

    /// The range as it appears in a header, e.g. `bytes=0-99`.
    public var headerValue: String {
        switch self {
        case .closed(let first, let last): "bytes=\(first)-\(last)"
        case .from(let first): "bytes=\(first)-"
        case .suffix(let length): "bytes=-\(length)"
        }
    }

    /// Resolves the range against an object of `objectSize` bytes.
    ///
    /// `last` beyond the end is clamped; a suffix longer than the object selects all of it.
    /// - Throws: `InvalidRange` (416) with `RangeRequested` and `ActualObjectSize` when `first` is at or past
    ///   the end, for `bytes=-0`, and for any range of an empty object.
    public func resolve(objectSize: Int64) throws(S3Error) -> ResolvedByteRange {
        let unsatisfiable = S3Error.invalidRange(rangeRequested: headerValue, actualObjectSize: objectSize)
        guard objectSize > 0 else { throw unsatisfiable }
        switch self {
        case .closed(let first, let last):
            guard first < objectSize else { throw unsatisfiable }
            return ResolvedByteRange(first: first, last: min(last, objectSize - 1), objectSize: objectSize)
        case .from(let first):
            guard first < objectSize else { throw unsatisfiable }
            return ResolvedByteRange(first: first, last: objectSize - 1, objectSize: objectSize)
        case .suffix(let length):
            guard length > 0 else { throw unsatisfiable }
            let first = length >= objectSize ? 0 : objectSize - length
            return ResolvedByteRange(first: first, last: objectSize - 1, objectSize: objectSize)
        }
    }

    /// Digits only; values above `Int64.max` clamp to it.
    static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text) ?? Int64.max
    }
}

/// A byte range resolved against an object's size: inclusive absolute offsets.
public struct ResolvedByteRange: Sendable, Hashable {
    /// Offset of the first byte.
    public var first: Int64
    /// Offset of the last byte (inclusive).
    public var last: Int64
    /// Size of the whole object.
    public var objectSize: Int64

    /// Creates a resolved range.
    public init(first: Int64, last: Int64, objectSize: Int64) {
        self.first = first
        self.last = last
        self.objectSize = objectSize
    }

    /// Number of bytes in the range.
    public var length: Int64 { last - first + 1 }

    /// The `Content-Range` header value, e.g. `bytes 0-99/1234`.
    public var contentRange: String { "bytes \(first)-\(last)/\(objectSize)" }

    /// The `Content-Range` value for a 416 response: `bytes */size`.
    public static func unsatisfiedContentRange(objectSize: Int64) -> String { "bytes */\(objectSize)" }
}
