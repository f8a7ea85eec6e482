/// A bucket's versioning state: the body of `PutBucketVersioning` and the `GetBucketVersioning` response.
///
/// A bucket that never had versioning enabled renders as an empty `<VersioningConfiguration xmlns="…"/>`.
public struct VersioningConfiguration: Sendable, Hashable {
    /// `<Status>`.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Versioning is on.
        case enabled = "Enabled"
        /// Versioning was on and is now suspended.
        case suspended = "Suspended"
    }

    /// `<MfaDelete>`.
    public enum MFADelete: String, Sendable, Hashable, CaseIterable {
        /// MFA delete is on.
        case enabled = "Enabled"
        /// MFA delete is off.
        case disabled = "Disabled"
    }

    /// The versioning status; nil when never set.
    public var status: Status?
    /// The MFA-delete setting, when set.
    public var mfaDelete: MFADelete?

    /// Creates a configuration.
    public init(status: Status? = nil, mfaDelete: MFADelete? = nil) {
        self.status = status
        self.mfaDelete = mfaDelete
    }
}

extension VersioningConfiguration: S3XMLEncodable {
    public func write(to writer: inout XMLWriter) {
        guard status != nil || mfaDelete != nil else {
            writer.emptyElement("VersioningConfiguration", namespace: S3XMLNamespace.uri)
            return
        }
        writer.open("VersioningConfiguration", namespace: S3XMLNamespace.uri)
        writer.element("Status", ifPresent: status?.rawValue)
        writer.element("MfaDelete", ifPresent: mfaDelete?.rawValue)
        writer.close("VersioningConfiguration")
    }
}

extension VersioningConfiguration: S3XMLDecodable {
    public static var rootElementName: String { "VersioningConfiguration" }

    /// Decodes the body; a `Status` or `MfaDelete` other than the documented values is `MalformedXML`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        var status: Status?
        if let text = try root.trimmedLeafValue("Status") {
            guard let value = Status(rawValue: text) else { throw S3Error.malformedXML }
            status = value
        }
        var mfaDelete: MFADelete?
        if let text = try root.trimmedLeafValue("MfaDelete") {
            guard let value = MFADelete(rawValue: text) else { throw S3Error.malformedXML }
            mfaDelete = value
        }
        self.init(status: status, mfaDelete: mfaDelete)
    }
}
