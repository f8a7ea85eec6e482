import Foundation
import SigV4
import Testing

@Suite struct PrimitivesTests {
    @Test func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.decode("000fA5ff") == [0x00, 0x0F, 0xA5, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.isLowercaseHex("0a", count: 2))
        #expect(!Hex.isLowercaseHex("0A", count: 2))
    }

    @Test func sha256() {
        #expect(Digests.sha256Hex("") == SigV4PayloadMode.emptySHA256)
        #expect(Digests.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func uriEncodingOfPaths() {
        #expect(URIEncoding.canonicalPath(fromRaw: "/bucket/a b+c~d_e-f.g") == "/bucket/a%20b%2Bc~d_e-f.g")
        #expect(
            URIEncoding.canonicalPath(fromRaw: "/k/ሴ!*'()$&,;=:@") == "/k/%E1%88%B4%21%2A%27%28%29%24%26%2C%3B%3D%3A%40"
        )
        #expect(URIEncoding.canonicalPath(fromRaw: "") == "/")
        // Encoded on the wire: decoded once and re-encoded, never double-encoded.
        #expect(URIEncoding.canonicalPath(fromEncoded: "/bucket/a%20b") == "/bucket/a%20b")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/bucket/a%2bb") == "/bucket/a%2Bb")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/test$file.text") == "/test%24file.text")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/a+b") == "/a%2Bb")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/100%") == "/100%25")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/%zz%4") == "/%25zz%254")
        #expect(URIEncoding.canonicalPath(fromEncoded: "/%7Euser/%41") == "/~user/A")
        #expect(URIEncoding.encode("a/b c", keepSlash: false) == "a%2Fb%20c")
    }

    @Test func canonicalQueryStrings() {
        #expect(CanonicalQuery.canonicalize(encodedQuery: "") == "")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "lifecycle") == "lifecycle=")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "b=2&a=1&a=0") == "a=0&a=1&b=2")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "&&a=1&") == "a=1")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "a=b=c") == "a=b%3Dc")
        // Sorted by name first: "a" precedes "a-b" although "-" sorts before "=".
        #expect(CanonicalQuery.canonicalize(encodedQuery: "a-b=1&a=2") == "a=2&a-b=1")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "a_b=1&aB=2&a-b=3") == "a-b=3&aB=2&a_b=1")
        // "+" means a space in a query string; an encoded plus stays a plus.
        #expect(CanonicalQuery.canonicalize(encodedQuery: "prefix=a+b") == "prefix=a%20b")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "prefix=a%2Bb&x=%2f") == "prefix=a%2Bb&x=%2F")
        #expect(CanonicalQuery.canonicalize(encodedQuery: "k=ሴ") == "k=%E1%88%B4")
        #expect(
            CanonicalQuery.canonicalize(encodedQuery: "X-Amz-Signature=abc&a=1", excluding: ["X-Amz-Signature"])
                == "a=1")
        let parameters = CanonicalQuery.parameters(of: "a=1&b&c=%20x+y")
        #expect(parameters.map(\.name) == ["a", "b", "c"])
        #expect(parameters.map(\.value) == ["1", "", " x y"])
        #expect(
            CanonicalQuery.canonicalize(parameters: [.init(name: "z", value: "a b"), .init(name: "a", value: "/+")])
                == "a=%2F%2B&z=a%20b")
    }

    @Test func canonicalHeaderValues() {
        let headers: [(name: String, value: String)] = [
            ("Host", "example.com"), ("My-Header", "  a   b \t c  "), ("my-header", "second"), ("X-Empty", ""),
        ]
        #expect(
            CanonicalRequest.canonicalHeaders(names: ["host", "my-header", "x-empty", "x-absent"], headers: headers)
                == "host:example.com\nmy-header:a b c,second\nx-empty:\nx-absent:\n")
    }

    @Test func amzDates() throws {
        #expect(AmzDate.format(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(AmzDate.format(Date(timeIntervalSince1970: 1_369_353_600)) == "20130524T000000Z")
        #expect(AmzDate.format(Date(timeIntervalSince1970: 1_709_208_000.9)) == "20240229T120000Z")
        #expect(AmzDate.formatExtended(Date(timeIntervalSince1970: 1_369_353_600)) == "2013-05-24T00:00:00Z")
        #expect(AmzDate.parse("20130524T000000Z") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(AmzDate.parse("20240229T120000Z") == Date(timeIntervalSince1970: 1_709_208_000))
        for invalid in [
            "20130230T000000Z", "20131301T000000Z", "20130524T240000Z", "20130524T000000", "2013-05-24T00:00:00Z", "",
            "20130524X000000Z", "2013052４T000000Z",
        ] {
            #expect(AmzDate.parse(invalid) == nil, "\(invalid)")
        }
        #expect(AmzDate.parseHTTPDate("Fri, 24 May 2013 00:00:00 GMT") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(AmzDate.parseHTTPDate("20130524T000000Z") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(AmzDate.parseHTTPDate("Fri, 24 Foo 2013 00:00:00 GMT") == nil)
        #expect(AmzDate.parseHTTPDate("yesterday") == nil)
        // Extreme inputs are clamped, never a crash.
        #expect(AmzDate.format(.distantFuture).count == 16)
        #expect(AmzDate.format(Date(timeIntervalSince1970: .nan)) == "19700101T000000Z")
        #expect(AmzDate.format(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
    }

    @Test func amzDatesRoundTrip() {
        var generator = SeededGenerator(seed: 8)
        for _ in 0..<2000 {
            let seconds = TimeInterval(Int64.random(in: -2_000_000_000...6_000_000_000, using: &generator))
            let date = Date(timeIntervalSince1970: seconds)
            let text = AmzDate.format(date)
            #expect(AmzDate.parse(text) == date)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
                c.second ?? 0)
            #expect(text == expected)
        }
    }

    @Test func signingKeyCache() async {
        let cache = SigV4SigningKeyCache(capacity: 3)
        let direct = SigV4SigningKey(secretAccessKey: "s", date: "20240101", region: "r", service: "s3")
        #expect(cache.signingKey(secretAccessKey: "s", date: "20240101", region: "r", service: "s3") == direct)
        #expect(cache.signingKey(secretAccessKey: "s", date: "20240101", region: "r", service: "s3") == direct)
        #expect(cache.count == 1)
        for region in ["a", "b", "c"] {
            _ = cache.signingKey(secretAccessKey: "s", date: "20240101", region: region, service: "s3")
        }
        #expect(cache.count <= 3)
        #expect(cache.signingKey(secretAccessKey: "t", date: "20240101", region: "r", service: "s3") != direct)
        cache.removeAll()
        #expect(cache.count == 0)

        await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let region = "region-\(index % 5)"
                    let cached = cache.signingKey(secretAccessKey: "s", date: "20240101", region: region, service: "s3")
                    return cached
                        == SigV4SigningKey(secretAccessKey: "s", date: "20240101", region: region, service: "s3")
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect("\(direct)" == "SigV4SigningKey(<redacted>)")
    }

    @Test func payloadModes() throws {
        #expect(try SigV4PayloadMode(headerValue: "UNSIGNED-PAYLOAD") == .unsigned)
        #expect(try SigV4PayloadMode(headerValue: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == .streamingSigned)
        #expect(
            try SigV4PayloadMode(headerValue: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
                == .streamingSignedWithTrailer)
        #expect(
            try SigV4PayloadMode(headerValue: "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == .streamingUnsignedWithTrailer)
        #expect(
            try SigV4PayloadMode(headerValue: SigV4PayloadMode.emptySHA256) == .sha256(SigV4PayloadMode.emptySHA256))
        #expect(
            SigV4PayloadMode.sha256(of: Array("abc".utf8)).headerValue
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        for invalid in [
            "", "unsigned-payload", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", String(repeating: "g", count: 64),
            "abc",
        ] {
            #expect(
                sigV4Error { _ = try SigV4PayloadMode(headerValue: invalid) }?.code == .invalidArgument, "\(invalid)")
        }
        #expect(SigV4PayloadMode.streamingSigned.isStreaming && SigV4PayloadMode.streamingSigned.hasChunkSignatures)
        #expect(!SigV4PayloadMode.streamingSigned.hasTrailer)
        #expect(
            SigV4PayloadMode.streamingUnsignedWithTrailer.hasTrailer
                && !SigV4PayloadMode.streamingUnsignedWithTrailer.hasChunkSignatures)
        #expect(!SigV4PayloadMode.unsigned.isStreaming)
    }

    @Test func errorsMapToS3() {
        #expect(SigV4Error.Code.allCases.count == 16)
        #expect(SigV4Error.Code.signatureDoesNotMatch.rawValue == "SignatureDoesNotMatch")
        #expect(SigV4Error.Code.xAmzContentSHA256Mismatch.rawValue == "XAmzContentSHA256Mismatch")
        #expect(SigV4Error.Code.requestTimeTooSkewed.httpStatus == 403)
        #expect(SigV4Error.Code.authorizationHeaderMalformed.httpStatus == 400)
        let error = SigV4Error(.signatureDoesNotMatch, "no", details: [.init("CanonicalRequest", "GET\n/")])
        #expect(error.description == "SignatureDoesNotMatch: no")
        #expect(error.debugDescription.contains("CanonicalRequest: GET\n/"))
        #expect(error.detail("CanonicalRequest") == "GET\n/")
        #expect(error.httpStatus == 403)
    }

    @Test func credentialsDoNotPrintSecrets() {
        let credentials = SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SECRET", sessionToken: "TOKEN")
        #expect(!"\(credentials)".contains("SECRET"))
        #expect(!"\(credentials)".contains("TOKEN"))
        #expect("\(credentials)".contains("AK"))
    }
}
