extension ConditionalHeaders {
    /// Reads `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since` through `header`,
    /// a case-insensitive lookup into the request's headers.
    public init(requestHeader header: (String) -> String?) {
        self.init(
            ifMatch: header("If-Match"),
            ifNoneMatch: header("If-None-Match"),
            ifModifiedSince: header("If-Modified-Since"),
            ifUnmodifiedSince: header("If-Unmodified-Since")
        )
    }

    /// Reads the `x-amz-copy-source-if-*` headers of `CopyObject`/`UploadPartCopy` through `header`.
    /// Evaluate them with ``evaluateCopySource(eTag:lastModified:)``.
    public init(copySourceHeader header: (String) -> String?) {
        self.init(
            ifMatch: header("x-amz-copy-source-if-match"),
            ifNoneMatch: header("x-amz-copy-source-if-none-match"),
            ifModifiedSince: header("x-amz-copy-source-if-modified-since"),
            ifUnmodifiedSince: header("x-amz-copy-source-if-unmodified-since")
        )
    }

    /// Evaluates a conditional write (`PutObject`/`CompleteMultipartUpload` with `If-Match` or `If-None-Match`).
    ///
    /// - `If-None-Match` must be `*`, else `NotImplemented`; an existing object fails with 412.
    /// - `If-Match` against a missing object is `NoSuchKey` (404), as S3 answers; a different ETag is 412.
    /// - Date conditions do not apply to writes and are ignored.
    ///
    /// - Parameter currentETag: the ETag of the object now stored under the key, or nil when there is none.
    /// - Returns: the error to answer with, or nil to go ahead.
    public func evaluateWrite(currentETag: String?, key: String) -> S3Error? {
        if let ifNoneMatch {
            guard ifNoneMatch.trimmingXMLWhitespace() == "*" else {
                return S3Error(.notImplemented).adding("Header", "If-None-Match")
            }
            if currentETag != nil { return S3Error.preconditionFailed(condition: "If-None-Match") }
        }
        if let ifMatch {
            guard let currentETag else { return S3Error.noSuchKey(key) }
            if !Self.matches(ifMatch, eTag: currentETag) { return S3Error.preconditionFailed(condition: "If-Match") }
        }
        return nil
    }
}
