#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `ListBuckets` response: `<ListAllMyBucketsResult>`.
public struct ListAllMyBucketsResult: S3XMLEncodable, Hashable {
    /// One `<Bucket>` entry.
    public struct Bucket: Sendable, Hashable {
        /// The bucket name.
        public var name: String
        /// When the bucket was created.
        public var creationDate: Date
        /// The bucket's region (`BucketRegion`), omitted when nil.
        public var region: String?

        /// Creates a bucket entry.
        public init(name: String, creationDate: Date, region: String? = nil) {
            self.name = name
            self.creationDate = creationDate
            self.region = region
        }
    }

    /// The account owning the buckets.
    public var owner: S3Owner
    /// The buckets, in the order to list them (S3 sorts by name).
    public var buckets: [Bucket]
    /// Token for the next page, when paginating.
    public var continuationToken: String?
    /// The prefix filter echoed back, when one was given.
    public var prefix: String?

    /// Creates a listing.
    public init(owner: S3Owner, buckets: [Bucket], continuationToken: String? = nil, prefix: String? = nil) {
        self.owner = owner
        self.buckets = buckets
        self.continuationToken = continuationToken
        self.prefix = prefix
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("ListAllMyBucketsResult", namespace: S3XMLNamespace.uri)
        owner.write(to: &writer)
        writer.open("Buckets")
        for bucket in buckets {
            writer.open("Bucket")
            writer.element("Name", bucket.name)
            writer.element("CreationDate", bucket.creationDate)
            writer.element("BucketRegion", ifPresent: bucket.region)
            writer.close("Bucket")
        }
        writer.close("Buckets")
        writer.element("ContinuationToken", ifPresent: continuationToken)
        writer.element("Prefix", ifPresent: prefix)
        writer.close("ListAllMyBucketsResult")
    }
}
