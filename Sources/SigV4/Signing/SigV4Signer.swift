import Foundation

/// Signs outgoing requests with AWS Signature Version 4: in headers
/// (`Authorization`) or in the query string (presigned URLs).
///
/// ```swift
/// let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
/// let request = SigV4SigningRequest(method: "GET", host: "bucket.s3.example.com", rawPath: "/a b.txt")
/// let signed = signer.sign(request, payload: .unsigned)
/// // send request.target with signed.headers (and Host: request.host)
/// ```
public struct SigV4Signer: Sendable {
    /// The credentials to sign with.
    public var credentials: SigV4Credentials
    /// The region to sign for.
    public var region: String
    /// The service to sign for (`s3`).
    public var service: String
    /// Whether ``sign(_:payload:date:)`` adds `x-amz-content-sha256` (S3 requires it; other services don't use it).
    public var addsContentSHA256Header: Bool
    /// Where derived signing keys are cached; `nil` derives a key for every request.
    public var keyCache: SigV4SigningKeyCache?

    /// Header names never signed: hop-by-hop headers and ones HTTP clients and proxies rewrite.
    public static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    /// Query parameters that presigning sets (and replaces if the request already has them).
    static let presignParameterNames: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
    ]

    /// The largest `X-Amz-Expires` S3 accepts: one week.
    public static let maxPresignedExpiry = 604_800

    /// Creates a signer.
    public init(
        credentials: SigV4Credentials, region: String, service: String = "s3",
        keyCache: SigV4SigningKeyCache? = .shared
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.addsContentSHA256Header = service == "s3"
        self.keyCache = keyCache
    }

    /// Signs `request` in headers.
    ///
    /// The result's ``SigV4SignedRequest/headers`` are the request's headers with
    /// `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with a session
    /// token) and `authorization` set (replacing any the request had). The `Host`
    /// header is signed from ``SigV4SigningRequest/host`` but not added: the HTTP
    /// client must send exactly that value.
    ///
    /// - Parameters:
    ///   - payload: the body's hash (``SigV4PayloadMode/sha256(of:)``), `.unsigned`, or a
    ///     streaming mode when the body will be aws-chunked (then sign its chunks with
    ///     ``SigV4SignedRequest/chunkSigner``).
    ///   - date: the signing time.
    public func sign(_ request: SigV4SigningRequest, payload: SigV4PayloadMode, date: Date = Date())
        -> SigV4SignedRequest
    {
        let amzDate = AmzDate.format(date)
        let scope = SigV4Scope(date: String(amzDate.prefix(8)), region: region, service: service)

        var replaced: Set<String> = ["authorization", "x-amz-date", "host"]
        var added: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if addsContentSHA256Header {
            replaced.insert("x-amz-content-sha256")
            added.append(("x-amz-content-sha256", payload.headerValue))
        }
        if let token = credentials.sessionToken {
            replaced.insert("x-amz-security-token")
            added.append(("x-amz-security-token", token))
        }
        var headers = request.headers.filter { !replaced.contains(HeaderList.lowercase($0.name)) }
        headers.append(contentsOf: added)

        let (signedNames, canonicalHeaders) = canonicalize(host: request.host, headers: headers)
        let canonicalRequest = CanonicalRequest.build(
            method: request.method,
            canonicalURI: URIEncoding.canonicalPath(fromEncoded: request.encodedPath),
            canonicalQuery: CanonicalQuery.canonicalize(encodedQuery: request.encodedQuery),
            canonicalHeaders: canonicalHeaders,
            signedHeaders: signedNames,
            payloadHash: payload.headerValue
        )
        let stringToSign = CanonicalRequest.stringToSign(
            amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
        let key = signingKey(for: scope)
        let signature = key.signature(for: stringToSign)
        let authorization =
            "\(CanonicalRequest.algorithm) Credential=\(credentials.accessKeyID)/\(scope.stringValue), "
            + "SignedHeaders=\(signedNames), Signature=\(signature)"
        headers.append(("authorization", authorization))

        return SigV4SignedRequest(
            headers: headers, authorization: authorization, signature: signature, amzDate: amzDate, scope: scope,
            signingKey: key, canonicalRequest: canonicalRequest, stringToSign: stringToSign)
    }

    /// Presigns `request`: returns the query string (with `X-Amz-Signature`) that
    /// authenticates it for `expires` seconds from `date`.
    ///
    /// Any headers in the request other than `host` are signed too and must be sent
    /// with it. With a session token, `X-Amz-Security-Token` goes into the query;
    /// with a payload other than `.unsigned`, `X-Amz-Content-Sha256` does.
    ///
    /// - Throws: `AuthorizationQueryParametersError` unless `1 <= expires <= 604800`.
    public func presign(
        _ request: SigV4SigningRequest, expires: Int, date: Date = Date(), payload: SigV4PayloadMode = .unsigned
    ) throws(SigV4Error) -> SigV4PresignedRequest {
        guard expires >= 1, expires <= Self.maxPresignedExpiry else {
            throw SigV4Error(
                .authorizationQueryParametersError,
                "X-Amz-Expires must be between 1 and \(Self.maxPresignedExpiry) seconds.")
        }
        let amzDate = AmzDate.format(date)
        let scope = SigV4Scope(date: String(amzDate.prefix(8)), region: region, service: service)
        let headers = request.headers.filter { HeaderList.lowercase($0.name) != "host" }
        let (signedNames, canonicalHeaders) = canonicalize(host: request.host, headers: headers)

        var parameters = CanonicalQuery.parameters(of: request.encodedQuery).filter {
            !Self.presignParameterNames.contains($0.name)
        }
        parameters.append(.init(name: "X-Amz-Algorithm", value: CanonicalRequest.algorithm))
        parameters.append(.init(name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope.stringValue)"))
        parameters.append(.init(name: "X-Amz-Date", value: amzDate))
        parameters.append(.init(name: "X-Amz-Expires", value: String(expires)))
        if let token = credentials.sessionToken {
            parameters.append(.init(name: "X-Amz-Security-Token", value: token))
        }
        parameters.append(.init(name: "X-Amz-SignedHeaders", value: signedNames))
        if payload != .unsigned {
            parameters.append(.init(name: "X-Amz-Content-Sha256", value: payload.headerValue))
        }
        let canonicalQuery = CanonicalQuery.canonicalize(parameters: parameters)

        let canonicalRequest = CanonicalRequest.build(
            method: request.method,
            canonicalURI: URIEncoding.canonicalPath(fromEncoded: request.encodedPath),
            canonicalQuery: canonicalQuery,
            canonicalHeaders: canonicalHeaders,
            signedHeaders: signedNames,
            payloadHash: payload.headerValue
        )
        let stringToSign = CanonicalRequest.stringToSign(
            amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
        let signature = signingKey(for: scope).signature(for: stringToSign)
        return SigV4PresignedRequest(
            host: request.host, encodedPath: request.encodedPath,
            encodedQuery: "\(canonicalQuery)&X-Amz-Signature=\(signature)", headers: headers, signature: signature,
            canonicalRequest: canonicalRequest, stringToSign: stringToSign)
    }

    /// The signing key for `scope`, from the cache when there is one.
    public func signingKey(for scope: SigV4Scope) -> SigV4SigningKey {
        if let keyCache {
            return keyCache.signingKey(secretAccessKey: credentials.secretAccessKey, scope: scope)
        }
        return SigV4SigningKey(secretAccessKey: credentials.secretAccessKey, scope: scope)
    }

    /// The `SignedHeaders` list and canonical headers block for `host` plus the signable `headers`.
    private func canonicalize(host: String, headers: [(name: String, value: String)]) -> (String, String) {
        var signable: [(name: String, value: String)] = [("host", host)]
        var names: Set<String> = ["host"]
        for header in headers {
            let name = HeaderList.lowercase(header.name)
            guard name != "host", !Self.unsignedHeaderNames.contains(name) else { continue }
            names.insert(name)
            signable.append((name, header.value))
        }
        let sorted = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return (sorted.joined(separator: ";"), CanonicalRequest.canonicalHeaders(names: sorted, headers: signable))
    }
}
