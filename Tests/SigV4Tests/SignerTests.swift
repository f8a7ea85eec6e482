import Foundation
import SigV4
import Testing

/// `SigV4Signer` round trips through `SigV4Verifier`, as requests cross the wire.
@Suite struct SignerTests {
    static let credentials = SigV4Credentials(accessKeyID: "AKIDSIGNER", secretAccessKey: "signer/secret+key")
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let signer = SigV4Signer(credentials: credentials, region: "eu-west-3")

    /// Verifies what `signed` would look like on arrival.
    static func verify(
        _ request: SigV4SigningRequest, headers: [(name: String, value: String)], at now: Date = now,
        secret: String = credentials.secretAccessKey
    ) throws -> SigV4VerifiedRequest {
        let incoming = SigV4IncomingRequest(
            method: request.method, rawPath: request.encodedPath, rawQuery: request.encodedQuery,
            headers: [("Host", request.host)] + headers)
        return try SigV4Verifier().verify(incoming, now: now) { $0 == credentials.accessKeyID ? secret : nil }
    }

    static let awkwardKeys = [
        "/bucket/plain.txt", "/bucket/with space.txt", "/bucket/plus+sign", "/bucket/percent%41", "/bucket/ünïcødé/ሴ",
        "/bucket/!*'();:@&=$,[]", "/bucket/tilde~under_score-dash.dot", "/bucket//double//slash/./dot/../",
        "/bucket/trailing/",
    ]

    @Test(arguments: awkwardKeys)
    func signedRequestsVerify(rawPath: String) throws {
        let request = SigV4SigningRequest(
            method: "PUT", host: "s3.example.com:9000", rawPath: rawPath,
            queryItems: [("partNumber", "3"), ("uploadId", "a/b+c=d&e"), ("empty", "")],
            headers: [("Content-Type", "text/plain"), ("X-Amz-Meta-Note", "  spaced   out  "), ("User-Agent", "test")])
        let signed = Self.signer.sign(request, payload: .sha256(of: Array("body".utf8)), date: Self.now)
        #expect(
            signed.authorization.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIDSIGNER/20231114/eu-west-3/s3/aws4_request, "))
        #expect(
            signed.authorization.contains(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note,"))
        let verified = try Self.verify(request, headers: signed.headers)
        #expect(verified.region == "eu-west-3")
        #expect(verified.payload == .sha256(Digests.sha256Hex("body")))
        #expect(verified.signature == signed.signature)
        #expect(
            verified.signedHeaders == ["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-note"])
    }

