#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ISO 8601 timestamps as S3 writes them (`2024-01-02T03:04:05.000Z`) and reads them.
///
/// Formatting always produces UTC with exactly three fractional digits.
/// Parsing accepts `YYYY-MM-DDTHH:MM:SS`, an optional fraction of any length,
/// and a required zone designator: `Z` or an offset `±HH:MM` / `±HHMM` / `±HH`.
public enum ISO8601Timestamp {
    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the formatted timestamp's UTF-8 bytes to `bytes` without allocating a `String`.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
        let t = UTCDateTime(date)
        ASCIIDigits.append(t.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        ASCIIDigits.append(t.month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        ASCIIDigits.append(t.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        ASCIIDigits.append(t.hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIDigits.append(t.minute, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIDigits.append(t.second, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        ASCIIDigits.append(t.millisecond, width: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses an ISO 8601 timestamp with or without fractional seconds.
    ///
    /// Returns nil for anything else, including out-of-range fields and timestamps without a zone.
    public static func parse(_ string: some StringProtocol) -> Date? {
        let b = Array(string.utf8)
        guard b.count >= 20,
              let year = ASCIIDigits.read(b, at: 0, count: 4), b[4] == UInt8(ascii: "-"),
              let month = ASCIIDigits.read(b, at: 5, count: 2), b[7] == UInt8(ascii: "-"),
              let day = ASCIIDigits.read(b, at: 8, count: 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = ASCIIDigits.read(b, at: 11, count: 2), b[13] == UInt8(ascii: ":"),
              let minute = ASCIIDigits.read(b, at: 14, count: 2), b[16] == UInt8(ascii: ":"),
              let second = ASCIIDigits.read(b, at: 17, count: 2)
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, ASCIIDigits.isDigit(b[i]) {
                if i - start < 12 { fraction += Double(b[i] - 0x30) * scale }
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offsetMinutes = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = ASCIIDigits.read(b, at: i + 1, count: 2), oh <= 23 else { return nil }
            i += 3
            var om = 0
            if i < b.count {
                if b[i] == UInt8(ascii: ":") { i += 1 }
                guard let m = ASCIIDigits.read(b, at: i, count: 2), m <= 59 else { return nil }
                om = m
                i += 2
            }
            offsetMinutes = sign * (oh * 60 + om)
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let t = UTCDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard t.isValid else { return nil }
        let seconds = Double(t.epochMilliseconds / 1000 - Int64(offsetMinutes * 60))
        return Date(timeIntervalSince1970: seconds + fraction)
    }
}
