import Foundation
import SigV4
import Testing

/// What S3 does where the generic test suite's `normalize-path` cases expect
/// path normalisation: the path is signed as sent (decoded once, re-encoded once),
/// because `a//b` and `a/./b` are distinct object keys in S3.
@Suite struct S3PathRulesTests {
    @Test(arguments: [
        ("/example/..", "/example/.."),
        ("/example1/example2/../..", "/example1/example2/../.."),
        ("//", "//"),
        ("/./", "/./"),
        ("/./example", "/./example"),
        ("//example//", "//example//"),
        ("/example space/", "/example%20space/"),
    ])
    func pathsAreNotNormalised(path: String, canonical: String) {
        #expect(URIEncoding.canonicalPath(fromEncoded: path) == canonical)
        #expect(URIEncoding.canonicalPath(fromRaw: path) == canonical)
    }

    @Test func unnormalisedPathsRoundTrip() throws {
        let credentials = SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK")
        let now = Date(timeIntervalSince1970: 1_600_000_000)
        for path in ["/b//k", "/b/./k", "/b/../k", "/b/k/"] {
            let request = SigV4SigningRequest(method: "GET", host: "h", rawPath: path)
            let signed = SigV4Signer(credentials: credentials, region: "r").sign(request, payload: .unsigned, date: now)
            #expect(signed.canonicalRequest.hasPrefix("GET\n\(path)\n"))
            let incoming = SigV4IncomingRequest(
                method: "GET", rawPath: request.encodedPath, headers: [("host", "h")] + signed.headers)
            _ = try SigV4Verifier().verify(incoming, now: now) { _ in "SK" }
            // A normalised path is a different request.
            var normalised = incoming
            normalised.rawPath = "/b/k"
            #expect(
                sigV4Error { _ = try SigV4Verifier().verify(normalised, now: now) { _ in "SK" } }?.code
                    == .signatureDoesNotMatch)
        }
    }

    @Test func encodedSlashesAreDecoded() {
        // S3 decodes the path before signing, so an encoded slash signs as a slash.
        #expect(URIEncoding.canonicalPath(fromEncoded: "/b/a%2Fb") == "/b/a/b")
    }
}
