import Foundation

/// One row of the provider catalog snapshot (`providers_flat.csv`).
public struct ProviderRecord: Sendable, Hashable, Codable {
    public var zoneCode: String
    public var providerName: String
    public var countryCode: String
    public var regionCity: String
    public var endpoint: String
    /// Capability and compliance flags (`s3_compatible`, `object_lock`, `iso27001`, ...), as text;
    /// stored as a JSON object.
    public var flags: [String: String]

    public init(
        zoneCode: String, providerName: String, countryCode: String, regionCity: String,
        endpoint: String, flags: [String: String] = [:]
    ) {
        self.zoneCode = zoneCode
        self.providerName = providerName
        self.countryCode = countryCode
        self.regionCity = regionCity
        self.endpoint = endpoint
        self.flags = flags
    }
}

/// A compiled policy set that the gateway loaded (the seed's "replication rules").
public struct PolicySetRecord: Sendable, Hashable, Codable {
    public var hash: String
    /// A JSON summary of the compiled rules (stored verbatim).
    public var summaryJSON: String
    /// When it was first recorded.
    public var loadedAt: Date

    public init(hash: String, summaryJSON: String, loadedAt: Date) {
        self.hash = hash
        self.summaryJSON = summaryJSON
        self.loadedAt = loadedAt
    }
}
