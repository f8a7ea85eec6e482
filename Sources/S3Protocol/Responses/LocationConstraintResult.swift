/// The `GetBucketLocation` response: `<LocationConstraint>`.
///
/// S3 answers an empty element for `us-east-1`, so a nil or `us-east-1` region renders as
/// `<LocationConstraint xmlns="…"/>`.
public struct LocationConstraintResult: S3XMLEncodable, Hashable {
    /// The bucket's region.
    public var region: String?

    /// Creates the response.
    public init(region: String?) {
        self.region = region
    }

    public func write(to writer: inout XMLWriter) {
        if let region, !region.isEmpty, region != "us-east-1" {
            writer.open("LocationConstraint", namespace: S3XMLNamespace.uri)
            writer.text(region)
            writer.close("LocationConstraint")
        } else {
            writer.emptyElement("LocationConstraint", namespace: S3XMLNamespace.uri)
        }
    }
}
