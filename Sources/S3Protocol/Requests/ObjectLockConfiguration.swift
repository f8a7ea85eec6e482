/// A bucket's Object Lock configuration (`PutObjectLockConfiguration` body, `GetObjectLockConfiguration` response).
public struct ObjectLockConfiguration: Sendable, Hashable {
    /// The default retention period of a rule.
    public enum Period: Sendable, Hashable {
        /// `<Days>`.
        case days(Int)
        /// `<Years>`.
        case years(Int)
    }

    /// `<Rule><DefaultRetention>`.
    public struct DefaultRetention: Sendable, Hashable {
        /// The retention mode.
        public var mode: ObjectLockRetentionMode
        /// The retention period.
        public var period: Period

        /// Creates a default retention.
        public init(mode: ObjectLockRetentionMode, period: Period) {
            self.mode = mode
            self.period = period
        }
    }

    /// `<ObjectLockEnabled>Enabled</ObjectLockEnabled>` is present.
    public var objectLockEnabled: Bool
    /// The default retention rule, if any.
    public var defaultRetention: DefaultRetention?

    /// Creates a configuration.
    public init(objectLockEnabled: Bool = true, defaultRetention: DefaultRetention? = nil) {
        self.objectLockEnabled = objectLockEnabled
        self.defaultRetention = defaultRetention
    }

    /// Longest default retention S3 accepts, in days (100 years).
    public static let maxRetentionDays = 36_500
    /// Longest default retention S3 accepts, in years.
    public static let maxRetentionYears = 100
}

extension ObjectLockConfiguration: S3XMLEncodable {
    public func write(to writer: inout XMLWriter) {
        writer.open("ObjectLockConfiguration", namespace: S3XMLNamespace.uri)
        if objectLockEnabled { writer.element("ObjectLockEnabled", "Enabled") }
        if let defaultRetention {
            writer.open("Rule")
            writer.open("DefaultRetention")
            writer.element("Mode", defaultRetention.mode.rawValue)
            switch defaultRetention.period {
            case .days(let days): writer.element("Days", days)
            case .years(let years): writer.element("Years", years)
            }
            writer.close("DefaultRetention")
            writer.close("Rule")
        }
        writer.close("ObjectLockConfiguration")
    }
}

extension ObjectLockConfiguration: S3XMLDecodable {
    public static var rootElementName: String { "ObjectLockConfiguration" }

    /// Decodes the body.
    ///
    /// `ObjectLockEnabled` other than `Enabled`, a `Rule` without `DefaultRetention`/`Mode`, an unknown mode,
    /// or both/neither of `Days` and `Years` is `MalformedXML`; a period that is not positive or exceeds
    /// 100 years is `InvalidRetentionPeriod`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        var enabled = false
        if let text = try root.trimmedLeafValue("ObjectLockEnabled") {
            guard text == "Enabled" else { throw S3Error.malformedXML }
            enabled = true
        }
        var retention: DefaultRetention?
        if let rule = try root.singleChild("Rule") {
            guard let element = try rule.singleChild("DefaultRetention"),
                  let modeText = try element.trimmedLeafValue("Mode"),
                  let mode = ObjectLockRetentionMode(rawValue: modeText)
            else { throw S3Error.malformedXML }
            let period: Period
            switch (try element.integerValue("Days"), try element.integerValue("Years")) {
            case (let days?, nil):
                guard days > 0, days <= Self.maxRetentionDays else { throw Self.invalidPeriod }
                period = .days(days)
            case (nil, let years?):
                guard years > 0, years <= Self.maxRetentionYears else { throw Self.invalidPeriod }
                period = .years(years)
            default:
                throw S3Error.malformedXML
            }
            retention = DefaultRetention(mode: mode, period: period)
        }
        self.init(objectLockEnabled: enabled, defaultRetention: retention)
    }

    private static var invalidPeriod: S3Error {
        S3Error(
            .invalidRetentionPeriod,
            message: "Default retention period must be a positive integer value of at most 100 years."
        )
    }
}
