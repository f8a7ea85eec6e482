import Crypto
import Foundation
import SigV4
import Testing

/// `SigV4Verifier` refusing what S3 refuses, with S3's error codes.
@Suite struct VerifierTests {
    static let credentials = SigV4Credentials(accessKeyID: "AKIDVERIFY", secretAccessKey: "verify-secret")
    static let now = Date(timeIntervalSince1970: 1_700_000_000)  // 20231114T221320Z

    static func lookup(_ accessKeyID: String) -> String? {
        accessKeyID == credentials.accessKeyID ? credentials.secretAccessKey : nil
    }

    /// A header-signed GET as it arrives, signed at `date` for `region`.
    static func signedRequest(
        date: Date = now, region: String = "us-east-1", rawPath: String = "/bucket/key",
        queryItems: [(name: String, value: String)] = [("versionId", "v1")],
        headers: [(name: String, value: String)] = [("x-amz-meta-color", "blue")], payload: SigV4PayloadMode = .unsigned
    ) -> SigV4IncomingRequest {
        let signer = SigV4Signer(credentials: credentials, region: region)
        let request = SigV4SigningRequest(
            method: "GET", host: "gw.local", rawPath: rawPath, queryItems: queryItems, headers: headers)
        let signed = signer.sign(request, payload: payload, date: date)
        return SigV4IncomingRequest(
            method: "GET", rawPath: request.encodedPath, rawQuery: request.encodedQuery,
            headers: [("Host", "gw.local")] + signed.headers)
    }

    static func verify(_ request: SigV4IncomingRequest, now: Date = now, verifier: SigV4Verifier = SigV4Verifier())
        throws -> SigV4VerifiedRequest
    {
        try verifier.verify(request, now: now, secretForAccessKeyID: lookup)
    }

    static func error(_ request: SigV4IncomingRequest, now: Date = now, verifier: SigV4Verifier = SigV4Verifier())
        -> SigV4Error?
    {
        sigV4Error { _ = try verify(request, now: now, verifier: verifier) }
    }

    static func replacing(_ name: String, with value: String, in request: SigV4IncomingRequest) -> SigV4IncomingRequest
    {
        var copy = request
        copy.headers = request.headers.map { $0.name.lowercased() == name ? ($0.name, value) : $0 }
        return copy
    }

    // MARK: - Success

    @Test(arguments: ["us-east-1", "eu-west-3", "garage", "any-region-at-all"])
    func anyRegionIsAcceptedAndReported(region: String) throws {
        let verified = try Self.verify(Self.signedRequest(region: region))
        #expect(verified.region == region)
        #expect(verified.scope.service == "s3")
        #expect(verified.accessKeyID == "AKIDVERIFY")
        #expect(verified.amzDate == "20231114T221320Z")
        #expect(verified.date == Self.now)
    }

    @Test func asyncLookupsWork() async throws {
        let verified = try await SigV4Verifier().verify(Self.signedRequest(), now: Self.now) {
            accessKeyID async throws in
            try await Task.sleep(nanoseconds: 1000)
            return Self.lookup(accessKeyID)
        }
        #expect(verified.accessKeyID == "AKIDVERIFY")
    }

