import Foundation

/// Authenticates incoming requests signed with AWS Signature Version 4, in the
/// `Authorization` header or as presigned URLs.
///
/// Verification is a pure function of the request, the current time and the
/// secret of the access key the request names. It runs in two steps so the
/// secret lookup can be asynchronous:
///
/// ```swift
/// let verifier = SigV4Verifier()
/// let parsed = try verifier.parse(request, now: Date())          // syntax, skew, expiry, canonical request
/// let secret = try await keyStore.secret(for: parsed.accessKeyID) // nil if unknown
/// let verified = try verifier.verify(parsed, secretAccessKey: secret)
/// ```
/// or in one call with `verify(_:now:secretForAccessKeyID:)`, whose lookup closure may be async.
///
/// Every failure is a ``SigV4Error`` carrying the S3 error code to answer with.
/// Any region is accepted (the result reports the one the client used); the
/// service must be ``service``.
public struct SigV4Verifier: Sendable {
    /// The service requests must be signed for.
    public var service: String
    /// How far a header-signed request's time may be from the server's clock.
    public var maxClockSkew: TimeInterval
    /// Whether every `x-amz-*` header must be signed, as S3 requires.
    public var requireSignedAmzHeaders: Bool
    /// Where derived signing keys are cached; `nil` derives a key per request.
    public var keyCache: SigV4SigningKeyCache?

    /// The `AccessDenied` message for a request with neither auth mechanism.
    static let missingAuthenticationMessage =
        "Request is missing authentication: no Authorization header and no X-Amz-Algorithm query parameter."

    /// Creates a verifier.
    public init(
        service: String = "s3", maxClockSkew: TimeInterval = 15 * 60, requireSignedAmzHeaders: Bool = true,
        keyCache: SigV4SigningKeyCache? = .shared
    ) {
        self.service = service
        self.maxClockSkew = maxClockSkew
        self.requireSignedAmzHeaders = requireSignedAmzHeaders
        self.keyCache = keyCache
    }

    // MARK: - One-call verification

    /// Authenticates `request`, looking the secret up with `secretForAccessKeyID`
    /// (which returns `nil` for an unknown key).
    ///
    /// Runs on the caller's executor, so the lookup may use the caller's isolated state.
    ///
    /// - Throws: a ``SigV4Error``, or whatever `secretForAccessKeyID` throws.
    nonisolated(nonsending) public func verify(
        _ request: SigV4IncomingRequest, now: Date, secretForAccessKeyID: (String) async throws -> String?
    ) async throws -> SigV4VerifiedRequest {
        let parsed = try parse(request, now: now)
        let secret = try await secretForAccessKeyID(parsed.accessKeyID)
        return try verify(parsed, secretAccessKey: secret)
    }

    /// Authenticates `request`, looking the secret up with `secretForAccessKeyID`
    /// (which returns `nil` for an unknown key).
    ///
    /// - Throws: a ``SigV4Error``, or whatever `secretForAccessKeyID` throws.
    public func verify(
        _ request: SigV4IncomingRequest, now: Date, secretForAccessKeyID: (String) throws -> String?
    ) throws -> SigV4VerifiedRequest {
        let parsed = try parse(request, now: now)
        return try verify(parsed, secretAccessKey: try secretForAccessKeyID(parsed.accessKeyID))
    }

    // MARK: - Step 2: the signature

    /// Checks the signature of a parsed request with the secret of its access key.
    ///
    /// - Parameter secretAccessKey: the secret, or `nil` if the access key is unknown.
    /// - Throws: `InvalidAccessKeyId` or `SignatureDoesNotMatch`.
    public func verify(_ parsed: SigV4ParsedAuthorization, secretAccessKey: String?) throws(SigV4Error)
        -> SigV4VerifiedRequest
    {
        guard let secretAccessKey else {
            throw SigV4Error(
                .invalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records.",
                details: [.init("AWSAccessKeyId", parsed.accessKeyID)])
        }
        let key =
            keyCache?.signingKey(secretAccessKey: secretAccessKey, scope: parsed.scope)
            ?? SigV4SigningKey(secretAccessKey: secretAccessKey, scope: parsed.scope)
        let expected = key.signature(for: parsed.stringToSign)
        guard Digests.constantTimeEquals(expected, parsed.signature) else {
            throw SigV4Error(
                .signatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. "
                    + "Check your key and signing method.",
                details: [
                    .init("AWSAccessKeyId", parsed.accessKeyID),
                    .init("StringToSign", parsed.stringToSign),
                    .init("SignatureProvided", parsed.signature),
                    .init("StringToSignBytes", Self.spacedHex(parsed.stringToSign)),
                    .init("CanonicalRequest", parsed.canonicalRequest),
                    .init("CanonicalRequestBytes", Self.spacedHex(parsed.canonicalRequest)),
                ])
        }
        return SigV4VerifiedRequest(
            accessKeyID: parsed.accessKeyID, signature: parsed.signature, signingKey: key, scope: parsed.scope,
            amzDate: parsed.amzDate, date: parsed.date, payload: parsed.payload, isPresigned: parsed.isPresigned,
            sessionToken: parsed.sessionToken, signedHeaders: parsed.signedHeaders)
    }

