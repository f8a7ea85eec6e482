#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import S3Protocol
import Testing

@Suite struct DateTests {
    @Test func formatsISO8601WithMilliseconds() {
        #expect(ISO8601Timestamp.format(sampleDate) == "2024-01-02T03:04:05.000Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 1e20)) == "9999-12-31T23:59:59.999Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: .nan)).count == 24)
    }

    @Test(arguments: [
        ("2024-01-02T03:04:05Z", 1_704_164_645.0),
        ("2024-01-02T03:04:05.000Z", 1_704_164_645.0),
        ("2024-01-02T03:04:05.5Z", 1_704_164_645.5),
        ("2024-01-02T03:04:05.123456789Z", 1_704_164_645.123456789),
        ("2024-01-02T05:04:05+02:00", 1_704_164_645.0),
        ("2024-01-01T22:04:05-0500", 1_704_164_645.0),
        ("2024-01-02T03:04:05+00", 1_704_164_645.0),
        ("2024-01-02t03:04:05z", 1_704_164_645.0),
    ])
    func parsesISO8601(text: String, seconds: Double) throws {
        let date = try #require(ISO8601Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(arguments: [
        "2024-01-02T03:04:05", "2024-01-02 03:04:05Z", "2024-13-02T03:04:05Z", "2023-02-29T00:00:00Z",
        "2024-01-02T24:00:00Z", "2024-01-02T03:04:60Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+25:00",
        "24-01-02T03:04:05Z", "", "2024-01-02T03:04:05Zjunk", "２０２４-01-02T03:04:05Z",
    ])
    func rejectsInvalidISO8601(text: String) {
        #expect(ISO8601Timestamp.parse(text) == nil)
    }

    @Test func iso8601RoundTripsAtMillisecondPrecision() throws {
        var generator = SplitMix64(seed: 1)
        for _ in 0..<1000 {
            let ms = Int64.random(in: -62_000_000_000_000...253_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            let parsed = try #require(ISO8601Timestamp.parse(ISO8601Timestamp.format(date)))
            #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.0005)
        }
    }

    @Test func formatsHTTPDate() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(sampleDate) == "Tue, 02 Jan 2024 03:04:05 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 951_868_799.9)) == "Tue, 29 Feb 2000 23:59:59 GMT")
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        " Sun, 06 Nov 1994 08:49:37 GMT ",
    ])
    func parsesAllHTTPDateForms(text: String) throws {
        let date = try #require(HTTPDate.parse(text))
        #expect(date.timeIntervalSince1970 == 784_111_777)
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "", "2024-01-02T03:04:05Z", "Sun, 06 Nov 1994 25:49:37 GMT",
    ])
    func rejectsInvalidHTTPDates(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func rfc850TwoDigitYears() throws {
        let date = try #require(HTTPDate.parse("Tuesday, 02-Jan-24 03:04:05 GMT"))
        #expect(date == sampleDate)
    }

    @Test func httpDateRoundTrips() throws {
        var generator = SplitMix64(seed: 2)
        for _ in 0..<1000 {
            let seconds = Int64.random(in: 0...253_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(seconds))
            let parsed = try #require(HTTPDate.parse(HTTPDate.format(date)))
            #expect(parsed == date)
        }
    }
}
