#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP dates (RFC 9110 §5.6.7): formatting as IMF-fixdate, parsing all three historical forms.
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years 70...99 are 19xx, 00...69 are 20xx)
/// - asctime: `Sun Nov  6 08:49:37 1994`
///
/// The day name is checked for spelling but not against the date, as RFC 9110 allows.
public enum HTTPDate {
    static let dayNames: [[UInt8]] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    static let longDayNames: [[UInt8]] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        .map { Array($0.utf8) }
    static let monthNames: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// Formats `date` (truncated to whole seconds) as an IMF-fixdate.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the IMF-fixdate for `date` to `bytes`.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
        let t = UTCDateTime(date)
        bytes.append(contentsOf: dayNames[t.weekday])
        bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")])
        ASCIIDigits.append(t.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: monthNames[t.month - 1])
        bytes.append(UInt8(ascii: " "))
        ASCIIDigits.append(t.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        appendTime(t, to: &bytes)
        bytes.append(contentsOf: Array(" GMT".utf8))
    }

    /// Parses an HTTP date in any of the three accepted forms; nil when invalid.
    public static func parse(_ string: some StringProtocol) -> Date? {
        var b = Array(string.utf8)
        // Tolerate surrounding whitespace, which header values may carry.
        while let last = b.last, last == 0x20 || last == 0x09 { b.removeLast() }
        let leading = b.prefix { $0 == 0x20 || $0 == 0x09 }.count
        if leading > 0 { b.removeFirst(leading) }
        guard b.count >= 24 else { return nil }
        if b[3] == UInt8(ascii: ",") { return parseIMFFixdate(b) }
        if b[3] == UInt8(ascii: " ") { return parseAsctime(b) }
        return parseRFC850(b)
    }

    // MARK: - Private

    private static func appendTime(_ t: UTCDateTime, to bytes: inout [UInt8]) {
        ASCIIDigits.append(t.hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIDigits.append(t.minute, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIDigits.append(t.second, width: 2, to: &bytes)
    }

    private static func matches(_ b: [UInt8], at index: Int, _ word: [UInt8]) -> Bool {
        guard index >= 0, index + word.count <= b.count else { return false }
        return b[index..<(index + word.count)].elementsEqual(word)
    }

    private static func month(_ b: [UInt8], at index: Int) -> Int? {
        monthNames.firstIndex { matches(b, at: index, $0) }.map { $0 + 1 }
    }

    /// Reads `HH:MM:SS` at `index`.
    private static func time(_ b: [UInt8], at i: Int) -> (Int, Int, Int)? {
        guard let h = ASCIIDigits.read(b, at: i, count: 2), matches(b, at: i + 2, [UInt8(ascii: ":")]),
              let m = ASCIIDigits.read(b, at: i + 3, count: 2), matches(b, at: i + 5, [UInt8(ascii: ":")]),
              let s = ASCIIDigits.read(b, at: i + 6, count: 2)
        else { return nil }
        return (h, m, s)
    }

    private static func makeDate(_ y: Int, _ mo: Int, _ d: Int, _ time: (Int, Int, Int)) -> Date? {
        let t = UTCDateTime(year: y, month: mo, day: d, hour: time.0, minute: time.1, second: time.2)
        return t.isValid ? t.date : nil
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    private static func parseIMFFixdate(_ b: [UInt8]) -> Date? {
        guard b.count == 29, dayNames.contains(where: { matches(b, at: 0, $0) }),
              b[4] == 0x20, let d = ASCIIDigits.read(b, at: 5, count: 2), b[7] == 0x20,
              let mo = month(b, at: 8), b[11] == 0x20,
              let y = ASCIIDigits.read(b, at: 12, count: 4), b[16] == 0x20,
              let t = time(b, at: 17), matches(b, at: 25, Array(" GMT".utf8))
        else { return nil }
        return makeDate(y, mo, d, t)
    }

    /// `Sunday, 06-Nov-94 08:49:37 GMT`
    private static func parseRFC850(_ b: [UInt8]) -> Date? {
        guard let name = longDayNames.first(where: { matches(b, at: 0, $0) }) else { return nil }
        var i = name.count
        guard matches(b, at: i, Array(", ".utf8)) else { return nil }
        i += 2
        guard b.count == i + 22, let d = ASCIIDigits.read(b, at: i, count: 2), b[i + 2] == UInt8(ascii: "-"),
              let mo = month(b, at: i + 3), b[i + 6] == UInt8(ascii: "-"),
              let yy = ASCIIDigits.read(b, at: i + 7, count: 2), b[i + 9] == 0x20,
              let t = time(b, at: i + 10), matches(b, at: i + 18, Array(" GMT".utf8))
        else { return nil }
        return makeDate(yy < 70 ? 2000 + yy : 1900 + yy, mo, d, t)
    }

    /// `Sun Nov  6 08:49:37 1994`
    private static func parseAsctime(_ b: [UInt8]) -> Date? {
        guard b.count == 24, dayNames.contains(where: { matches(b, at: 0, $0) }),
              let mo = month(b, at: 4), b[7] == 0x20
        else { return nil }
        let d: Int
        if b[8] == 0x20, let single = ASCIIDigits.read(b, at: 9, count: 1) {
            d = single
        } else if let double = ASCIIDigits.read(b, at: 8, count: 2) {
            d = double
        } else {
            return nil
        }
        guard b[10] == 0x20, let t = time(b, at: 11), b[19] == 0x20,
              let y = ASCIIDigits.read(b, at: 20, count: 4)
        else { return nil }
        return makeDate(y, mo, d, t)
    }
}