    // MARK: - Step 1: everything but the signature

    /// Parses and checks the authentication information of `request` and computes
    /// its canonical request and string to sign.
    ///
    /// - Throws: `AccessDenied` (no or unsupported authentication, expired presigned
    ///   URL, unsigned `x-amz-*` headers), `AuthorizationHeaderMalformed`,
    ///   `AuthorizationQueryParametersError`, `RequestTimeTooSkewed`, `InvalidRequest`
    ///   (no `x-amz-content-sha256`), `InvalidArgument` (bad `x-amz-content-sha256`
    ///   or two auth mechanisms at once).
    public func parse(_ request: SigV4IncomingRequest, now: Date) throws(SigV4Error) -> SigV4ParsedAuthorization {
        let authorization = HeaderList.all("authorization", in: request.headers)
        let parameters = CanonicalQuery.parameters(of: request.rawQuery)
        let hasQueryAuthentication = parameters.contains { PresignedQuery.markers.contains($0.name) }
        if !authorization.isEmpty && hasQueryAuthentication {
            throw SigV4Error(
                .invalidArgument,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                    + "parameter or the Authorization header should be specified",
                details: [.init("ArgumentName", "Authorization")])
        }
        if let value = authorization.first {
            guard authorization.count == 1 else {
                throw SigV4Error(
                    .authorizationHeaderMalformed, "The authorization header is malformed; it was sent more than once.")
            }
            return try parseHeaderAuthentication(request, authorization: value, now: now)
        }
        if hasQueryAuthentication {
            return try parsePresigned(request, parameters: parameters, now: now)
        }
        if parameters.contains(where: { $0.name == "AWSAccessKeyId" }) {
            throw SigV4Error(
                .accessDenied, "Signature Version 2 is not supported; sign requests with AWS4-HMAC-SHA256.")
        }
        throw SigV4Error(.accessDenied, Self.missingAuthenticationMessage)
    }

