/// The `x-amz-copy-source-range` header of `UploadPartCopy`: `bytes=first-last`, both offsets required.
public struct CopySourceRange: Sendable, Hashable {
    /// Offset of the first byte to copy.
    public var first: Int64
    /// Offset of the last byte to copy (inclusive).
    public var last: Int64

    /// Creates a range.
    public init(first: Int64, last: Int64) {
        self.first = first
        self.last = last
    }

    /// Parses the header.
    /// - Throws: `InvalidArgument` (ArgumentName `x-amz-copy-source-range`) unless the value is `bytes=first-last`
    ///   with `first <= last`.
    public init(headerValue: String) throws(S3Error) {
        let error = S3Error.invalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            name: "x-amz-copy-source-range",
            value: headerValue
        )
        let value = headerValue.trimmingXMLWhitespace()
        guard value.hasPrefix("bytes="),
              case .closed(let first, let last)? = ByteRange(spec: value.dropFirst(6))
        else { throw error }
        self.init(first: first, last: last)
    }

    /// Resolves against the source object's size.
    /// - Throws: `InvalidArgument` when the range does not lie within the source object, as S3 does.
    public func resolve(sourceSize: Int64) throws(S3Error) -> ResolvedByteRange {
        guard first < sourceSize, last < sourceSize else {
            throw S3Error.invalidArgument(
                "Range specified is not valid for source object of size: \(sourceSize)",
                name: "x-amz-copy-source-range",
                value: "bytes=\(first)-\(last)"
            )
        }
        return ResolvedByteRange(first: first, last: last, objectSize: sourceSize)
    }
}
