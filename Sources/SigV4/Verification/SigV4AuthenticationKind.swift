/// How a request claims to be authenticated, so the gateway can route
/// anonymous requests before calling ``SigV4Verifier``.
public enum SigV4AuthenticationKind: Sendable, Hashable {
    /// No `Authorization` header and no authentication query parameters: anonymous.
    case anonymous
    /// `Authorization: AWS4-HMAC-SHA256 ...`.
    case authorizationHeader
    /// A presigned URL (`X-Amz-Algorithm`, `X-Amz-Credential`, ... in the query).
    case presignedURL
    /// Another scheme (Signature Version 2, SigV4a, POST policy, ...), which the verifier refuses.
    case unsupported

    /// Classifies `request` by looking at its `Authorization` header and query parameter names only.
    public init(of request: SigV4IncomingRequest) {
        if let authorization = HeaderList.first("authorization", in: request.headers) {
            let trimmed = authorization.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix(CanonicalRequest.algorithm + " ")
                || trimmed.hasPrefix(CanonicalRequest.algorithm + "\t")
            {
                self = .authorizationHeader
            } else {
                self = .unsupported
            }
            return
        }
        let names = Set(CanonicalQuery.parameters(of: request.rawQuery).map(\.name))
        if names.contains("X-Amz-Algorithm") || names.contains("X-Amz-Credential") || names.contains("X-Amz-Signature")
        {
            self = .presignedURL
        } else if names.contains("AWSAccessKeyId") && names.contains("Signature") {
            self = .unsupported
        } else {
            self = .anonymous
        }
    }
}
