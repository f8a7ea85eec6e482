import HTTPTypes

/// Response header names the handlers set, made once: `HTTPField.Name(_:)` checks the name's
/// characters every time it is called.
extension HTTPField.Name {
    static let amzRequestID = HTTPField.Name("x-amz-request-id")!
    static let amzID2 = HTTPField.Name("x-amz-id-2")!
    static let amzVersionID = HTTPField.Name("x-amz-version-id")!
    static let amzDeleteMarker = HTTPField.Name("x-amz-delete-marker")!
    static let amzCopySourceVersionID = HTTPField.Name("x-amz-copy-source-version-id")!
}
