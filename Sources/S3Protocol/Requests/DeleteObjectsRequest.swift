#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of `DeleteObjects`: `<Delete><Quiet>…</Quiet><Object><Key>…</Key><VersionId>…</VersionId></Object>…`.
public struct DeleteObjectsRequest: Sendable, Hashable {
    /// One object to delete.
    public struct Entry: Sendable, Hashable {
        /// The key, verbatim (not trimmed; keys may contain whitespace).
        public var key: String
        /// The version to delete, when given.
        public var versionId: String?
        /// Conditional delete: the `ETag` the object must have, when given.
        public var eTag: String?
        /// Conditional delete: the `LastModifiedTime` the object must have, when given.
        public var lastModifiedTime: Date?
        /// Conditional delete: the `Size` the object must have, when given.
        public var size: Int64?

        /// Creates an entry.
        public init(
            key: String,
            versionId: String? = nil,
            eTag: String? = nil,
            lastModifiedTime: Date? = nil,
            size: Int64? = nil
        ) {
            self.key = key
            self.versionId = versionId
            self.eTag = eTag
            self.lastModifiedTime = lastModifiedTime
            self.size = size
        }
    }

    /// Quiet mode: report only failures.
    public var quiet: Bool
    /// The objects, in request order.
    public var objects: [Entry]

    /// Creates a request.
    public init(quiet: Bool = false, objects: [Entry]) {
        self.quiet = quiet
        self.objects = objects
    }

    /// Most objects one request may name.
    public static let maxObjects = 1000
}

extension DeleteObjectsRequest: S3XMLDecodable {
    public static var rootElementName: String { "Delete" }

    /// Decodes the body.
    ///
    /// No objects, more than 1000, an object without `Key`, a `Quiet` other than `true`/`false`
    /// (any case), or a malformed conditional field: `MalformedXML`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        var quiet = false
        if let text = try root.trimmedLeafValue("Quiet") {
            switch text.lowercased() {
            case "true": quiet = true
            case "false": quiet = false
            default: throw S3Error.malformedXML
            }
        }
        var objects: [Entry] = []
        for element in root.children where element.name == "Object" {
            guard objects.count < Self.maxObjects else { throw S3Error.malformedXML }
            guard let key = try element.leafValue("Key") else { throw S3Error.malformedXML }
            var entry = Entry(key: key)
            entry.versionId = try element.trimmedLeafValue("VersionId")
            entry.eTag = try element.trimmedLeafValue("ETag")
            if let text = try element.trimmedLeafValue("LastModifiedTime") {
                guard let date = ISO8601Timestamp.parse(text) else { throw S3Error.malformedXML }
                entry.lastModifiedTime = date
            }
            if let text = try element.trimmedLeafValue("Size") {
                guard let size = Int64(text), size >= 0 else { throw S3Error.malformedXML }
                entry.size = size
            }
            objects.append(entry)
        }
        guard !objects.isEmpty else { throw S3Error.malformedXML }
        self.init(quiet: quiet, objects: objects)
    }
}
