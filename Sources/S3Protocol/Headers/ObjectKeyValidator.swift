/// Why an object key was refused.
public enum ObjectKeyViolation: Error, Sendable, Hashable {
    /// The key is empty.
    case empty
    /// The key's UTF-8 encoding is longer than 1024 bytes.
    case tooLong(byteCount: Int)
    /// The key is not valid UTF-8 (this gateway's rule; S3 itself is laxer).
    case invalidUTF8
    /// The key contains U+0000 (this gateway's rule).
    case containsNUL

    /// The S3 error to answer with: `KeyTooLongError` for ``tooLong(byteCount:)``, `InvalidURI`
    /// ("Couldn't parse the specified URI.", as S3 answers a key that is not UTF-8) for
    /// ``invalidUTF8``, `InvalidArgument` otherwise.
    public var s3Error: S3Error {
        switch self {
        case .empty:
            S3Error.invalidArgument("Object key must not be empty", name: "key")
        case .tooLong(let byteCount):
            S3Error.keyTooLong(size: byteCount, maxSizeAllowed: ObjectKeyValidator.maxKeyLength)
        case .invalidUTF8:
            S3Error(.invalidURI, message: "Couldn't parse the specified URI.")
        case .containsNUL:
            S3Error.invalidArgument("Object key must not contain NUL characters", name: "key")
        }
    }
}

/// Object key rules: 1...1024 bytes of UTF-8; this gateway also refuses NUL and invalid UTF-8.
public enum ObjectKeyValidator {
    /// Longest key, in UTF-8 bytes.
    public static let maxKeyLength = 1024

    /// Checks a decoded key; nil when valid.
    public static func violation(in key: String) -> ObjectKeyViolation? {
        let utf8 = key.utf8
        if utf8.isEmpty { return .empty }
        if utf8.count > maxKeyLength { return .tooLong(byteCount: utf8.count) }
        if utf8.contains(0) { return .containsNUL }
        return nil
    }

    /// Checks raw key bytes (e.g. a percent-decoded path) and returns the key as a string.
    public static func validate(bytes: [UInt8]) -> Result<String, ObjectKeyViolation> {
        if bytes.isEmpty { return .failure(.empty) }
        if bytes.count > maxKeyLength { return .failure(.tooLong(byteCount: bytes.count)) }
        if bytes.contains(0) { return .failure(.containsNUL) }
        guard let key = String(validating: bytes, as: UTF8.self) else { return .failure(.invalidUTF8) }
        return .success(key)
    }

    /// Percent-decodes a raw path component and validates it as a key.
    ///
    /// Malformed escapes are reported as ``ObjectKeyViolation/invalidUTF8``; `+` is kept literally.
    public static func decodeAndValidate(
        percentEncoded raw: some StringProtocol
    ) -> Result<String, ObjectKeyViolation> {
        guard let bytes = S3URLEncoding.decodeBytes(raw) else { return .failure(.invalidUTF8) }
        return validate(bytes: bytes)
    }
}
