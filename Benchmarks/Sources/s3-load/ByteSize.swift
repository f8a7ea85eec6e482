import Foundation
import ArgumentParser

/// A byte count written as `4096`, `4KiB`, `16MiB`, `1GiB` (binary units; `KB`/`MB`/`GB` are
/// read as the same binary units, as S3 tools commonly do).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible, Sendable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        guard let value = Int(digits) else { return nil }
        let multiplier: Int
        switch text.dropFirst(digits.count).lowercased() {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        bytes = product
    }

    var description: String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) B"
    }
}

/// A duration written as `500ms`, `10s`, `2m` or a bare number of seconds.
struct Seconds: ExpressibleByArgument, CustomStringConvertible, Sendable {
    var duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let number = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value >= 0 else { return nil }
        switch text.dropFirst(number.count) {
        case "ms": duration = .milliseconds(value)
        case "", "s": duration = .seconds(value)
        case "m", "min": duration = .seconds(value * 60)
        default: return nil
        }
    }

    var description: String { "\(duration.seconds) s" }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    /// The duration in whole microseconds (the histograms' unit).
    var microseconds: UInt64 {
        let (s, attoseconds) = components
        return UInt64(max(0, s)) * 1_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000_000
    }
}
