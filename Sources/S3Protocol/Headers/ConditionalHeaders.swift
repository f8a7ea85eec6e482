#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The conditional request headers of a read (`If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since`) or of a copy source (`x-amz-copy-source-if-*`), as raw header values.
///
/// Evaluation follows RFC 9110 §13.2.2, which is also what S3 documents:
/// 1. `If-Match` present and no tag matches → 412. If it matches, `If-Unmodified-Since` is skipped.
/// 2. Otherwise `If-Unmodified-Since` (a valid date) earlier than the last modification → 412.
/// 3. `If-None-Match` present and a tag matches → 304 for reads (412 for copy sources).
///    If no tag matches, `If-Modified-Since` is skipped.
/// 4. Otherwise `If-Modified-Since` (a valid date) not earlier than the last modification → 304
///    for reads (412 for copy sources).
///
/// Dates are compared at whole-second precision; invalid dates are ignored. Entity tags match by
/// opaque value: quotes are optional and a `W/` prefix is ignored (S3 compares leniently);
/// `*` matches any existing object.
public struct ConditionalHeaders: Sendable, Hashable {
    /// The result of evaluating the conditions.
    public enum Outcome: Sendable, Hashable {
        /// Serve the request.
        case proceed
        /// Answer `304 Not Modified` without a body.
        case notModified
        /// Answer `412 Precondition Failed`; `condition` names the header that failed.
        case preconditionFailed(condition: String)

        /// The error to answer with, or nil for ``proceed``.
        public var error: S3Error? {
            switch self {
            case .proceed: nil
            case .notModified: S3Error(.notModified)
            case .preconditionFailed(let condition): S3Error.preconditionFailed(condition: condition)
            }
        }
    }

    /// `If-Match` (or `x-amz-copy-source-if-match`).
    public var ifMatch: String?
    /// `If-None-Match` (or `x-amz-copy-source-if-none-match`).
    public var ifNoneMatch: String?
    /// `If-Modified-Since` (or `x-amz-copy-source-if-modified-since`).
    public var ifModifiedSince: String?
    /// `If-Unmodified-Since` (or `x-amz-copy-source-if-unmodified-since`).
    public var ifUnmodifiedSince: String?

    /// Creates a set of conditions from raw header values.
    public init(
        ifMatch: String? = nil,
        ifNoneMatch: String? = nil,
        ifModifiedSince: String? = nil,
        ifUnmodifiedSince: String? = nil
    ) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
    }

    /// Whether no condition is present.
    public var isEmpty: Bool {
        ifMatch == nil && ifNoneMatch == nil && ifModifiedSince == nil && ifUnmodifiedSince == nil
    }

    /// Evaluates the conditions of a GET or HEAD against the current object.
    ///
    /// - Parameters:
    ///   - eTag: the object's entity tag, with or without quotes.
    ///   - lastModified: the object's modification time.
    ///   - now: when given, an `If-Modified-Since` later than `now` is ignored (RFC 9110 §13.1.3).
    public func evaluate(eTag: String, lastModified: Date, now: Date? = nil) -> Outcome {
        evaluate(eTag: eTag, lastModified: lastModified, now: now, copySource: false)
    }

    /// Evaluates `x-amz-copy-source-if-*` conditions against the copy source; every failure is 412.
    public func evaluateCopySource(eTag: String, lastModified: Date) -> Outcome {
        evaluate(eTag: eTag, lastModified: lastModified, now: nil, copySource: true)
    }

    private func evaluate(eTag: String, lastModified: Date, now: Date?, copySource: Bool) -> Outcome {
        let names = copySource ? Self.copySourceNames : Self.names
        let modifiedSecond = Self.wholeSeconds(lastModified)
        var skipUnmodifiedSince = false
        if let ifMatch {
            guard Self.matches(ifMatch, eTag: eTag) else { return .preconditionFailed(condition: names.ifMatch) }
            skipUnmodifiedSince = true
        }
        if !skipUnmodifiedSince, let header = ifUnmodifiedSince, let date = HTTPDate.parse(header),
           modifiedSecond > Self.wholeSeconds(date) {
            return .preconditionFailed(condition: names.ifUnmodifiedSince)
        }
        if let ifNoneMatch {
            if Self.matches(ifNoneMatch, eTag: eTag) {
                return copySource ? .preconditionFailed(condition: names.ifNoneMatch) : .notModified
            }
            return .proceed
        }
        if let header = ifModifiedSince, let date = HTTPDate.parse(header) {
            if let now, date > now { return .proceed }
            if modifiedSecond <= Self.wholeSeconds(date) {
                return copySource ? .preconditionFailed(condition: names.ifModifiedSince) : .notModified
            }
        }
        return .proceed
    }

    /// Whether an `If-Match`/`If-None-Match` list (`*` or comma-separated tags) contains `eTag`.
    public static func matches(_ list: String, eTag: String) -> Bool {
        let target = opaqueTag(Substring(eTag))
        for item in list.split(separator: ",") {
            let tag = item.trimmingXMLWhitespace()
            if tag == "*" { return true }
            if !tag.isEmpty, opaqueTag(tag) == target { return true }
        }
        return false
    }

    /// Strips `W/` and surrounding quotes.
    static func opaqueTag(_ tag: Substring) -> Substring {
        var value = tag.trimmingXMLWhitespace()
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
        return value
    }

    static func wholeSeconds(_ date: Date) -> Int64 {
        UTCDateTime.floorDivide(UTCDateTime.epochMilliseconds(of: date), 1000).quotient
    }

    private struct HeaderNames {
        var ifMatch: String
        var ifNoneMatch: String
        var ifModifiedSince: String
        var ifUnmodifiedSince: String
    }

    private static let names = HeaderNames(
        ifMatch: "If-Match",
        ifNoneMatch: "If-None-Match",
        ifModifiedSince: "If-Modified-Since",
        ifUnmodifiedSince: "If-Unmodified-Since"
    )

    private static let copySourceNames = HeaderNames(
        ifMatch: "x-amz-copy-source-If-Match",
        ifNoneMatch: "x-amz-copy-source-If-None-Match",
        ifModifiedSince: "x-amz-copy-source-If-Modified-Since",
        ifUnmodifiedSince: "x-amz-copy-source-If-Unmodified-Since"
    )
}
