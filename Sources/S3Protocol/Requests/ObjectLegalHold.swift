/// An object version's legal hold (`PutObjectLegalHold` body, `GetObjectLegalHold` response): `<LegalHold>`.
public struct ObjectLegalHold: Sendable, Hashable {
    /// `<Status>`: `ON` or `OFF`.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The hold is in place.
        case on = "ON"
        /// No hold.
        case off = "OFF"
    }

    /// The hold status.
    public var status: Status

    /// Creates a legal hold.
    public init(status: Status) {
        self.status = status
    }
}

extension ObjectLegalHold: S3XMLEncodable {
    public func write(to writer: inout XMLWriter) {
        writer.open("LegalHold", namespace: S3XMLNamespace.uri)
        writer.element("Status", status.rawValue)
        writer.close("LegalHold")
    }
}

extension ObjectLegalHold: S3XMLDecodable {
    public static var rootElementName: String { "LegalHold" }

    /// Decodes the body; a missing or unknown `Status` is `MalformedXML`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        guard let text = try root.trimmedLeafValue("Status"), let status = Status(rawValue: text) else {
            throw S3Error.malformedXML
        }
        self.init(status: status)
    }
}
