/// Why a bucket name was refused.
public enum BucketNameViolation: Error, Sendable, Hashable {
    /// Fewer than 3 characters.
    case tooShort
    /// More than 63 characters.
    case tooLong
    /// A character other than `a–z`, `0–9`, `.` and `-`.
    case invalidCharacter
    /// Does not start and end with a letter or digit.
    case invalidStartOrEnd
    /// Contains `..`, `.-` or `-.`.
    case invalidDotPlacement
    /// Formatted like an IPv4 address (e.g. `192.168.5.4`).
    case ipAddressFormat
    /// Starts with a reserved prefix (`xn--`, `sthree-`, `amzn-s3-demo-`).
    case reservedPrefix
    /// Ends with a reserved suffix (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
    case reservedSuffix

    /// `InvalidBucketName` naming the bucket.
    public func s3Error(bucket: String) -> S3Error {
        S3Error.invalidBucketName(bucket)
    }
}

/// S3's bucket naming rules for general purpose buckets.
public enum BucketNameValidator {
    /// Prefixes S3 reserves.
    public static let reservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
    /// Suffixes S3 reserves.
    public static let reservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]

    /// The first rule `name` breaks, or nil when it is a valid bucket name.
    public static func violation(in name: String) -> BucketNameViolation? {
        let b = Array(name.utf8)
        if b.count < 3 { return .tooShort }
        if b.count > 63 { return .tooLong }
        let isLowerOrDigit: (UInt8) -> Bool = {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
        }
        guard b.allSatisfy({ isLowerOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
            return .invalidCharacter
        }
        guard let first = b.first, let last = b.last, isLowerOrDigit(first), isLowerOrDigit(last) else {
            return .invalidStartOrEnd
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") { return .invalidDotPlacement }
        if isIPv4Formatted(name) { return .ipAddressFormat }
        if reservedPrefixes.contains(where: { name.hasPrefix($0) }) { return .reservedPrefix }
        if reservedSuffixes.contains(where: { name.hasSuffix($0) }) { return .reservedSuffix }
        return nil
    }

    /// Whether `name` is a valid bucket name.
    public static func isValid(_ name: String) -> Bool { violation(in: name) == nil }

    /// Throws `InvalidBucketName` when `name` is not valid.
    public static func validate(_ name: String) throws(S3Error) {
        if let violation = violation(in: name) { throw violation.s3Error(bucket: name) }
    }

    /// Four dot-separated groups of digits.
    static func isIPv4Formatted(_ name: String) -> Bool {
        let groups = name.split(separator: ".", omittingEmptySubsequences: false)
        return groups.count == 4
            && groups.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    }
}
