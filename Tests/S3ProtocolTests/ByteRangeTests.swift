import S3Protocol
import Testing

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-99", ByteRange.closed(first: 0, last: 99)),
        ("bytes=100-", .from(first: 100)),
        ("bytes=-500", .suffix(length: 500)),
        ("BYTES=1-1", .closed(first: 1, last: 1)),
        (" bytes = 5-9 ", .closed(first: 5, last: 9)),
        ("bytes=0-99,", .closed(first: 0, last: 99)),
        ("bytes=99999999999999999999-", .from(first: Int64.max)),
    ])
    func parsesSingleRanges(header: String, expected: ByteRange) {
        #expect(ByteRange(rangeHeader: header) == expected)
    }

    @Test(arguments: [
        "bytes=0-1,3-4", "bytes=5-2", "bytes=-", "bytes=", "bytes=a-b", "items=0-1", "0-1", "bytes=1-2-3",
        "bytes=+1-2", "bytes=-+5", "", "bytes=1 -2",
    ])
    func ignoresWhatS3Ignores(header: String) {
        #expect(ByteRange(rangeHeader: header) == nil)
    }

    @Test func resolvesAgainstObjectSize() throws {
        #expect(try ByteRange.closed(first: 0, last: 99).resolve(objectSize: 1000)
            == ResolvedByteRange(first: 0, last: 99, objectSize: 1000))
        #expect(try ByteRange.closed(first: 990, last: 2000).resolve(objectSize: 1000).last == 999)
        #expect(try ByteRange.from(first: 999).resolve(objectSize: 1000).length == 1)
        #expect(try ByteRange.suffix(length: 10).resolve(objectSize: 1000).first == 990)
        #expect(try ByteRange.suffix(length: 5000).resolve(objectSize: 1000) == ResolvedByteRange(first: 0, last: 999, objectSize: 1000))
        let resolved = try ByteRange.closed(first: 10, last: 19).resolve(objectSize: 100)
        #expect(resolved.contentRange == "bytes 10-19/100")
        #expect(resolved.length == 10)
        #expect(ResolvedByteRange.unsatisfiedContentRange(objectSize: 100) == "bytes */100")
    }

    @Test(arguments: [
        (ByteRange.closed(first: 1000, last: 1001), Int64(1000)),
        (.from(first: 1000), 1000),
        (.suffix(length: 0), 1000),
        (.from(first: 0), 0),
        (.suffix(length: 1), 0),
        (.from(first: Int64.max), 10),
    ])
    func unsatisfiableRangesAreInvalidRange(range: ByteRange, size: Int64) {
        #expect(throws: S3Error.invalidRange(rangeRequested: range.headerValue, actualObjectSize: size)) {
            _ = try range.resolve(objectSize: size)
        }
    }

    @Test func copySourceRange() throws {
        let range = try CopySourceRange(headerValue: "bytes=0-5242879")
        #expect(range == CopySourceRange(first: 0, last: 5_242_879))
        #expect(try range.resolve(sourceSize: 5_242_880).length == 5_242_880)
        #expect(throws: S3Error.self) { _ = try range.resolve(sourceSize: 100) }
        for bad in ["bytes=5-", "bytes=-5", "bytes=5-1", "0-5", "bytes=0-1,2-3", ""] {
            #expect(throws: S3Error.self, "\(bad)") { _ = try CopySourceRange(headerValue: bad) }
        }
        do {
            _ = try CopySourceRange(headerValue: "bytes=5-")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error[detail: "ArgumentName"] == "x-amz-copy-source-range")
        }
    }
}
