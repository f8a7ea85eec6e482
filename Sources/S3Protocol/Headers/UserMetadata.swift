/// User-defined object metadata: the `x-amz-meta-*` headers.
public enum UserMetadata {
    /// The header prefix, lowercase.
    public static let headerPrefix = "x-amz-meta-"
    /// Most bytes of user metadata S3 accepts: the UTF-8 sizes of all names (without prefix) and values.
    public static let maxSize = 2048

    /// Collects `x-amz-meta-*` headers into a dictionary keyed by lowercased name without the prefix.
    ///
    /// Header names match case-insensitively; repeated headers are joined with `,` as HTTP folds them;
    /// a bare `x-amz-meta-` without a name is ignored; other headers are skipped.
    /// - Throws: `MetadataTooLarge` when the total exceeds ``maxSize`` (or `maxSize` if given).
    public static func collect(
        from headers: some Sequence<(String, String)>,
        maxSize: Int = UserMetadata.maxSize
    ) throws(S3Error) -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in headers {
            guard name.utf8.count > headerPrefix.utf8.count else { continue }
            let lowered = name.lowercased()
            guard lowered.hasPrefix(headerPrefix) else { continue }
            let key = String(lowered.dropFirst(headerPrefix.count))
            if let existing = metadata[key] {
                metadata[key] = existing + "," + value
            } else {
                metadata[key] = value
            }
        }
        let size = self.size(of: metadata)
        if size > maxSize { throw S3Error.metadataTooLarge(size: size, maxSizeAllowed: maxSize) }
        return metadata
    }

    /// The size S3 counts for `metadata`: UTF-8 bytes of every name and value.
    public static func size(of metadata: [String: String]) -> Int {
        metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }
}
