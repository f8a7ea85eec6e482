import Foundation

/// Hand-written formatting and parsing of the timestamps SigV4 uses.
///
/// Foundation's date formatters are slow and locale-sensitive; signing and
/// verifying run on every request, so dates are converted with plain integer
/// arithmetic (proleptic Gregorian calendar, UTC only).
package enum AmzDate {
    /// Broken-down UTC time.
    package struct Components: Equatable, Sendable {
        package var year: Int
        package var month: Int
        package var day: Int
        package var hour: Int
        package var minute: Int
        package var second: Int
    }

    /// Formats `date` as `yyyyMMdd'T'HHmmss'Z'` (the `x-amz-date` format).
    package static func format(_ date: Date) -> String {
        let c = components(of: date)
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        append(c.year, digits: 4, to: &bytes)
        append(c.month, digits: 2, to: &bytes)
        append(c.day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        append(c.hour, digits: 2, to: &bytes)
        append(c.minute, digits: 2, to: &bytes)
        append(c.second, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Formats `date` as ISO 8601 extended, `yyyy-MM-dd'T'HH:mm:ss'Z'`, as S3 error bodies show times.
    package static func formatExtended(_ date: Date) -> String {
        let c = components(of: date)
        var bytes = [UInt8]()
        bytes.reserveCapacity(20)
        append(c.year, digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(c.month, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(c.day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        append(c.hour, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(c.minute, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(c.second, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `yyyyMMdd'T'HHmmss'Z'`; `nil` for anything else, including impossible dates.
    package static func parse(_ text: some StringProtocol) -> Date? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 16, utf8[8] == UInt8(ascii: "T"), utf8[15] == UInt8(ascii: "Z"),
            let year = number(utf8, 0, 4), let month = number(utf8, 4, 2), let day = number(utf8, 6, 2),
            let hour = number(utf8, 9, 2), let minute = number(utf8, 11, 2), let second = number(utf8, 13, 2)
        else { return nil }
        return date(from: Components(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// Parses the `Date` header: RFC 1123 (`Fri, 24 May 2013 00:00:00 GMT`) or the `x-amz-date` format.
    package static func parseHTTPDate(_ text: some StringProtocol) -> Date? {
        let trimmed = text.trimmingOWS()
        if let date = parse(trimmed) { return date }
        // "Fri, 24 May 2013 00:00:00 GMT"
        let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" || parts[5] == "UTC" || parts[5] == "+0000",
            let day = Int(parts[1]), let month = monthNumber(parts[2]), let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let time = Array(parts[4].utf8)
        guard time.count == 8, time[2] == UInt8(ascii: ":"), time[5] == UInt8(ascii: ":"),
            let hour = number(time, 0, 2), let minute = number(time, 3, 2), let second = number(time, 6, 2)
        else { return nil }
        return date(from: Components(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// The UTC components of `date` (clamped to years 0...9999).
    package static func components(of date: Date) -> Components {
        var interval = date.timeIntervalSince1970
        if !interval.isFinite { interval = 0 }
        // Years 0000 and 9999 bound the 4-digit format.
        interval = min(max(interval, -62_167_219_200), 253_402_300_799)
        let seconds = Int64(interval.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        return Components(
            year: year, month: month, day: day,
            hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60, second: secondOfDay % 60
        )
    }

    /// The instant named by `c`, or `nil` if a field is out of range.
    package static func date(from c: Components) -> Date? {
        guard (1...12).contains(c.month), (0...23).contains(c.hour), (0...59).contains(c.minute),
            (0...59).contains(c.second), c.day >= 1, c.day <= daysIn(month: c.month, year: c.year)
        else { return nil }
        let days = daysFromCivil(year: c.year, month: c.month, day: c.day)
        let seconds = days * 86_400 + Int64(c.hour * 3600 + c.minute * 60 + c.second)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    // MARK: - Calendar arithmetic (Howard Hinnant's algorithms)

    private static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func monthNumber(_ name: Substring) -> Int? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return months.firstIndex(of: String(name)).map { $0 + 1 }
    }

    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            let digit = bytes[index]
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    private static func append(_ value: Int, digits: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
            remaining %= divisor
            divisor /= 10
        }
    }
}
