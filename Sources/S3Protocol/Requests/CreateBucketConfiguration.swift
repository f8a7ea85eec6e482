/// The optional body of `CreateBucket`: `<CreateBucketConfiguration><LocationConstraint>…`.
public struct CreateBucketConfiguration: Sendable, Hashable {
    /// The requested region; nil or empty means the default region (`us-east-1` in AWS).
    public var locationConstraint: String?

    /// Creates a configuration.
    public init(locationConstraint: String? = nil) {
        self.locationConstraint = locationConstraint
    }

    /// Decodes a `CreateBucket` body that may be absent: an empty or whitespace-only body yields nil.
    public static func decodeOptional(_ bytes: [UInt8]) throws(S3Error) -> CreateBucketConfiguration? {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        return try decode(bytes)
    }
}

extension CreateBucketConfiguration: S3XMLDecodable {
    public static var rootElementName: String { "CreateBucketConfiguration" }

    /// Decodes the body; other children (`Location`, `Bucket`, …) are ignored.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        let constraint = try root.trimmedLeafValue("LocationConstraint")
        self.init(locationConstraint: constraint?.isEmpty == true ? nil : constraint)
    }
}
