import Foundation

/// Generates opaque, unique ids that sort by creation time: 12 hex digits of milliseconds since
/// 1970 then 20 random hex digits (32 characters, URL- and key-safe). Use for version ids,
/// storage ids and upload ids.
public enum Identifiers {
    public static func make(at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var random = SystemRandomNumberGenerator()
        let high = random.next() & 0xFFFF_FFFF_FFFF  // 48 bits
        let low = random.next() & 0xFFFF_FFFF  // 32 bits
        return hex(millis & 0xFFFF_FFFF_FFFF, digits: 12) + hex(high, digits: 12) + hex(low, digits: 8)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
