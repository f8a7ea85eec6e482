/// The `ListObjects` (V1) response: `<ListBucketResult>` with `Marker`/`NextMarker`.
///
/// When ``encodingTypeURL`` is true, `Prefix`, `Marker`, `NextMarker`, `Delimiter`, each `Key` and each
/// common prefix are URL-encoded (see ``S3URLEncoding/encodeListingValue(_:)``) and `<EncodingType>url`
/// is included.
public struct ListObjectsResult: S3XMLEncodable, Hashable {
    /// The bucket name.
    public var name: String
    /// The prefix filter (`""` when none).
    public var prefix: String
    /// The marker the listing started after (`""` when none).
    public var marker: String
    /// Where the next page starts; S3 returns it only when a delimiter was given and the listing is truncated.
    public var nextMarker: String?
    /// The page size requested.
    public var maxKeys: Int
    /// The delimiter, when one was given.
    public var delimiter: String?
    /// Whether keys are URL-encoded (`encoding-type=url`).
    public var encodingTypeURL: Bool
    /// Whether more results follow.
    public var isTruncated: Bool
    /// The objects on this page.
    public var contents: [ListedObject]
    /// The rolled-up common prefixes on this page.
    public var commonPrefixes: [String]

    /// Creates a V1 listing.
    public init(
        name: String,
        prefix: String = "",
        marker: String = "",
        nextMarker: String? = nil,
        maxKeys: Int = 1000,
        delimiter: String? = nil,
        encodingTypeURL: Bool = false,
        isTruncated: Bool = false,
        contents: [ListedObject] = [],
        commonPrefixes: [String] = []
    ) {
        self.name = name
        self.prefix = prefix
        self.marker = marker
        self.nextMarker = nextMarker
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.encodingTypeURL = encodingTypeURL
        self.isTruncated = isTruncated
        self.contents = contents
        self.commonPrefixes = commonPrefixes
    }

    public func write(to writer: inout XMLWriter) {
        let encode = encodingTypeURL
        writer.open("ListBucketResult", namespace: S3XMLNamespace.uri)
        writer.element("Name", name)
        writer.element("Prefix", ListingEncoding.value(prefix, encode))
        writer.element("Marker", ListingEncoding.value(marker, encode))
        writer.element("NextMarker", ifPresent: ListingEncoding.optional(nextMarker, encode))
        writer.element("MaxKeys", maxKeys)
        writer.element("Delimiter", ifPresent: ListingEncoding.optional(delimiter, encode))
        if encode { writer.element("EncodingType", "url") }
        writer.element("IsTruncated", isTruncated)
        for object in contents {
            object.write(to: &writer, encodeURL: encode)
        }
        ListingEncoding.writeCommonPrefixes(commonPrefixes, to: &writer, encode: encode)
        writer.close("ListBucketResult")
    }
}
