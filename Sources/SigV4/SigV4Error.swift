/// A failure to authenticate a request or decode its body, carrying the S3
/// error code, HTTP status and message the gateway should answer with.
///
/// ``details`` holds the extra elements S3 puts in its XML error body, in
/// order (for `SignatureDoesNotMatch`: the canonical request and string to
/// sign the server computed, as AWS does, so clients can debug their signer).
public struct SigV4Error: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// S3 error codes, one case per code (the raw value is the code S3 sends).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// Missing or unsupported authentication, an expired presigned URL, unsigned `x-amz-*` headers.
        case accessDenied = "AccessDenied"
        /// The access key ID is unknown.
        case invalidAccessKeyId = "InvalidAccessKeyId"
        /// The signature (of the request, a chunk or the trailer) is wrong.
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
        /// The request time is more than the allowed skew away from the server's clock.
        case requestTimeTooSkewed = "RequestTimeTooSkewed"
        /// The `Authorization` header cannot be parsed or names the wrong scope.
        case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        /// Query-string (presigned) authentication parameters are missing or invalid.
        case authorizationQueryParametersError = "AuthorizationQueryParametersError"
        /// The session token has expired.
        case expiredToken = "ExpiredToken"
        /// A required security header is missing.
        case missingSecurityHeader = "MissingSecurityHeader"
        /// The body does not hash to the declared `x-amz-content-sha256`.
        case xAmzContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
        /// A `Content-MD5` value is not a base64 MD5 digest.
        case invalidDigest = "InvalidDigest"
        /// The body does not match the declared `Content-MD5` or `x-amz-checksum-*`.
        case badDigest = "BadDigest"
        /// The body ended early, or its length differs from the declared one.
        case incompleteBody = "IncompleteBody"
        /// The request (or its aws-chunked framing) is malformed.
        case invalidRequest = "InvalidRequest"
        /// A header has a value S3 does not accept (e.g. `x-amz-content-sha256`).
        case invalidArgument = "InvalidArgument"
        /// A non-final aws-chunked chunk is smaller than the minimum chunk size.
        case invalidChunkSizeError = "InvalidChunkSizeError"
        /// The aws-chunked trailer section is malformed or lacks a declared trailer.
        case malformedTrailerError = "MalformedTrailerError"

        /// The HTTP status S3 answers this code with.
        public var httpStatus: Int {
            switch self {
            case .accessDenied, .invalidAccessKeyId, .signatureDoesNotMatch, .requestTimeTooSkewed:
                return 403
            default:
                return 400
            }
        }
    }

    /// An extra element of the S3 error body, such as `StringToSign`.
    public struct Detail: Sendable, Hashable {
        /// The XML element name.
        public var name: String
        /// The element's text.
        public var value: String

        /// Creates a detail.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The S3 error code.
    public var code: Code
    /// The human-readable message S3 would send.
    public var message: String
    /// Extra elements for the error body, in order.
    public var details: [Detail]

    /// Creates an error.
    public init(_ code: Code, _ message: String, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// The HTTP status to answer with.
    public var httpStatus: Int { code.httpStatus }

    /// The value of the detail named `name`, if any.
    public func detail(_ name: String) -> String? {
        details.first { $0.name == name }?.value
    }

    /// `Code: message`.
    public var description: String { "\(code.rawValue): \(message)" }

    /// The code, message and every detail (canonical request, string to sign, ...).
    public var debugDescription: String {
        var text = description
        for detail in details {
            text += "\n\(detail.name): \(detail.value)"
        }
        return text
    }
}
