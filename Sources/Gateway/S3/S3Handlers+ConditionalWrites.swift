import Metadata
import S3Protocol
import SigV4

/// Conditional writes (PutObject, CopyObject, CompleteMultipartUpload): `If-None-Match: *`
/// writes only where the key has no current object, `If-Match: ETAG` only over the current
/// object with that ETag, as S3 does. The condition is checked before anything is stored, so a
/// refused write costs no upload, and again inside the commit, under the key's lock, which
/// decides between writers that raced.
extension S3Handlers {
    /// The write precondition the request's headers ask for.
    func writePrecondition() throws -> WritePrecondition {
        switch (header("if-match")?.trimmingOWS(), header("if-none-match")?.trimmingOWS()) {
        case (nil, nil):
            return .none
        case (nil, let value?):
            guard value == "*" else {
                throw S3Error(.notImplemented,
                              message: "A header you provided implies functionality that is not implemented: If-None-Match on a write takes only *.")
            }
            return .keyAbsent
        case (let etag?, nil):
            return .latestETag(etag)
        case (_?, _?):
            throw S3Error(.invalidRequest, message: "A write takes If-Match or If-None-Match, not both.")
        }
    }

    /// Refuses the write now when its condition does not hold for the key's current object:
    /// 412 PreconditionFailed, or 404 NoSuchKey for `If-Match` on a key with no current object.
    func checkWritePrecondition(_ precondition: WritePrecondition, bucket: String, key: String) async throws {
        if precondition == .none { return }
        let latest = try await store.latestVersion(bucket: bucket, key: key)
        let current = latest?.isDeleteMarker == true ? nil : latest
        switch precondition {
        case .none:
            return
        case .keyAbsent:
            if current != nil { throw S3Error.preconditionFailed(condition: "If-None-Match") }
        case .latestETag(let etag):
            guard let current else { throw S3Error.noSuchKey(key) }
            if current.etag != etag.trimmingQuotes() { throw S3Error.preconditionFailed(condition: "If-Match") }
        }
    }
}

extension WritePrecondition {
    /// The request header that carried the condition.
    var headerName: String {
        switch self {
        case .none: ""
        case .keyAbsent: "If-None-Match"
        case .latestETag: "If-Match"
        }
    }
}
