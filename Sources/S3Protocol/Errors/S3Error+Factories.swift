extension S3Error {
    /// `MalformedXML` with the default message.
    public static var malformedXML: S3Error { S3Error(.malformedXML) }

    /// `InvalidArgument` naming the offending argument, as S3 does.
    public static func invalidArgument(_ message: String, name: String, value: String? = nil) -> S3Error {
        var error = S3Error(.invalidArgument, message: message).adding("ArgumentName", name)
        if let value { error = error.adding("ArgumentValue", value) }
        return error
    }

    /// `InvalidRange` with the `RangeRequested` and `ActualObjectSize` elements S3 includes.
    public static func invalidRange(rangeRequested: String, actualObjectSize: Int64) -> S3Error {
        S3Error(.invalidRange)
            .adding("RangeRequested", rangeRequested)
            .adding("ActualObjectSize", String(actualObjectSize))
    }

    /// `PreconditionFailed` naming the failed header in `<Condition>`.
    public static func preconditionFailed(condition: String) -> S3Error {
        S3Error(.preconditionFailed).adding("Condition", condition)
    }

    /// `NoSuchBucket` for `bucket`.
    public static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error(.noSuchBucket).adding("BucketName", bucket)
    }

    /// `NoSuchKey` for `key`.
    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error(.noSuchKey).adding("Key", key)
    }

    /// `NoSuchVersion` for `key` and `versionId`.
    public static func noSuchVersion(key: String, versionId: String) -> S3Error {
        S3Error(.noSuchVersion).adding("Key", key).adding("VersionId", versionId)
    }

    /// `NoSuchUpload` for `uploadId`.
    public static func noSuchUpload(_ uploadId: String) -> S3Error {
        S3Error(.noSuchUpload).adding("UploadId", uploadId)
    }

    /// `InvalidBucketName` for `bucket`.
    public static func invalidBucketName(_ bucket: String) -> S3Error {
        S3Error(.invalidBucketName).adding("BucketName", bucket)
    }

    /// `KeyTooLongError` with the key's size and the limit.
    public static func keyTooLong(size: Int, maxSizeAllowed: Int) -> S3Error {
        S3Error(.keyTooLongError).adding("Size", String(size)).adding("MaxSizeAllowed", String(maxSizeAllowed))
    }

    /// `MetadataTooLarge` with the metadata size and the limit.
    public static func metadataTooLarge(size: Int, maxSizeAllowed: Int) -> S3Error {
        S3Error(.metadataTooLarge).adding("Size", String(size)).adding("MaxSizeAllowed", String(maxSizeAllowed))
    }

    /// `EntityTooSmall` for a multipart part below the minimum size.
    public static func entityTooSmall(proposedSize: Int64, minSizeAllowed: Int64) -> S3Error {
        S3Error(.entityTooSmall)
            .adding("ProposedSize", String(proposedSize))
            .adding("MinSizeAllowed", String(minSizeAllowed))
    }

    /// `EntityTooLarge` for an upload above the maximum size.
    public static func entityTooLarge(proposedSize: Int64, maxSizeAllowed: Int64) -> S3Error {
        S3Error(.entityTooLarge)
            .adding("ProposedSize", String(proposedSize))
            .adding("MaxSizeAllowed", String(maxSizeAllowed))
    }

    /// `InvalidPart` naming the part that could not be matched.
    public static func invalidPart(partNumber: Int, eTag: String) -> S3Error {
        S3Error(.invalidPart).adding("PartNumber", String(partNumber)).adding("ETag", eTag)
    }

    /// `BadDigest` with the expected and calculated digests.
    public static func badDigest(expected: String, calculated: String) -> S3Error {
        S3Error(.badDigest).adding("ExpectedDigest", expected).adding("CalculatedDigest", calculated)
    }

    /// `InvalidStorageClass` naming the requested class.
    public static func invalidStorageClass(_ requested: String) -> S3Error {
        S3Error(.invalidStorageClass).adding("StorageClassRequested", requested)
    }

    /// `InvalidTag` with a specific message.
    public static func invalidTag(_ message: String) -> S3Error {
        S3Error(.invalidTag, message: message)
    }
}
