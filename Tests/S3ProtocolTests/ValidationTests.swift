import S3Protocol
import Testing

@Suite struct BucketNameValidationTests {
    @Test(arguments: [
        "abc", "my-bucket", "my.bucket.name", "a1b2c3", "123", String(repeating: "a", count: 63), "xn-a", "s3alias",
        "1.2.3", "1.2.3.4.5", "bucket-s3alia",
    ])
    func acceptsValidNames(name: String) {
        #expect(BucketNameValidator.violation(in: name) == nil)
    }

    @Test(arguments: [
        ("ab", BucketNameViolation.tooShort),
        ("", .tooShort),
        (String(repeating: "a", count: 64), .tooLong),
        ("MyBucket", .invalidCharacter),
        ("my_bucket", .invalidCharacter),
        ("my bucket", .invalidCharacter),
        ("bücket", .invalidCharacter),
        ("-bucket", .invalidStartOrEnd),
        ("bucket-", .invalidStartOrEnd),
        (".bucket", .invalidStartOrEnd),
        ("bucket.", .invalidStartOrEnd),
        ("my..bucket", .invalidDotPlacement),
        ("my.-bucket", .invalidDotPlacement),
        ("my-.bucket", .invalidDotPlacement),
        ("192.168.5.4", .ipAddressFormat),
        ("1.2.3.4", .ipAddressFormat),
        ("xn--bucket", .reservedPrefix),
        ("sthree-bucket", .reservedPrefix),
        ("amzn-s3-demo-bucket", .reservedPrefix),
        ("bucket-s3alias", .reservedSuffix),
        ("bucket--ol-s3", .reservedSuffix),
        ("bucket.mrap", .reservedSuffix),
        ("bucket--x-s3", .reservedSuffix),
        ("bucket--table-s3", .reservedSuffix),
    ])
    func rejectsInvalidNames(name: String, violation: BucketNameViolation) {
        #expect(BucketNameValidator.violation(in: name) == violation)
        #expect(!BucketNameValidator.isValid(name))
    }

    @Test func validateThrowsInvalidBucketName() {
        #expect(throws: S3Error.invalidBucketName("Bad")) { try BucketNameValidator.validate("Bad") }
    }
}

@Suite struct ObjectKeyValidationTests {
    @Test func acceptsKeys() {
        #expect(ObjectKeyValidator.violation(in: "a") == nil)
        #expect(ObjectKeyValidator.violation(in: String(repeating: "k", count: 1024)) == nil)
        #expect(ObjectKeyValidator.violation(in: String(repeating: "é", count: 512)) == nil)
        #expect(ObjectKeyValidator.violation(in: " spaces / and / slashes / ") == nil)
        #expect(ObjectKeyValidator.violation(in: "\u{1}control") == nil)
    }

    @Test func reportsWhichRuleFailed() {
        #expect(ObjectKeyValidator.violation(in: "") == .empty)
        #expect(ObjectKeyValidator.violation(in: String(repeating: "k", count: 1025)) == .tooLong(byteCount: 1025))
        #expect(ObjectKeyValidator.violation(in: String(repeating: "é", count: 513)) == .tooLong(byteCount: 1026))
        #expect(ObjectKeyValidator.violation(in: "a\u{0}b") == .containsNUL)
        #expect(ObjectKeyValidator.validate(bytes: [0x61, 0xFF]) == .failure(.invalidUTF8))
        #expect(ObjectKeyValidator.validate(bytes: [0x61, 0x00]) == .failure(.containsNUL))
        #expect(ObjectKeyValidator.validate(bytes: []) == .failure(.empty))
        #expect(ObjectKeyValidator.validate(bytes: Array("ok".utf8)) == .success("ok"))
    }

    @Test func decodesPercentEncodedKeys() {
        #expect(ObjectKeyValidator.decodeAndValidate(percentEncoded: "a%20b+c%2Fd") == .success("a b+c/d"))
        #expect(ObjectKeyValidator.decodeAndValidate(percentEncoded: "a%00b") == .failure(.containsNUL))
        #expect(ObjectKeyValidator.decodeAndValidate(percentEncoded: "a%FFb") == .failure(.invalidUTF8))
        #expect(ObjectKeyValidator.decodeAndValidate(percentEncoded: "a%G0") == .failure(.invalidUTF8))
    }

    @Test func violationsMapToS3Errors() {
        #expect(ObjectKeyViolation.tooLong(byteCount: 2000).s3Error == S3Error.keyTooLong(size: 2000, maxSizeAllowed: 1024))
        #expect(ObjectKeyViolation.containsNUL.s3Error.code == .invalidArgument)
        #expect(ObjectKeyViolation.invalidUTF8.s3Error.code == .invalidURI)
        #expect(ObjectKeyViolation.empty.s3Error.code == .invalidArgument)
    }
}
