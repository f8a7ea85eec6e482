#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `UploadPartCopy` response: `<CopyPartResult>`.
public struct CopyPartResult: S3XMLEncodable, Hashable {
    /// The part's modification time.
    public var lastModified: Date
    /// The part's entity tag including quotes.
    public var eTag: String
    /// The part's checksums, when computed.
    public var checksums: S3Checksums

    /// Creates the response.
    public init(lastModified: Date, eTag: String, checksums: S3Checksums = S3Checksums()) {
        self.lastModified = lastModified
        self.eTag = eTag
        self.checksums = checksums
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("CopyPartResult", namespace: S3XMLNamespace.uri)
        writer.element("LastModified", lastModified)
        writer.element("ETag", eTag)
        checksums.writeValues(to: &writer)
        writer.close("CopyPartResult")
    }
}
