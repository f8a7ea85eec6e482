/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` value.
///
/// Components may be separated by commas, spaces or both and may come in any
/// order, as various clients send them.
public struct SigV4AuthorizationHeader: Sendable, Hashable {
    /// The access key ID from `Credential`.
    public let accessKeyID: String
    /// The credential scope from `Credential`.
    public let scope: SigV4Scope
    /// The lowercase names from `SignedHeaders`, in the order given.
    public let signedHeaders: [String]
    /// The `Signature` value.
    public let signature: String

    /// Parses an `Authorization` header value.
    ///
    /// - Throws: `AccessDenied` for other schemes (Signature Version 2, SigV4a),
    ///   `AuthorizationHeaderMalformed` for a malformed value.
    public init(parsing value: String) throws(SigV4Error) {
        let trimmed = value.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix(CanonicalRequest.algorithm),
            let separator = trimmed.dropFirst(CanonicalRequest.algorithm.count).first,
            separator == " " || separator == "\t"
        else {
            let scheme = trimmed.prefix { $0 != " " }
            throw SigV4Error(
                .accessDenied,
                "Unsupported authorization type \"\(scheme)\"; only AWS4-HMAC-SHA256 (Signature Version 4) is supported."
            )
        }
        var credential: Substring?
        var signedHeaders: Substring?
        var signature: Substring?
        let components = trimmed.dropFirst(CanonicalRequest.algorithm.count).split {
            $0 == "," || $0 == " " || $0 == "\t"
        }
        for component in components {
            guard let equals = component.firstIndex(of: "=") else { throw Self.malformed() }
            let name = component[..<equals]
            let value = component[component.index(after: equals)...]
            switch name {
            case "Credential":
                guard credential == nil else { throw Self.malformed() }
                credential = value
            case "SignedHeaders":
                guard signedHeaders == nil else { throw Self.malformed() }
                signedHeaders = value
            case "Signature":
                guard signature == nil else { throw Self.malformed() }
                signature = value
            default:
                throw Self.malformed()
            }
        }
        guard let credential, let signedHeaders, let signature, !signature.isEmpty else { throw Self.malformed() }

        let parsed: CredentialField
        switch CredentialField.parse(credential) {
        case .success(let field): parsed = field
        case .failure(let problem):
            throw SigV4Error(.authorizationHeaderMalformed, "The authorization header is malformed; \(problem.message)")
        }
        guard let names = CredentialField.signedHeaderNames(signedHeaders) else {
            throw SigV4Error(
                .authorizationHeaderMalformed,
                "The authorization header is malformed; SignedHeaders must be a semicolon-separated list of header names."
            )
        }
        self.accessKeyID = parsed.accessKeyID
        self.scope = parsed.scope
        self.signedHeaders = names
        self.signature = String(signature)
    }

    private static func malformed() -> SigV4Error {
        SigV4Error(
            .authorizationHeaderMalformed,
            "The authorization header is malformed; the authorization header requires three components: "
                + "Credential, SignedHeaders, and Signature.")
    }
}

/// The `Credential` value `AKID/yyyyMMdd/region/service/aws4_request`, shared by
/// header and query-string authentication.
package struct CredentialField: Sendable {
    package var accessKeyID: String
    package var scope: SigV4Scope

    package enum Problem: Error {
        case malformed
        case invalidDate(String)
        case invalidTerminal(String)
        case emptyRegion

        package var message: String {
            switch self {
            case .malformed:
                return "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
            case .invalidDate(let date):
                return
                    "incorrect date format \"\(date)\". This date in the credential must be in the format \"yyyyMMdd\"."
            case .invalidTerminal(let terminal):
                return "incorrect terminal \"\(terminal)\". This endpoint uses \"aws4_request\"."
            case .emptyRegion:
                return "the region in the Credential must not be empty."
            }
        }
    }

    package static func parse(_ text: Substring) -> Result<CredentialField, Problem> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, !parts[0].isEmpty, !parts[3].isEmpty else { return .failure(.malformed) }
        let date = parts[1]
        guard date.utf8.count == 8, date.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(.invalidDate(String(date)))
        }
        guard !parts[2].isEmpty else { return .failure(.emptyRegion) }
        guard parts[4] == SigV4Scope.terminator[...] else { return .failure(.invalidTerminal(String(parts[4]))) }
        return .success(
            CredentialField(
                accessKeyID: String(parts[0]),
                scope: SigV4Scope(date: String(date), region: String(parts[2]), service: String(parts[3]))))
    }

    /// Lowercased names from a `SignedHeaders` value; `nil` if empty or with empty or repeated names.
    package static func signedHeaderNames(_ text: Substring) -> [String]? {
        let names = text.split(separator: ";", omittingEmptySubsequences: false).map { HeaderList.lowercase($0) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty), Set(names).count == names.count else { return nil }
        return names
    }
}
