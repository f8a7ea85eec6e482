/// The `ListObjectsV2` response: `<ListBucketResult>` with `KeyCount` and continuation tokens.
///
/// When ``encodingTypeURL`` is true, `Prefix`, `Delimiter`, `StartAfter`, each `Key` and each common prefix
/// are URL-encoded and `<EncodingType>url` is included. Continuation tokens are never encoded.
public struct ListObjectsV2Result: S3XMLEncodable, Hashable {
    /// The bucket name.
    public var name: String
    /// The prefix filter (`""` when none).
    public var prefix: String
    /// The token this page was requested with, echoed back.
    public var continuationToken: String?
    /// The token for the next page, when truncated.
    public var nextContinuationToken: String?
    /// The page size requested.
    public var maxKeys: Int
    /// The delimiter, when one was given.
    public var delimiter: String?
    /// Whether keys are URL-encoded (`encoding-type=url`).
    public var encodingTypeURL: Bool
    /// Whether more results follow.
    public var isTruncated: Bool
    /// `start-after`, echoed back when given.
    public var startAfter: String?
    /// The objects on this page.
    public var contents: [ListedObject]
    /// The rolled-up common prefixes on this page.
    public var commonPrefixes: [String]

    /// Creates a V2 listing.
    public init(
        name: String,
        prefix: String = "",
        continuationToken: String? = nil,
        nextContinuationToken: String? = nil,
        maxKeys: Int = 1000,
        delimiter: String? = nil,
        encodingTypeURL: Bool = false,
        isTruncated: Bool = false,
        startAfter: String? = nil,
        contents: [ListedObject] = [],
        commonPrefixes: [String] = []
    ) {
        self.name = name
        self.prefix = prefix
        self.continuationToken = continuationToken
        self.nextContinuationToken = nextContinuationToken
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.encodingTypeURL = encodingTypeURL
        self.isTruncated = isTruncated
        self.startAfter = startAfter
        self.contents = contents
        self.commonPrefixes = commonPrefixes
    }

    /// `KeyCount`: objects plus common prefixes on this page.
    public var keyCount: Int { contents.count + commonPrefixes.count }

    public func write(to writer: inout XMLWriter) {
        let encode = encodingTypeURL
        writer.open("ListBucketResult", namespace: S3XMLNamespace.uri)
        writer.element("Name", name)
        writer.element("Prefix", ListingEncoding.value(prefix, encode))
        writer.element("ContinuationToken", ifPresent: continuationToken)
        writer.element("NextContinuationToken", ifPresent: nextContinuationToken)
        writer.element("KeyCount", keyCount)
        writer.element("MaxKeys", maxKeys)
        writer.element("Delimiter", ifPresent: ListingEncoding.optional(delimiter, encode))
        if encode { writer.element("EncodingType", "url") }
        writer.element("IsTruncated", isTruncated)
        writer.element("StartAfter", ifPresent: ListingEncoding.optional(startAfter, encode))
        for object in contents {
            object.write(to: &writer, encodeURL: encode)
        }
        ListingEncoding.writeCommonPrefixes(commonPrefixes, to: &writer, encode: encode)
        writer.close("ListBucketResult")
    }
}
