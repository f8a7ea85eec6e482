#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Broken-down UTC calendar time with millisecond precision.
///
/// Conversions use Howard Hinnant's days-from-civil algorithms on the
/// proleptic Gregorian calendar, so no `Calendar` or `DateFormatter` is needed.
/// Years are clamped to `0...9999` so every value has a four-digit year.
struct UTCDateTime: Hashable, Sendable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var millisecond: Int

    /// Milliseconds since the Unix epoch of `0000-01-01T00:00:00.000Z`.
    static let minimumEpochMilliseconds: Int64 = -62_167_219_200_000
    /// Milliseconds since the Unix epoch of `9999-12-31T23:59:59.999Z`.
    static let maximumEpochMilliseconds: Int64 = 253_402_300_799_999

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// Breaks `date` down, rounding to the nearest millisecond and clamping to years 0...9999.
    init(_ date: Date) {
        self.init(epochMilliseconds: Self.epochMilliseconds(of: date))
    }

    init(epochMilliseconds: Int64) {
        let ms = min(max(epochMilliseconds, Self.minimumEpochMilliseconds), Self.maximumEpochMilliseconds)
        let (days, msOfDay) = Self.floorDivide(ms, 86_400_000)
        let civil = Self.civil(fromDays: Int(days))
        year = civil.year
        month = civil.month
        day = civil.day
        let msInDay = Int(msOfDay)
        hour = msInDay / 3_600_000
        minute = (msInDay / 60_000) % 60
        second = (msInDay / 1000) % 60
        millisecond = msInDay % 1000
    }

    /// Day of the week, 0 = Sunday ... 6 = Saturday.
    var weekday: Int {
        let days = Self.days(fromCivil: year, month, day)
        // 1970-01-01 was a Thursday (4).
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }

    /// Whether the fields form a real calendar date and time (leap seconds rejected).
    var isValid: Bool {
        (0...9999).contains(year) && (1...12).contains(month)
            && day >= 1 && day <= Self.daysInMonth(year: year, month: month)
            && (0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second)
            && (0...999).contains(millisecond)
    }

    var epochMilliseconds: Int64 {
        let days = Int64(Self.days(fromCivil: year, month, day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1000 + Int64(millisecond)
    }

    var date: Date {
        Date(timeIntervalSince1970: Double(epochMilliseconds) / 1000)
    }

    // MARK: - Algorithms

    static func epochMilliseconds(of date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite else { return ms > 0 ? maximumEpochMilliseconds : minimumEpochMilliseconds }
        if ms <= Double(minimumEpochMilliseconds) { return minimumEpochMilliseconds }
        if ms >= Double(maximumEpochMilliseconds) { return maximumEpochMilliseconds }
        return Int64(ms)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        var q = a / b
        var r = a % b
        if r < 0 {
            q -= 1
            r += b
        }
        return (q, r)
    }

    static func isLeapYear(_ y: Int) -> Bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date.
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Proleptic Gregorian date for a count of days since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
