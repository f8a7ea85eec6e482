/// The credential scope of a signature: `<date>/<region>/<service>/aws4_request`.
public struct SigV4Scope: Sendable, Hashable, CustomStringConvertible {
    /// The terminal element of every SigV4 scope.
    public static let terminator = "aws4_request"

    /// The signing date, `yyyyMMdd`.
    public let date: String
    /// The region the client signed for (the gateway accepts any).
    public let region: String
    /// The service the client signed for, `s3` for S3.
    public let service: String
    /// `<date>/<region>/<service>/aws4_request`.
    public let stringValue: String

    /// Creates a scope from its parts.
    public init(date: String, region: String, service: String) {
        self.date = date
        self.region = region
        self.service = service
        self.stringValue = "\(date)/\(region)/\(service)/\(Self.terminator)"
    }

    /// `<date>/<region>/<service>/aws4_request`.
    public var description: String { stringValue }
}
