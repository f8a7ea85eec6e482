/// The `x-amz-copy-source` header: `[/]bucket/key[?versionId=id]`, URL-encoded.
public struct CopySource: Sendable, Hashable {
    /// The source bucket.
    public var bucket: String
    /// The source key (decoded; not validated — use ``ObjectKeyValidator``).
    public var key: String
    /// The source version, when given.
    public var versionId: String?

    /// Creates a copy source.
    public init(bucket: String, key: String, versionId: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
    }

    /// Parses the header.
    ///
    /// A literal `?` starts the query (a `?` inside the key must be encoded as `%3F`). The path is
    /// percent-decoded before splitting at the first `/`, so clients that encode the separating slash
    /// (`bucket%2Fkey`) are accepted too. `+` is kept literally.
    ///
    /// - Throws: `InvalidArgument` (ArgumentName `x-amz-copy-source`) when the bucket or key is missing,
    ///   an escape is malformed, the result is not UTF-8, or `versionId` is empty.
    public init(headerValue: String) throws(S3Error) {
        let invalid = S3Error.invalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            name: "x-amz-copy-source",
            value: headerValue
        )
        let value = headerValue.trimmingXMLWhitespace()
        let pathPart: Substring
        var versionId: String?
        if let question = value.firstIndex(of: "?") {
            pathPart = value[..<question]
            let query: QueryParameters
            do {
                query = try QueryParameters(parsing: value[value.index(after: question)...])
            } catch {
                throw invalid
            }
            if let id = query["versionId"] {
                guard !id.isEmpty else {
                    throw S3Error.invalidArgument("Version id cannot be the empty string", name: "versionId", value: id)
                }
                versionId = id
            }
        } else {
            pathPart = value
        }
        guard var path = S3URLEncoding.decode(pathPart) else { throw invalid }
        if path.hasPrefix("/") { path.removeFirst() }
        guard let slash = path.firstIndex(of: "/") else { throw invalid }
        let bucket = String(path[..<slash])
        let key = String(path[path.index(after: slash)...])
        guard !bucket.isEmpty, !key.isEmpty else { throw invalid }
        self.init(bucket: bucket, key: key, versionId: versionId)
    }
}
