/// A tag set: the body of `PutObjectTagging`/`PutBucketTagging` and of their `Get` responses.
///
/// ```xml
/// <Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>
/// ```
public struct Tagging: Sendable, Hashable {
    /// One key/value tag.
    public struct Tag: Sendable, Hashable {
        /// The tag key (1...128 characters).
        public var key: String
        /// The tag value (0...256 characters).
        public var value: String

        /// Creates a tag.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The tags, in order.
    public var tags: [Tag]

    /// Creates a tag set.
    public init(_ tags: [Tag] = []) {
        self.tags = tags
    }

    /// Most tags an object may carry.
    public static let maxObjectTags = 10
    /// Most tags a bucket may carry.
    public static let maxBucketTags = 50
    /// Longest tag key, in Unicode characters.
    public static let maxKeyLength = 128
    /// Longest tag value, in Unicode characters.
    public static let maxValueLength = 256
}

extension Tagging: S3XMLEncodable {
    public func write(to writer: inout XMLWriter) {
        writer.open("Tagging", namespace: S3XMLNamespace.uri)
        writer.open("TagSet")
        for tag in tags {
            writer.open("Tag")
            writer.element("Key", tag.key)
            writer.element("Value", tag.value)
            writer.close("Tag")
        }
        writer.close("TagSet")
        writer.close("Tagging")
    }
}

extension Tagging: S3XMLDecodable {
    public static var rootElementName: String { "Tagging" }

    /// Decodes `<Tagging><TagSet><Tag>…`, then applies ``validate(maxTags:)`` with the bucket limit (50).
    /// Use ``decode(_:maxTags:)`` for objects (10). Key and value text is kept verbatim (not trimmed).
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        guard let tagSet = try root.singleChild("TagSet") else { throw S3Error.malformedXML }
        var tags: [Tag] = []
        for element in tagSet.children where element.name == "Tag" {
            guard let key = try element.leafValue("Key") else { throw S3Error.malformedXML }
            let value = try element.leafValue("Value") ?? ""
            tags.append(Tag(key: key, value: value))
        }
        self.init(tags)
        try validate(maxTags: Self.maxBucketTags)
    }

    /// Parses and validates a tagging body with `maxTags` (``maxObjectTags`` for objects).
    public static func decode(_ bytes: [UInt8], maxTags: Int) throws(S3Error) -> Tagging {
        let tagging = try decode(bytes)
        try tagging.validate(maxTags: maxTags)
        return tagging
    }
}
