import NIOCore
import S3Protocol
import Testing

@Suite struct S3ErrorTests {
    @Test func statusCodesMatchAWS() {
        let expected: [S3ErrorCode: Int] = [
            .accessDenied: 403, .accountProblem: 403, .badDigest: 400, .bucketAlreadyExists: 409,
            .bucketAlreadyOwnedByYou: 409, .bucketNotEmpty: 409, .entityTooLarge: 400, .entityTooSmall: 400,
            .incompleteBody: 400, .internalError: 500, .invalidAccessKeyId: 403, .invalidArgument: 400,
            .invalidBucketName: 400, .invalidBucketState: 409, .invalidDigest: 400, .invalidObjectState: 403,
            .invalidPart: 400, .invalidPartOrder: 400, .invalidRange: 416, .invalidRequest: 400,
            .invalidRetentionPeriod: 400, .invalidStorageClass: 400, .invalidTag: 400, .keyTooLongError: 400,
            .malformedXML: 400, .methodNotAllowed: 405, .missingContentLength: 411,
            .missingRequestBodyError: 400, .missingSecurityHeader: 400, .noSuchBucket: 404, .noSuchKey: 404,
            .noSuchUpload: 404, .noSuchVersion: 404, .noSuchTagSet: 404, .noSuchObjectLockConfiguration: 404,
            .objectLockConfigurationNotFoundError: 404, .notImplemented: 501, .preconditionFailed: 412,
            .notModified: 304, .requestTimeTooSkewed: 403, .signatureDoesNotMatch: 403,
            .authorizationHeaderMalformed: 400, .authorizationQueryParametersError: 400,
            .serviceUnavailable: 503, .slowDown: 503, .xAmzContentSHA256Mismatch: 400,
            .invalidLocationConstraint: 400, .malformedPOSTRequest: 400, .requestHeaderSectionTooLarge: 400,
            .metadataTooLarge: 400, .operationAborted: 409, .illegalVersioningConfigurationException: 400,
            .noSuchLifecycleConfiguration: 404, .serverSideEncryptionConfigurationNotFoundError: 404,
            .noSuchBucketPolicy: 404, .noSuchCORSConfiguration: 404, .invalidPartNumber: 416,
            .conditionalRequestConflict: 409, .permanentRedirect: 301, .temporaryRedirect: 307,
        ]
        for (code, status) in expected {
            #expect(code.httpStatus == status, "\(code.rawValue)")
        }
    }

    @Test func everyCodeHasAMessageAndRoundTripsItsName() {
        for code in S3ErrorCode.allCases {
            #expect(!code.defaultMessage.isEmpty)
            #expect(S3ErrorCode(rawValue: code.rawValue) == code)
            #expect(code.rawValue.first?.isUppercase == true)
        }
        #expect(!S3ErrorCode.notModified.hasResponseBody)
        #expect(S3ErrorCode.noSuchKey.hasResponseBody)
    }

    @Test func rendersErrorDocument() {
        let error = S3Error.noSuchKey("photos/a&b.jpg")
        #expect(error.xmlBody(requestId: "REQ1", hostId: "HOST1") == xmlDeclaration
            + "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
            + "<Key>photos/a&amp;b.jpg</Key><RequestId>REQ1</RequestId><HostId>HOST1</HostId></Error>")
    }

    @Test func rendersResourceAndStoredRequestId() {
        let error = S3Error(.accessDenied, resource: "/bucket/key", requestId: "R")
        #expect(error.xmlBody() == xmlDeclaration
            + "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
            + "<Resource>/bucket/key</Resource><RequestId>R</RequestId></Error>")
        #expect(error.xmlBody(requestId: "OVERRIDE").contains("<RequestId>OVERRIDE</RequestId>"))
    }

    @Test func invalidArgumentAndRangeDetails() {
        let argument = S3Error.invalidArgument("Bad", name: "max-keys", value: "-1")
        #expect(argument[detail: "ArgumentName"] == "max-keys")
        #expect(argument[detail: "ArgumentValue"] == "-1")
        #expect(argument.xmlBody().contains("<Message>Bad</Message><ArgumentName>max-keys</ArgumentName><ArgumentValue>-1</ArgumentValue>"))
        let range = S3Error.invalidRange(rangeRequested: "bytes=10-20", actualObjectSize: 5)
        #expect(range.httpStatus == 416)
        #expect(range.xmlBody().contains("<RangeRequested>bytes=10-20</RangeRequested><ActualObjectSize>5</ActualObjectSize>"))
    }

    @Test func byteBufferMatchesString() {
        let error = S3Error(.slowDown)
        let buffer = error.xmlByteBuffer(requestId: "x")
        #expect(String(buffer: buffer) == error.xmlBody(requestId: "x"))
    }

    @Test func descriptionMentionsCodeAndStatus() {
        #expect(S3Error.preconditionFailed(condition: "If-Match").description
            == "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold Condition=If-Match")
    }
}
