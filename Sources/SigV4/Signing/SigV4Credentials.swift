/// An access key pair, optionally with a session token, used to sign outgoing requests.
public struct SigV4Credentials: Sendable, Hashable, CustomStringConvertible {
    /// The access key ID, sent in the clear in the credential scope.
    public var accessKeyID: String
    /// The secret access key; never sent.
    public var secretAccessKey: String
    /// A session token for temporary credentials, sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Shows the access key ID only, so credentials can be logged safely.
    public var description: String {
        "SigV4Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }
}