    private func parseHeaderAuthentication(
        _ request: SigV4IncomingRequest, authorization: String, now: Date
    ) throws(SigV4Error) -> SigV4ParsedAuthorization {
        let header = try SigV4AuthorizationHeader(parsing: authorization)
        guard header.scope.service == service else {
            throw SigV4Error(
                .authorizationHeaderMalformed,
                "The authorization header is malformed; incorrect service \"\(header.scope.service)\". "
                    + "This endpoint belongs to \"\(service)\".")
        }

        let requestTime: String
        let date: Date
        if let value = HeaderList.first("x-amz-date", in: request.headers) {
            requestTime = value.trimmingOWS()
            guard let parsed = AmzDate.parse(requestTime) else { throw Self.invalidDate() }
            date = parsed
        } else if let value = HeaderList.first("date", in: request.headers) {
            requestTime = value.trimmingOWS()
            guard let parsed = AmzDate.parseHTTPDate(requestTime) else { throw Self.invalidDate() }
            date = parsed
        } else {
            throw Self.invalidDate()
        }
        let amzDate = AmzDate.format(date)
        guard abs(date.timeIntervalSince(now)) <= maxClockSkew else {
            throw SigV4Error(
                .requestTimeTooSkewed, "The difference between the request time and the current time is too large.",
                details: [
                    .init("RequestTime", requestTime),
                    .init("ServerTime", AmzDate.formatExtended(now)),
                    .init("MaxAllowedSkewMilliseconds", Self.milliseconds(maxClockSkew)),
                ])
        }
        guard header.scope.date == amzDate.prefix(8) else {
            throw SigV4Error(
                .authorizationHeaderMalformed,
                "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
        }
        try checkSignedHeaders(header.signedHeaders, of: request)

        let payload: SigV4PayloadMode
        if let value = HeaderList.first("x-amz-content-sha256", in: request.headers) {
            payload = try SigV4PayloadMode(headerValue: value.trimmingOWS())
        } else if let bodySHA256 = request.bodySHA256 {
            payload = .sha256(bodySHA256)
        } else {
            throw SigV4Error(.invalidRequest, "Missing required header for this request: x-amz-content-sha256")
        }

        let canonicalRequest = CanonicalRequest.build(
            method: request.method,
            canonicalURI: URIEncoding.canonicalPath(fromEncoded: request.rawPath),
            canonicalQuery: CanonicalQuery.canonicalize(encodedQuery: request.rawQuery),
            canonicalHeaders: CanonicalRequest.canonicalHeaders(names: header.signedHeaders, headers: request.headers),
            signedHeaders: header.signedHeaders.joined(separator: ";"),
            payloadHash: payload.headerValue)
        return SigV4ParsedAuthorization(
            accessKeyID: header.accessKeyID, scope: header.scope, amzDate: amzDate, date: date,
            signedHeaders: header.signedHeaders, signature: header.signature, canonicalRequest: canonicalRequest,
            stringToSign: CanonicalRequest.stringToSign(
                amzDate: amzDate, scope: header.scope, canonicalRequest: canonicalRequest),
            payload: payload, isPresigned: false,
            sessionToken: HeaderList.first("x-amz-security-token", in: request.headers), expires: nil)
    }

    private func parsePresigned(
        _ request: SigV4IncomingRequest, parameters: [CanonicalQuery.Parameter], now: Date
    ) throws(SigV4Error) -> SigV4ParsedAuthorization {
        let query = try PresignedQuery(parameters: parameters, service: service)
        if query.date.timeIntervalSince(now) > maxClockSkew {
            throw SigV4Error(.accessDenied, "Request is not valid yet")
        }
        let expiry = query.date.addingTimeInterval(TimeInterval(query.expires))
        guard now <= expiry else {
            throw SigV4Error(
                .accessDenied, "Request has expired",
                details: [
                    .init("X-Amz-Expires", String(query.expires)),
                    .init("Expires", AmzDate.formatExtended(expiry)),
                    .init("ServerTime", AmzDate.formatExtended(now)),
                ])
        }
        try checkSignedHeaders(query.signedHeaders, of: request)

        let payload: SigV4PayloadMode
        if let value = query.contentSHA256 ?? HeaderList.first("x-amz-content-sha256", in: request.headers) {
            payload = try SigV4PayloadMode(headerValue: value.trimmingOWS())
        } else {
            payload = .unsigned
        }

        let canonicalRequest = CanonicalRequest.build(
            method: request.method,
            canonicalURI: URIEncoding.canonicalPath(fromEncoded: request.rawPath),
            canonicalQuery: CanonicalQuery.canonicalize(encodedQuery: request.rawQuery, excluding: ["X-Amz-Signature"]),
            canonicalHeaders: CanonicalRequest.canonicalHeaders(names: query.signedHeaders, headers: request.headers),
            signedHeaders: query.signedHeaders.joined(separator: ";"),
            payloadHash: payload.headerValue)
        return SigV4ParsedAuthorization(
            accessKeyID: query.credential.accessKeyID, scope: query.credential.scope, amzDate: query.amzDate,
            date: query.date, signedHeaders: query.signedHeaders, signature: query.signature,
            canonicalRequest: canonicalRequest,
            stringToSign: CanonicalRequest.stringToSign(
                amzDate: query.amzDate, scope: query.credential.scope, canonicalRequest: canonicalRequest),
            payload: payload, isPresigned: true, sessionToken: query.securityToken, expires: query.expires)
    }

    /// `host` must be signed, and (with ``requireSignedAmzHeaders``) every `x-amz-*` header present.
    private func checkSignedHeaders(_ signed: [String], of request: SigV4IncomingRequest) throws(SigV4Error) {
        var missing: [String] = []
        if !signed.contains("host") { missing.append("host") }
        if requireSignedAmzHeaders {
            for header in request.headers where HeaderList.hasPrefix(header.name, "x-amz-") {
                let name = HeaderList.lowercase(header.name)
                if !signed.contains(name), !missing.contains(name) {
                    missing.append(name)
                }
            }
        }
        guard missing.isEmpty else {
            throw SigV4Error(
                .accessDenied, "There were headers present in the request which were not signed",
                details: [.init("HeadersNotSigned", missing.joined(separator: ", "))])
        }
    }

    private static func milliseconds(_ interval: TimeInterval) -> String {
        let milliseconds = (interval * 1000).rounded()
        guard milliseconds.isFinite, abs(milliseconds) < 1e15 else { return "\(milliseconds)" }
        return String(Int64(milliseconds))
    }

    private static func invalidDate() -> SigV4Error {
        SigV4Error(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header")
    }

    /// `"41 57 53 ..."`: the bytes of `text` as S3 shows them in `SignatureDoesNotMatch`.
    private static func spacedHex(_ text: String) -> String {
        let hex = Array(Hex.encode(text.utf8).utf8)
        var output = [UInt8]()
        output.reserveCapacity(hex.count / 2 * 3)
        var index = 0
        while index < hex.count {
            if index > 0 { output.append(UInt8(ascii: " ")) }
            output.append(hex[index])
            output.append(hex[index + 1])
            index += 2
        }
        return String(decoding: output, as: UTF8.self)
    }
}
