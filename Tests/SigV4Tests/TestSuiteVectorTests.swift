import Crypto
import Foundation
import SigV4
import Testing

/// The official aws-sig-v4-test-suite (2015 edition, `Vectors/aws4-testsuite`).
///
/// Left out on purpose:
/// - the `normalize-path` cases other than `get-space` (`get-relative`,
///   `get-relative-relative`, `get-slash`, `get-slash-dot-slash`,
///   `get-slash-pointless-dot`, `get-slashes`): they expect `.`/`..` segments
///   and repeated slashes to be removed from the path before signing, which
///   every AWS service but S3 does. S3 signs the path as it is (`//a/./b` is a
///   different key from `/a/b`), and so do this library and the S3 SDKs; see
///   ``S3PathRulesTests`` for what S3 does instead;
/// - `get-header-value-multiline`: it relies on obsolete HTTP line folding,
///   which HTTP/1.1 parsers (SwiftNIO's included) reject before any signature
///   is looked at.
@Suite struct TestSuiteVectorTests {
    static let vectors = TestVector.load(suite: "aws4-testsuite")

    @Test func theSuiteIsThere() {
        #expect(Self.vectors.count == 24)
    }

    @Test(arguments: vectors)
    func signerReproducesTheSuite(_ vector: TestVector) throws {
        let request = vector.request
        var signer = SigV4Signer(
            credentials: Fixtures.suiteCredentials, region: "us-east-1", service: "service", keyCache: nil)
        signer.addsContentSHA256Header = false
        let headers = request.headers.filter { !["host", "x-amz-date"].contains($0.name.lowercased()) }
        let signed = signer.sign(
            SigV4SigningRequest(
                method: request.method, host: try #require(request.header("host")), encodedPath: request.path,
                encodedQuery: request.query, headers: headers),
            payload: .sha256(of: request.body), date: Fixtures.suiteDate)
        #expect(signed.canonicalRequest == vector.canonicalRequest)
        #expect(signed.stringToSign == vector.stringToSign)
        #expect(signed.authorization == vector.authorization)
    }

    @Test(arguments: vectors)
    func verifierAcceptsTheSuite(_ vector: TestVector) throws {
        let request = vector.request
        let authorization = try #require(vector.authorization)
        let incoming = SigV4IncomingRequest(
            method: request.method, target: request.target,
            headers: request.headers + [("Authorization", authorization)],
            bodySHA256: Hex.encode(SHA256.hash(data: request.body)))
        let verifier = SigV4Verifier(service: "service", keyCache: nil)
        let parsed = try verifier.parse(incoming, now: Fixtures.suiteDate)
        #expect(parsed.canonicalRequest == vector.canonicalRequest)
        #expect(parsed.stringToSign == vector.stringToSign)
        let verified = try verifier.verify(parsed, secretAccessKey: Fixtures.suiteCredentials.secretAccessKey)
        #expect(verified.accessKeyID == "AKIDEXAMPLE")
        #expect(verified.region == "us-east-1")
    }

    @Test func anUnsignedSecurityTokenIsRefusedWhenAmzHeadersMustBeSigned() throws {
        // post-sts-header-after: the token was added after signing.
        let vector = try #require(Self.vectors.first { $0.name == "post-sts-header-after" })
        let incoming = SigV4IncomingRequest(
            method: "POST", target: "/",
            headers: vector.request.headers + [
                ("X-Amz-Security-Token", "token"), ("Authorization", try #require(vector.authorization)),
            ],
            bodySHA256: SigV4PayloadMode.emptySHA256)
        let error = sigV4Error { _ = try SigV4Verifier(service: "service").parse(incoming, now: Fixtures.suiteDate) }
        #expect(error?.code == .accessDenied)
        #expect(error?.detail("HeadersNotSigned") == "x-amz-security-token")
    }

    /// The signing key example of the SigV4 documentation.
    @Test func signingKeyDerivation() {
        let key = SigV4SigningKey(
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20150830", region: "us-east-1",
            service: "iam")
        let expected = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        #expect(Hex.encode(key.bytes) == expected)
    }
}