    @Test func encodedAndRawPathsSignAlike() {
        let raw = SigV4SigningRequest(method: "GET", host: "h", rawPath: "/b/a b$c")
        let encoded = SigV4SigningRequest(method: "GET", host: "h", encodedPath: "/b/a%20b$c")
        #expect(raw.encodedPath == "/b/a%20b%24c")
        #expect(
            Self.signer.sign(raw, payload: .unsigned, date: Self.now).signature
                == Self.signer.sign(encoded, payload: .unsigned, date: Self.now).signature)
    }

    @Test func theWirePathMaySpellCharactersEitherWay() throws {
        // The client signs "/b/a$b" but its HTTP stack sends "%24": S3 decodes before canonicalising.
        let request = SigV4SigningRequest(method: "GET", host: "h", encodedPath: "/b/a$b")
        let signed = Self.signer.sign(request, payload: .unsigned, date: Self.now)
        var onTheWire = request
        onTheWire.encodedPath = "/b/a%24b"
        _ = try Self.verify(onTheWire, headers: signed.headers)
    }

    @Test func sessionTokensAreSignedAndReported() throws {
        var signer = Self.signer
        signer.credentials.sessionToken = "FQoG/token=="
        let request = SigV4SigningRequest(
            method: "GET", host: "h", rawPath: "/b/k", headers: [("x-amz-security-token", "stale")])
        let signed = signer.sign(request, payload: .unsigned, date: Self.now)
        #expect(
            signed.headers.filter { $0.name.lowercased() == "x-amz-security-token" }.map(\.value) == ["FQoG/token=="])
        #expect(
            signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        let verified = try Self.verify(request, headers: signed.headers)
        #expect(verified.sessionToken == "FQoG/token==")
        #expect(verified.payload == .unsigned)
    }

    @Test func existingAuthenticationHeadersAreReplaced() throws {
        let request = SigV4SigningRequest(
            method: "GET", host: "h", rawPath: "/b/k",
            headers: [("Authorization", "old"), ("X-Amz-Date", "19990101T000000Z"), ("x-amz-content-sha256", "old")])
        let signed = Self.signer.sign(request, payload: .unsigned, date: Self.now)
        #expect(signed.headers.count == 3)
        #expect(signed.headers.map(\.name) == ["x-amz-date", "x-amz-content-sha256", "authorization"])
        _ = try Self.verify(request, headers: signed.headers)
    }

    @Test func repeatedHeadersAreSignedInOrder() throws {
        let request = SigV4SigningRequest(
            method: "GET", host: "h", rawPath: "/", headers: [("X-Amz-Meta-A", "2"), ("x-amz-meta-a", "1")])
        let signed = Self.signer.sign(request, payload: .unsigned, date: Self.now)
        #expect(signed.canonicalRequest.contains("\nx-amz-meta-a:2,1\n"))
        _ = try Self.verify(request, headers: signed.headers)
        var swapped = signed.headers
        swapped.swapAt(0, 1)
        #expect(sigV4Error { _ = try Self.verify(request, headers: swapped) }?.code == .signatureDoesNotMatch)
    }

    @Test func requestsFromURLs() throws {
        let request = try #require(
            SigV4SigningRequest(method: "GET", url: "https://s3.local:9000/bucket/a%20b?list-type=2&prefix=x#frag"))
        #expect(request.host == "s3.local:9000")
        #expect(request.encodedPath == "/bucket/a%20b")
        #expect(request.encodedQuery == "list-type=2&prefix=x")
        #expect(request.target == "/bucket/a%20b?list-type=2&prefix=x")
        let root = try #require(SigV4SigningRequest(method: "GET", url: "http://h?uploads"))
        #expect(root.encodedPath == "/")
        #expect(root.encodedQuery == "uploads")
        #expect(SigV4SigningRequest(method: "GET", url: "no-scheme/path")?.host == nil)
        #expect(SigV4SigningRequest(method: "GET", url: "https:///path")?.host == nil)
    }

    // MARK: - Presigning

    @Test func presignedURLsVerifyUntilTheyExpire() throws {
        var signer = Self.signer
        signer.credentials.sessionToken = "token/with+chars"
        let request = SigV4SigningRequest(
            method: "PUT", host: "h:8080", rawPath: "/b/new key", queryItems: [("x-id", "PutObject")],
            headers: [("x-amz-acl", "private")])
        let presigned = try signer.presign(request, expires: 300, date: Self.now)
        #expect(presigned.encodedQuery.hasSuffix("&X-Amz-Signature=\(presigned.signature)"))
        #expect(presigned.encodedQuery.contains("X-Amz-Security-Token=token%2Fwith%2Bchars"))
        #expect(presigned.url(scheme: "http").hasPrefix("http://h:8080/b/new%20key?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))

        func verify(at now: Date) throws -> SigV4VerifiedRequest {
            let incoming = SigV4IncomingRequest(
                method: "PUT", target: presigned.target, headers: [("Host", "h:8080")] + presigned.headers)
            return try SigV4Verifier().verify(incoming, now: now) { _ in Self.credentials.secretAccessKey }
        }
        let verified = try verify(at: Self.now)
        #expect(verified.isPresigned)
        #expect(verified.sessionToken == "token/with+chars")
        #expect(verified.payload == .unsigned)
        _ = try verify(at: Self.now.addingTimeInterval(300))
        let expired = sigV4Error { _ = try verify(at: Self.now.addingTimeInterval(301)) }
        #expect(expired?.code == .accessDenied)
        #expect(expired?.message == "Request has expired")
        #expect(expired?.detail("X-Amz-Expires") == "300")
        #expect(expired?.detail("Expires") == "2023-11-14T22:18:20Z")
        #expect(expired?.detail("ServerTime") == "2023-11-14T22:18:21Z")
    }

    @Test func presignedPayloadHashesTravelInTheQuery() throws {
        let request = SigV4SigningRequest(method: "PUT", host: "h", rawPath: "/b/k")
        let hash = SigV4PayloadMode.sha256(of: Array("data".utf8))
        let presigned = try Self.signer.presign(request, expires: 60, date: Self.now, payload: hash)
        #expect(presigned.encodedQuery.contains("X-Amz-Content-Sha256=\(hash.headerValue)"))
        let incoming = SigV4IncomingRequest(method: "PUT", target: presigned.target, headers: [("Host", "h")])
        let verified = try SigV4Verifier().verify(incoming, now: Self.now) { _ in Self.credentials.secretAccessKey }
        #expect(verified.payload == hash)
    }

    @Test(arguments: [0, -1, 604_801])
    func presigningRefusesInvalidExpiry(expires: Int) {
        let request = SigV4SigningRequest(method: "GET", host: "h", rawPath: "/")
        let error = sigV4Error { _ = try Self.signer.presign(request, expires: expires, date: Self.now) }
        #expect(error?.code == .authorizationQueryParametersError)
    }

    @Test func presigningAWeekIsAllowed() throws {
        let request = SigV4SigningRequest(method: "GET", host: "h", rawPath: "/b/k")
        let presigned = try Self.signer.presign(request, expires: 604_800, date: Self.now)
        let incoming = SigV4IncomingRequest(method: "GET", target: presigned.target, headers: [("host", "h")])
        _ = try SigV4Verifier().verify(incoming, now: Self.now.addingTimeInterval(604_000)) { _ in
            Self.credentials.secretAccessKey
        }
    }
}
