/// An Object Lock retention mode.
public enum ObjectLockRetentionMode: String, Sendable, Hashable, CaseIterable {
    /// Users with `s3:BypassGovernanceRetention` may shorten or remove the retention.
    case governance = "GOVERNANCE"
    /// Nobody can shorten or remove the retention.
    case compliance = "COMPLIANCE"

    /// Parses the `x-amz-object-lock-mode` header or a `<Mode>` value.
    public init?(headerValue: String) {
        self.init(rawValue: headerValue)
    }
}
