#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import S3Protocol
import Testing

@Suite struct ConditionalHeadersTests {
    let eTag = "\"abc\""
    /// Sun, 06 Nov 1994 08:49:37 GMT
    let modified = Date(timeIntervalSince1970: 784_111_777.4)
    let before = "Sun, 06 Nov 1994 08:49:36 GMT"
    let same = "Sun, 06 Nov 1994 08:49:37 GMT"
    let after = "Sun, 06 Nov 1994 08:49:38 GMT"

    func outcome(_ headers: ConditionalHeaders) -> ConditionalHeaders.Outcome {
        headers.evaluate(eTag: eTag, lastModified: modified)
    }

    @Test func noConditionsProceed() {
        #expect(ConditionalHeaders().isEmpty)
        #expect(outcome(ConditionalHeaders()) == .proceed)
    }

    @Test func ifMatch() {
        #expect(outcome(.init(ifMatch: "\"abc\"")) == .proceed)
        #expect(outcome(.init(ifMatch: "abc")) == .proceed)
        #expect(outcome(.init(ifMatch: "\"x\", \"abc\"")) == .proceed)
        #expect(outcome(.init(ifMatch: "*")) == .proceed)
        #expect(outcome(.init(ifMatch: "\"x\"")) == .preconditionFailed(condition: "If-Match"))
    }

    @Test func ifNoneMatch() {
        #expect(outcome(.init(ifNoneMatch: "\"abc\"")) == .notModified)
        #expect(outcome(.init(ifNoneMatch: "W/\"abc\"")) == .notModified)
        #expect(outcome(.init(ifNoneMatch: "*")) == .notModified)
        #expect(outcome(.init(ifNoneMatch: "\"x\"")) == .proceed)
    }

    @Test func dates() {
        #expect(outcome(.init(ifModifiedSince: before)) == .proceed)
        #expect(outcome(.init(ifModifiedSince: same)) == .notModified)
        #expect(outcome(.init(ifModifiedSince: after)) == .notModified)
        #expect(outcome(.init(ifUnmodifiedSince: before)) == .preconditionFailed(condition: "If-Unmodified-Since"))
        #expect(outcome(.init(ifUnmodifiedSince: same)) == .proceed)
        #expect(outcome(.init(ifModifiedSince: "garbage")) == .proceed)
        #expect(outcome(.init(ifUnmodifiedSince: "garbage")) == .proceed)
        #expect(outcome(.init(ifModifiedSince: "Sunday, 06-Nov-94 08:49:37 GMT")) == .notModified)
        #expect(outcome(.init(ifModifiedSince: "Sun Nov  6 08:49:37 1994")) == .notModified)
    }

    @Test func ifModifiedSinceInTheFutureIsIgnoredWhenNowIsGiven() {
        let headers = ConditionalHeaders(ifModifiedSince: "Mon, 01 Jan 2face 00:00:00 GMT")
        #expect(headers.evaluate(eTag: eTag, lastModified: modified, now: modified) == .proceed)
        let future = ConditionalHeaders(ifModifiedSince: "Mon, 07 Nov 1994 08:49:37 GMT")
        #expect(future.evaluate(eTag: eTag, lastModified: modified) == .notModified)
        #expect(future.evaluate(eTag: eTag, lastModified: modified, now: modified) == .proceed)
    }

    @Test func precedenceFollowsRFCAndS3() {
        // If-Match true + If-Unmodified-Since false → 200.
        #expect(outcome(.init(ifMatch: eTag, ifUnmodifiedSince: before)) == .proceed)
        // If-Match false wins over everything.
        #expect(outcome(.init(ifMatch: "\"x\"", ifNoneMatch: "\"x\"")) == .preconditionFailed(condition: "If-Match"))
        // If-None-Match false + If-Modified-Since true(not modified) → 304 per S3 docs wording means: matches → 304.
        #expect(outcome(.init(ifNoneMatch: eTag, ifModifiedSince: before)) == .notModified)
        // If-None-Match does not match → If-Modified-Since is skipped.
        #expect(outcome(.init(ifNoneMatch: "\"x\"", ifModifiedSince: after)) == .proceed)
        // If-Unmodified-Since failure beats If-None-Match.
        #expect(outcome(.init(ifNoneMatch: eTag, ifUnmodifiedSince: before)) == .preconditionFailed(condition: "If-Unmodified-Since"))
    }

    @Test func copySourceConditionsNeverAnswer304() {
        let match = ConditionalHeaders(ifNoneMatch: eTag)
        #expect(match.evaluateCopySource(eTag: eTag, lastModified: modified)
            == .preconditionFailed(condition: "x-amz-copy-source-If-None-Match"))
        let modifiedSince = ConditionalHeaders(ifModifiedSince: after)
        #expect(modifiedSince.evaluateCopySource(eTag: eTag, lastModified: modified)
            == .preconditionFailed(condition: "x-amz-copy-source-If-Modified-Since"))
        let ifMatch = ConditionalHeaders(ifMatch: eTag, ifUnmodifiedSince: before)
        #expect(ifMatch.evaluateCopySource(eTag: eTag, lastModified: modified) == .proceed)
    }

    @Test func outcomeErrors() {
        #expect(ConditionalHeaders.Outcome.proceed.error == nil)
        #expect(ConditionalHeaders.Outcome.notModified.error?.httpStatus == 304)
        #expect(ConditionalHeaders.Outcome.preconditionFailed(condition: "If-Match").error?[detail: "Condition"] == "If-Match")
    }
}

@Suite struct ConditionalWriteAndLookupTests {
    @Test func readsHeadersThroughLookup() {
        let headers = ["If-Match": "\"a\"", "x-amz-copy-source-if-none-match": "\"b\""]
        let request = ConditionalHeaders(requestHeader: { headers[$0] })
        #expect(request == ConditionalHeaders(ifMatch: "\"a\""))
        let copy = ConditionalHeaders(copySourceHeader: { headers[$0] })
        #expect(copy == ConditionalHeaders(ifNoneMatch: "\"b\""))
    }

    @Test func conditionalWrites() {
        let create = ConditionalHeaders(ifNoneMatch: "*")
        #expect(create.evaluateWrite(currentETag: nil, key: "k") == nil)
        #expect(create.evaluateWrite(currentETag: "\"e\"", key: "k")?.code == .preconditionFailed)
        #expect(ConditionalHeaders(ifNoneMatch: "\"e\"").evaluateWrite(currentETag: nil, key: "k")?.code == .notImplemented)
        let replace = ConditionalHeaders(ifMatch: "\"e\"")
        #expect(replace.evaluateWrite(currentETag: "\"e\"", key: "k") == nil)
        #expect(replace.evaluateWrite(currentETag: "\"f\"", key: "k")?.code == .preconditionFailed)
        #expect(replace.evaluateWrite(currentETag: nil, key: "k") == S3Error.noSuchKey("k"))
        #expect(ConditionalHeaders(ifModifiedSince: "garbage").evaluateWrite(currentETag: "\"e\"", key: "k") == nil)
    }
}
