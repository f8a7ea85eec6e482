extension Tagging {
    /// Parses the `x-amz-tagging` header: URL query encoding `k1=v1&k2=v2` (`+` is a space),
    /// then applies ``validate(maxTags:)``.
    ///
    /// - Throws: `InvalidArgument` (ArgumentName `x-amz-tagging`) for malformed encoding or duplicate keys,
    ///   as S3 does; `BadRequest` for more than `maxTags` tags and `InvalidTag` for the other
    ///   rule violations (see ``validate(maxTags:)``).
    public init(headerValue: String, maxTags: Int = Tagging.maxObjectTags) throws(S3Error) {
        let malformed = S3Error.invalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
            name: "x-amz-tagging",
            value: headerValue
        )
        let parameters: QueryParameters
        do {
            parameters = try QueryParameters(parsing: headerValue)
        } catch {
            throw malformed
        }
        var tags: [Tag] = []
        var seen = Set<String>()
        for parameter in parameters.parameters {
            guard seen.insert(parameter.name).inserted else { throw malformed }
            tags.append(Tag(key: parameter.name, value: parameter.value ?? ""))
        }
        self.init(tags)
        try validate(maxTags: maxTags)
    }

    /// The tags as a URL query string `k1=v1&k2=v2` (RFC 3986 percent-encoding, input order),
    /// suitable for storage and for the `x-amz-tagging` header.
    public var queryString: String {
        tags.map { "\(S3URLEncoding.encode($0.key))=\(S3URLEncoding.encode($0.value))" }.joined(separator: "&")
    }

    /// Like ``queryString`` with tags sorted by key, so equal tag sets compare equal as strings.
    public var canonicalQueryString: String {
        Tagging(tags.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).queryString
    }

    /// The value of the `x-amz-tagging-count` response header.
    public var count: Int { tags.count }
}
