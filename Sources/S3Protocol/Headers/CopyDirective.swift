/// `x-amz-metadata-directive` / `x-amz-tagging-directive` of `CopyObject`.
public enum CopyDirective: String, Sendable, Hashable, CaseIterable {
    /// Copy the source's metadata or tags (the default).
    case copy = "COPY"
    /// Replace them with those given in the request.
    case replace = "REPLACE"

    /// Parses `x-amz-metadata-directive`; nil means ``copy``.
    /// - Throws: `InvalidArgument` for any other value.
    public static func metadataDirective(_ headerValue: String?) throws(S3Error) -> CopyDirective {
        try parse(headerValue, header: "x-amz-metadata-directive", what: "metadata")
    }

    /// Parses `x-amz-tagging-directive`; nil means ``copy``.
    /// - Throws: `InvalidArgument` for any other value.
    public static func taggingDirective(_ headerValue: String?) throws(S3Error) -> CopyDirective {
        try parse(headerValue, header: "x-amz-tagging-directive", what: "tagging")
    }

    private static func parse(_ value: String?, header: String, what: String) throws(S3Error) -> CopyDirective {
        guard let value else { return .copy }
        guard let directive = CopyDirective(rawValue: String(value.trimmingXMLWhitespace())) else {
            throw S3Error.invalidArgument("Unknown \(what) directive.", name: header, value: value)
        }
        return directive
    }
}
