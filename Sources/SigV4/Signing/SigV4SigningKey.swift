/// A derived SigV4 signing key:
/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
///
/// The key is valid for one scope (day, region, service). Deriving it costs four
/// HMACs, so servers should obtain keys through a ``SigV4SigningKeyCache``.
public struct SigV4SigningKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 key bytes.
    package let bytes: [UInt8]

    /// Derives the signing key for `secretAccessKey` in the scope `date`/`region`/`service`.
    public init(secretAccessKey: String, date: String, region: String, service: String) {
        let dateKey = Digests.hmac(key: Array(("AWS4" + secretAccessKey).utf8), date)
        let regionKey = Digests.hmac(key: dateKey, region)
        let serviceKey = Digests.hmac(key: regionKey, service)
        self.bytes = Digests.hmac(key: serviceKey, SigV4Scope.terminator)
    }

    /// Derives the signing key for `secretAccessKey` in `scope`.
    public init(secretAccessKey: String, scope: SigV4Scope) {
        self.init(secretAccessKey: secretAccessKey, date: scope.date, region: scope.region, service: scope.service)
    }

    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The lowercase hex HMAC-SHA256 of `stringToSign`: a SigV4 signature.
    public func signature(for stringToSign: String) -> String {
        Hex.encode(Digests.hmac(key: bytes, stringToSign))
    }

    /// Never shows the key.
    public var description: String { "SigV4SigningKey(<redacted>)" }
}
