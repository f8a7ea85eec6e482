#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `CopyObject` response: `<CopyObjectResult>`.
public struct CopyObjectResult: S3XMLEncodable, Hashable {
    /// The new object's modification time.
    public var lastModified: Date
    /// The new object's entity tag including quotes.
    public var eTag: String
    /// The new object's checksums, when computed.
    public var checksums: S3Checksums

    /// Creates the response.
    public init(lastModified: Date, eTag: String, checksums: S3Checksums = S3Checksums()) {
        self.lastModified = lastModified
        self.eTag = eTag
        self.checksums = checksums
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("CopyObjectResult", namespace: S3XMLNamespace.uri)
        writer.element("LastModified", lastModified)
        writer.element("ETag", eTag)
        checksums.write(to: &writer)
        writer.close("CopyObjectResult")
    }
}