    @Test func lookupErrorsPropagate() {
        struct StoreDown: Error {}
        #expect(throws: StoreDown.self) {
            _ = try SigV4Verifier().verify(Self.signedRequest(), now: Self.now) { _ in throw StoreDown() }
        }
    }

    @Test(arguments: [
        SigV4PayloadMode.unsigned, .streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer,
        .sha256(SigV4PayloadMode.emptySHA256),
    ])
    func payloadModesAreReported(mode: SigV4PayloadMode) throws {
        #expect(try Self.verify(Self.signedRequest(payload: mode)).payload == mode)
    }

    @Test func declaredPayloadHashesAreCheckedAgainstTheBody() throws {
        let verified = try Self.verify(Self.signedRequest(payload: .sha256(of: Array("body".utf8))))
        try verified.verifyPayload(sha256: SHA256.hash(data: Array("body".utf8)))
        let error = sigV4Error { try verified.verifyPayload(sha256: SHA256.hash(data: Array("bodx".utf8))) }
        #expect(error?.code == .xAmzContentSHA256Mismatch)
        #expect(error?.detail("ClientComputedContentSHA256") == Digests.sha256Hex("body"))
        // Nothing to check for other modes.
        try Self.verify(Self.signedRequest()).verifyPayload(sha256: SHA256.hash(data: [1]))
    }

    @Test func twoStepVerification() throws {
        let verifier = SigV4Verifier(keyCache: SigV4SigningKeyCache())
        let parsed = try verifier.parse(Self.signedRequest(), now: Self.now)
        #expect(parsed.accessKeyID == "AKIDVERIFY")
        #expect(parsed.canonicalRequest.hasPrefix("GET\n/bucket/key\nversionId=v1\nhost:gw.local\n"))
        #expect(!parsed.isPresigned)
        let verified = try verifier.verify(parsed, secretAccessKey: Self.credentials.secretAccessKey)
        #expect(verified.signingKey == SigV4SigningKey(secretAccessKey: "verify-secret", scope: parsed.scope))
    }

    @Test func theDateHeaderCanStandInForXAmzDate() throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
        let request = SigV4SigningRequest(
            method: "GET", host: "h", rawPath: "/b", headers: [("Date", "Tue, 14 Nov 2023 22:13:20 GMT")])
        let signed = signer.sign(request, payload: .unsigned, date: Self.now)
        // Drop x-amz-date: the verifier must fall back to Date. Re-sign by hand with the same canonical form.
        let withoutAmzDate = signed.headers.filter { $0.name != "x-amz-date" && $0.name != "authorization" }
        let canonical = signed.canonicalRequest
            .replacingOccurrences(of: "x-amz-date:20231114T221320Z\n", with: "")
            .replacingOccurrences(of: ";x-amz-date\n", with: "\n")
        let scope = SigV4Scope(date: "20231114", region: "us-east-1", service: "s3")
        let stringToSign = "AWS4-HMAC-SHA256\n20231114T221320Z\n\(scope)\n\(Digests.sha256Hex(canonical))"
        let signature = SigV4SigningKey(secretAccessKey: "verify-secret", scope: scope).signature(for: stringToSign)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/\(scope), SignedHeaders=date;host;x-amz-content-sha256, Signature=\(signature)"
        let incoming = SigV4IncomingRequest(
            method: "GET", rawPath: "/b", headers: [("Host", "h")] + withoutAmzDate + [("Authorization", authorization)]
        )
        #expect(try Self.verify(incoming).amzDate == "20231114T221320Z")
    }

    // MARK: - Clock skew and expiry

    @Test(arguments: [-16 * 60, 16 * 60, -86400])
    func skewedRequestsAreRefused(offset: Int) throws {
        let request = Self.signedRequest(date: Self.now.addingTimeInterval(TimeInterval(offset)))
        let error = Self.error(request)
        #expect(error?.code == .requestTimeTooSkewed)
        #expect(error?.httpStatus == 403)
        #expect(error?.detail("MaxAllowedSkewMilliseconds") == "900000")
        #expect(error?.detail("ServerTime") == "2023-11-14T22:13:20Z")
    }

    @Test(arguments: [-14 * 60, 14 * 60, 0])
    func slightlySkewedRequestsAreAccepted(offset: Int) throws {
        _ = try Self.verify(Self.signedRequest(date: Self.now.addingTimeInterval(TimeInterval(offset))))
    }

    @Test func presignedURLsFromTheFutureAreRefused() throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
        let presigned = try signer.presign(
            SigV4SigningRequest(method: "GET", host: "h", rawPath: "/b/k"), expires: 3600,
            date: Self.now.addingTimeInterval(3600))
        let incoming = SigV4IncomingRequest(method: "GET", target: presigned.target, headers: [("Host", "h")])
        #expect(Self.error(incoming)?.code == .accessDenied)
    }

    @Test(arguments: ["0", "604801", "abc", "-5", "1.5", "", "99999999999999999999"])
    func invalidExpiryIsRefused(expires: String) throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
        let presigned = try signer.presign(
            SigV4SigningRequest(method: "GET", host: "h", rawPath: "/b/k"), expires: 60, date: Self.now)
        let target = presigned.target.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=\(expires)")
        let error = Self.error(SigV4IncomingRequest(method: "GET", target: target, headers: [("Host", "h")]))
        #expect(error?.code == .authorizationQueryParametersError)
    }

    // MARK: - Tampering

    @Test func tamperedRequestsAreRefusedWithTheCanonicalRequest() throws {
        let original = Self.signedRequest()
        var query = original
        query.rawQuery = "versionId=v2"
        var extraParameter = original
        extraParameter.rawQuery += "&acl"
        var path = original
        path.rawPath = "/bucket/other"
        var method = original
        method.method = "DELETE"
        let header = Self.replacing("x-amz-meta-color", with: "red", in: original)
        let host = Self.replacing("host", with: "evil.local", in: original)
        for tampered in [query, extraParameter, path, method, header, host] {
            let error = Self.error(tampered)
            #expect(error?.code == .signatureDoesNotMatch)
            #expect(
                error?.detail("CanonicalRequest")?.hasPrefix(tampered.method + "\n" + tampered.rawPath + "\n") == true)
            #expect(error?.detail("StringToSign")?.hasPrefix("AWS4-HMAC-SHA256\n20231114T221320Z\n") == true)
            #expect(error?.detail("AWSAccessKeyId") == "AKIDVERIFY")
            #expect(
                error?.detail("CanonicalRequestBytes")?.hasPrefix(tampered.method == "GET" ? "47 45 54 0a" : "44 45")
                    == true)
        }
    }

    @Test func tamperedPresignedURLsAreRefused() throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
        let presigned = try signer.presign(
            SigV4SigningRequest(method: "GET", host: "h", rawPath: "/b/k"), expires: 60, date: Self.now)
        for target in [
            presigned.target.replacingOccurrences(of: "/b/k?", with: "/b/j?"),
            presigned.target + "&response-content-type=text%2Fhtml",
            presigned.target.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=600"),
        ] {
            let error = Self.error(SigV4IncomingRequest(method: "GET", target: target, headers: [("Host", "h")]))
            #expect(error?.code == .signatureDoesNotMatch)
        }
        let duplicated = presigned.target + "&X-Amz-Signature=\(String(repeating: "0", count: 64))"
        #expect(
            Self.error(SigV4IncomingRequest(method: "GET", target: duplicated, headers: [("Host", "h")]))?.code
                == .authorizationQueryParametersError)
    }

    @Test func aWrongSecretDoesNotMatch() {
        let error = sigV4Error {
            _ = try SigV4Verifier().verify(Self.signedRequest(), now: Self.now) { _ in "another-secret" }
        }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test func anUnknownAccessKeyIsInvalid() {
        let error = sigV4Error { _ = try SigV4Verifier().verify(Self.signedRequest(), now: Self.now) { _ in nil } }
        #expect(error?.code == .invalidAccessKeyId)
        #expect(error?.detail("AWSAccessKeyId") == "AKIDVERIFY")
    }

    // MARK: - Malformed or missing authentication

    static func withAuthorization(_ value: String) -> SigV4IncomingRequest {
        var request = signedRequest()
        request.headers = request.headers.filter { $0.name != "authorization" } + [("Authorization", value)]
        return request
    }

    static var validAuthorization: String {
        signedRequest().headers.first { $0.name == "authorization" }?.value ?? ""
    }

    static let signature = String(repeating: "a", count: 64)
    static let signedNames = "host;x-amz-content-sha256;x-amz-date;x-amz-meta-color"

    @Test(arguments: [
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/2023111/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114//s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host;;x, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host;host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature), Extra=1",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, Stray, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 =AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request, SignedHeaders=host;HOST, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/2023111\u{00E9}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/s3/aws4_request/, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231115/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=AKIDVERIFY/20231114/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=\(signature)",
    ])
    func malformedAuthorizationHeaders(value: String) {
        let error = Self.error(Self.withAuthorization(value))
        #expect(error?.code == .authorizationHeaderMalformed, "\(value)")
        #expect(error?.httpStatus == 400)
    }

    @Test(arguments: [
        "AWS AKIDVERIFY:frJIUN8DYpKDtOLCwo//yllqDzg=", "Bearer token", "AWS4-ECDSA-P256-SHA256 Credential=x", "",
        "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256Credential=x",
    ])
    func unsupportedAuthorizationSchemes(value: String) {
        #expect(Self.error(Self.withAuthorization(value))?.code == .accessDenied, "\(value)")
    }

    @Test func clientSpacingVariantsAreTolerated() throws {
        let valid = Self.validAuthorization
        let credential = try #require(
            valid.components(separatedBy: "Credential=").last?.components(separatedBy: ",").first)
        let signature = try #require(valid.components(separatedBy: "Signature=").last)
        for variant in [
            "AWS4-HMAC-SHA256 Credential=\(credential),SignedHeaders=\(Self.signedNames),Signature=\(signature)",
            "AWS4-HMAC-SHA256  Credential=\(credential) ,  SignedHeaders=\(Self.signedNames),\tSignature=\(signature)",
            "AWS4-HMAC-SHA256 Credential=\(credential) SignedHeaders=\(Self.signedNames) Signature=\(signature)",
            "AWS4-HMAC-SHA256 Signature=\(signature), SignedHeaders=\(Self.signedNames), Credential=\(credential)",
            "  AWS4-HMAC-SHA256\tCredential=\(credential), SignedHeaders=\(Self.signedNames), Signature=\(signature),",
        ] {
            #expect(throws: Never.self, "\(variant)") { _ = try Self.verify(Self.withAuthorization(variant)) }
        }
    }

    @Test func hostMustBeSigned() throws {
        let valid = Self.validAuthorization
        let unsignedHost = valid.replacingOccurrences(of: "SignedHeaders=host;", with: "SignedHeaders=")
        let error = Self.error(Self.withAuthorization(unsignedHost))
        #expect(error?.code == .accessDenied)
        #expect(error?.detail("HeadersNotSigned") == "host")
    }

    @Test func amzHeadersMustBeSigned() throws {
        var request = Self.signedRequest()
        request.headers.append(("X-Amz-Copy-Source", "/other/object"))
        let error = Self.error(request)
        #expect(error?.code == .accessDenied)
        #expect(error?.message == "There were headers present in the request which were not signed")
        #expect(error?.detail("HeadersNotSigned") == "x-amz-copy-source")
        // Other unsigned headers are fine, and the rule can be relaxed.
        request.headers.removeLast()
        request.headers.append(("User-Agent", "curl"))
        _ = try Self.verify(request)
        request.headers.append(("x-amz-user-agent", "sdk"))
        _ = try Self.verify(request, verifier: SigV4Verifier(requireSignedAmzHeaders: false))
    }

    @Test func theContentHashHeaderIsRequiredAndValidated() {
        var missing = Self.signedRequest()
        missing.headers.removeAll { $0.name == "x-amz-content-sha256" }
        let missingError = Self.error(missing, verifier: SigV4Verifier(requireSignedAmzHeaders: false))
        #expect(missingError?.code == .invalidRequest)
        #expect(missingError?.message == "Missing required header for this request: x-amz-content-sha256")
        for value in ["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "nonsense", "E3B0"] {
            #expect(
                Self.error(Self.replacing("x-amz-content-sha256", with: value, in: Self.signedRequest()))?.code
                    == .invalidArgument)
        }
    }

    @Test func dateHeadersAreRequiredAndValidated() {
        var missing = Self.signedRequest()
        missing.headers.removeAll { $0.name == "x-amz-date" }
        #expect(Self.error(missing)?.code == .accessDenied)
        for value in ["2023-11-14T22:13:20Z", "20231114T221320", "yesterday", "20231314T221320Z"] {
            let error = Self.error(Self.replacing("x-amz-date", with: value, in: Self.signedRequest()))
            #expect(error?.code == .accessDenied)
            #expect(error?.message == "AWS authentication requires a valid Date or x-amz-date header")
        }
    }

    @Test func scopeDateMustMatchTheRequestDate() {
        let valid = Self.validAuthorization
        let otherDay = valid.replacingOccurrences(of: "/20231114/", with: "/20231113/")
        let error = Self.error(Self.withAuthorization(otherDay))
        #expect(error?.code == .authorizationHeaderMalformed)
        #expect(error?.message.contains("Date is not the same as X-Amz-Date") == true)
    }

    @Test func onlyTheConfiguredServiceIsAccepted() {
        let valid = Self.validAuthorization
        let error = Self.error(
            Self.withAuthorization(valid.replacingOccurrences(of: "/s3/", with: "/s3-object-lambda/")))
        #expect(error?.code == .authorizationHeaderMalformed)
        #expect(error?.message.contains("incorrect service \"s3-object-lambda\"") == true)
    }

    @Test func twoAuthorizationHeadersAreMalformed() {
        var request = Self.signedRequest()
        request.headers.append(("Authorization", Self.validAuthorization))
        #expect(Self.error(request)?.code == .authorizationHeaderMalformed)
    }

    @Test func twoAuthMechanismsAreRefused() {
        var request = Self.signedRequest()
        request.rawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        #expect(Self.error(request)?.code == .invalidArgument)
    }

    @Test func missingAuthenticationIsAccessDenied() {
        let anonymous = SigV4IncomingRequest(method: "GET", target: "/bucket/key?list-type=2", headers: [("Host", "h")])
        #expect(SigV4AuthenticationKind(of: anonymous) == .anonymous)
        #expect(Self.error(anonymous)?.code == .accessDenied)
        let sigV2 = SigV4IncomingRequest(
            method: "GET", target: "/bucket/key?AWSAccessKeyId=AK&Expires=1&Signature=abc", headers: [("Host", "h")])
        #expect(SigV4AuthenticationKind(of: sigV2) == .unsupported)
        #expect(Self.error(sigV2)?.code == .accessDenied)
        #expect(SigV4AuthenticationKind(of: Self.withAuthorization("AWS AK:sig")) == .unsupported)
        #expect(SigV4AuthenticationKind(of: Self.signedRequest()) == .authorizationHeader)
    }

    @Test(arguments: [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=2023-11-14&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231113%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=&X-Amz-Signature=aa",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDVERIFY%2F20231114%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=",
    ])
    func malformedPresignedQueries(query: String) {
        let request = SigV4IncomingRequest(method: "GET", rawPath: "/b/k", rawQuery: query, headers: [("Host", "h")])
        #expect(Self.error(request)?.code == .authorizationQueryParametersError, "\(query)")
    }

    /// Arbitrary header values and queries must produce an error or a result, never a crash.
    @Test func garbageNeverCrashes() {
        var generator = SeededGenerator(seed: 77)
        let alphabet = Array("AWS4-HMAC-SHA256 Credential=/,;=%+&?X-Amz-Signature0123456789abcdef\u{0}\u{7f}ሴ\t ")
        func garbage() -> String {
            String(
                (0..<Int.random(in: 0...80, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator) ?? "a"
                })
        }
        for _ in 0..<500 {
            let request = SigV4IncomingRequest(
                method: garbage(), rawPath: garbage(), rawQuery: garbage(),
                headers: [
                    ("Authorization", "AWS4-HMAC-SHA256 " + garbage()), ("x-amz-date", garbage()), ("host", garbage()),
                ])
            _ = Self.error(request)
            let presigned = SigV4IncomingRequest(
                method: "GET", rawPath: "/", rawQuery: "X-Amz-Credential=" + garbage(), headers: [])
            _ = Self.error(presigned)
        }
    }
}

/// The async verification runs on the caller's executor: an actor can look keys up in its own state.
actor KeyStore {
    var secrets = [VerifierTests.credentials.accessKeyID: VerifierTests.credentials.secretAccessKey]
    var lookups = 0

    func authenticate(_ request: SigV4IncomingRequest, now: Date) async throws -> SigV4VerifiedRequest {
        try await SigV4Verifier().verify(request, now: now) { accessKeyID async in
            self.lookups += 1
            return self.secrets[accessKeyID]
        }
    }
}

@Test func verificationFromAnActor() async throws {
    let store = KeyStore()
    let verified = try await store.authenticate(VerifierTests.signedRequest(), now: VerifierTests.now)
    #expect(verified.accessKeyID == "AKIDVERIFY")
    #expect(await store.lookups == 1)
}
