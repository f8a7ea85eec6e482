import Foundation
import SigV4
import Testing

/// The worked examples of the S3 API reference (`Vectors/s3-examples`):
/// GET Object, PUT Object, GET Bucket Lifecycle, GET Bucket (List Objects),
/// the chunked PUT Object (with and without trailer) and the presigned GET.
@Suite struct S3ExampleVectorTests {
    static let vectors = TestVector.load(suite: "s3-examples")
    static let headerSigned = vectors.filter { $0.authorization != nil }

    @Test func theExamplesAreThere() {
        #expect(Self.vectors.count == 7)
        #expect(Self.headerSigned.count == 6)
    }

    @Test(arguments: headerSigned)
    func signerReproducesTheExamples(_ vector: TestVector) throws {
        let request = vector.request
        let signer = SigV4Signer(credentials: Fixtures.s3Credentials, region: "us-east-1", keyCache: nil)
        let payload = try SigV4PayloadMode(headerValue: try #require(request.header("x-amz-content-sha256")))
        let signed = signer.sign(
            SigV4SigningRequest(
                method: request.method, host: try #require(request.header("host")), encodedPath: request.path,
                encodedQuery: request.query, headers: request.headers.filter { $0.name.lowercased() != "host" }),
            payload: payload, date: Fixtures.s3Date)
        #expect(signed.canonicalRequest == vector.canonicalRequest)
        #expect(signed.stringToSign == vector.stringToSign)
        #expect(signed.authorization == vector.authorization)
    }

    @Test(arguments: headerSigned)
    func verifierAcceptsTheExamples(_ vector: TestVector) throws {
        let request = vector.request
        let incoming = SigV4IncomingRequest(
            method: request.method, target: request.target,
            headers: request.headers + [("Authorization", try #require(vector.authorization))])
        let verified = try SigV4Verifier().verify(incoming, now: Fixtures.s3Date) { accessKeyID in
            accessKeyID == Fixtures.s3Credentials.accessKeyID ? Fixtures.s3Credentials.secretAccessKey : nil
        }
        #expect(verified.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(verified.scope == SigV4Scope(date: "20130524", region: "us-east-1", service: "s3"))
        #expect(verified.amzDate == "20130524T000000Z")
        #expect(!verified.isPresigned)
        #expect(verified.signature == vector.authorization?.components(separatedBy: "Signature=").last)
    }

    @Test func getObjectExample() throws {
        let vector = try #require(Self.vectors.first { $0.name == "get-object" })
        #expect(
            vector.authorization?.hasSuffix("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == true)
    }

    @Test func putObjectExampleEncodesTheDollarSign() throws {
        let vector = try #require(Self.vectors.first { $0.name == "put-object" })
        #expect(vector.canonicalRequest.contains("\n/test%24file.text\n"))
        #expect(
            vector.authorization?.hasSuffix("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == true)
    }

    @Test func streamingExampleSeedSignature() throws {
        let vector = try #require(Self.vectors.first { $0.name == "put-object-chunked" })
        #expect(
            vector.authorization?.hasSuffix("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9") == true)
    }

    @Test func presignedExampleVerifies() throws {
        let vector = try #require(Self.vectors.first { $0.name == "presigned-get-object" })
        let incoming = SigV4IncomingRequest(
            method: "GET", target: vector.request.target, headers: vector.request.headers)
        #expect(SigV4AuthenticationKind(of: incoming) == .presignedURL)
        let verifier = SigV4Verifier()
        let parsed = try verifier.parse(incoming, now: Fixtures.s3Date.addingTimeInterval(3600))
        #expect(parsed.canonicalRequest == vector.canonicalRequest)
        #expect(parsed.stringToSign == vector.stringToSign)
        #expect(parsed.expires == 86400)
        let verified = try verifier.verify(parsed, secretAccessKey: Fixtures.s3Credentials.secretAccessKey)
        #expect(verified.isPresigned)
        #expect(verified.payload == .unsigned)
        #expect(verified.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func presignerReproducesTheExample() throws {
        let vector = try #require(Self.vectors.first { $0.name == "presigned-get-object" })
        let signer = SigV4Signer(credentials: Fixtures.s3Credentials, region: "us-east-1")
        let presigned = try signer.presign(
            SigV4SigningRequest(method: "GET", host: "examplebucket.s3.amazonaws.com", rawPath: "/test.txt"),
            expires: 86400, date: Fixtures.s3Date)
        #expect(presigned.canonicalRequest == vector.canonicalRequest)
        #expect(presigned.target == vector.request.target)
        #expect(
            presigned.url()
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}
