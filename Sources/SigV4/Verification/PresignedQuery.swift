import Foundation

/// The `X-Amz-*` authentication parameters of a presigned URL, parsed and checked
/// (everything but expiry, which depends on the clock).
package struct PresignedQuery: Sendable {
    /// Parameters whose presence makes a request a presigned one.
    package static let markers: Set<String> = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]

    /// The largest `X-Amz-Expires` S3 accepts: one week.
    package static let maxExpires = 604_800

    package var credential: CredentialField
    package var amzDate: String
    package var date: Date
    package var expires: Int
    package var signedHeaders: [String]
    package var signature: String
    package var securityToken: String?
    package var contentSHA256: String?

    package init(parameters: [CanonicalQuery.Parameter], service: String) throws(SigV4Error) {
        var values: [String: String] = [:]
        for parameter in parameters where parameter.name.hasPrefix("X-Amz-") {
            guard values.updateValue(parameter.value, forKey: parameter.name) == nil else {
                throw Self.error("Query-string authentication parameter \(parameter.name) was given more than once.")
            }
        }
        guard let algorithm = values["X-Amz-Algorithm"], let credential = values["X-Amz-Credential"],
            let signature = values["X-Amz-Signature"], let amzDate = values["X-Amz-Date"],
            let signedHeaders = values["X-Amz-SignedHeaders"], let expires = values["X-Amz-Expires"]
        else {
            throw Self.error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                    + "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        }
        guard algorithm == CanonicalRequest.algorithm else {
            throw Self.error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        switch CredentialField.parse(credential[...]) {
        case .success(let field): self.credential = field
        case .failure(let problem): throw Self.error("Error parsing the X-Amz-Credential parameter; \(problem.message)")
        }
        guard self.credential.scope.service == service else {
            throw Self.error(
                "Error parsing the X-Amz-Credential parameter; incorrect service \"\(self.credential.scope.service)\". "
                    + "This endpoint belongs to \"\(service)\".")
        }
        guard let date = AmzDate.parse(amzDate) else {
            throw Self.error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        self.date = date
        self.amzDate = amzDate
        guard !expires.isEmpty, expires.utf8.count <= 9,
            expires.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let seconds = Int(expires)
        else {
            throw Self.error("X-Amz-Expires should be a number")
        }
        guard seconds >= 1 else { throw Self.error("X-Amz-Expires must be at least 1 second") }
        guard seconds <= Self.maxExpires else {
            throw Self.error("X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds")
        }
        self.expires = seconds
        guard self.credential.scope.date == amzDate.prefix(8) else {
            throw Self.error(
                "Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date."
            )
        }
        guard let names = CredentialField.signedHeaderNames(signedHeaders[...]) else {
            throw Self.error("X-Amz-SignedHeaders must be a semicolon-separated list of header names.")
        }
        self.signedHeaders = names
        guard !signature.isEmpty else { throw Self.error("X-Amz-Signature must not be empty.") }
        self.signature = signature
        self.securityToken = values["X-Amz-Security-Token"]
        self.contentSHA256 = values["X-Amz-Content-Sha256"]
    }

    private static func error(_ message: String) -> SigV4Error {
        SigV4Error(.authorizationQueryParametersError, message)
    }
}
