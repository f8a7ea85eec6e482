/// The S3 storage classes (`x-amz-storage-class`).
public enum StorageClass: String, Sendable, Hashable, CaseIterable {
    /// Standard (the default).
    case standard = "STANDARD"
    /// Reduced redundancy (deprecated by AWS).
    case reducedRedundancy = "REDUCED_REDUNDANCY"
    /// Standard-Infrequent Access.
    case standardIA = "STANDARD_IA"
    /// One Zone-Infrequent Access.
    case onezoneIA = "ONEZONE_IA"
    /// Intelligent-Tiering.
    case intelligentTiering = "INTELLIGENT_TIERING"
    /// Glacier Flexible Retrieval.
    case glacier = "GLACIER"
    /// Glacier Deep Archive.
    case deepArchive = "DEEP_ARCHIVE"
    /// S3 on Outposts.
    case outposts = "OUTPOSTS"
    /// Glacier Instant Retrieval.
    case glacierIR = "GLACIER_IR"
    /// Snow Family devices.
    case snow = "SNOW"
    /// Express One Zone.
    case expressOnezone = "EXPRESS_ONEZONE"
    /// FSx for OpenZFS.
    case fsxOpenZFS = "FSX_OPENZFS"

    /// Parses `x-amz-storage-class`; nil (header absent) means ``standard``.
    /// - Throws: `InvalidStorageClass` (with `StorageClassRequested`) for unknown values; names are case-sensitive.
    public static func parse(headerValue: String?) throws(S3Error) -> StorageClass {
        guard let headerValue else { return .standard }
        guard let storageClass = StorageClass(rawValue: String(headerValue.trimmingXMLWhitespace())) else {
            throw S3Error.invalidStorageClass(headerValue)
        }
        return storageClass
    }
}
