#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An object version's retention (`PutObjectRetention` body, `GetObjectRetention` response): `<Retention>`.
public struct ObjectRetention: Sendable, Hashable {
    /// The retention mode; nil together with ``retainUntilDate`` removes a governance retention.
    public var mode: ObjectLockRetentionMode?
    /// When the retention expires.
    public var retainUntilDate: Date?

    /// Creates a retention.
    public init(mode: ObjectLockRetentionMode?, retainUntilDate: Date?) {
        self.mode = mode
        self.retainUntilDate = retainUntilDate
    }
}

extension ObjectRetention: S3XMLEncodable {
    public func write(to writer: inout XMLWriter) {
        writer.open("Retention", namespace: S3XMLNamespace.uri)
        writer.element("Mode", ifPresent: mode?.rawValue)
        writer.element("RetainUntilDate", ifPresent: retainUntilDate)
        writer.close("Retention")
    }
}

extension ObjectRetention: S3XMLDecodable {
    public static var rootElementName: String { "Retention" }

    /// Decodes the body. `RetainUntilDate` is ISO 8601 with or without fractional seconds.
    /// An unknown mode, an unparsable date, or only one of the two elements is `MalformedXML`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        var mode: ObjectLockRetentionMode?
        if let text = try root.trimmedLeafValue("Mode") {
            guard let value = ObjectLockRetentionMode(rawValue: text) else { throw S3Error.malformedXML }
            mode = value
        }
        var date: Date?
        if let text = try root.trimmedLeafValue("RetainUntilDate") {
            guard let value = ISO8601Timestamp.parse(text) else { throw S3Error.malformedXML }
            date = value
        }
        guard (mode == nil) == (date == nil) else { throw S3Error.malformedXML }
        self.init(mode: mode, retainUntilDate: date)
    }
}
