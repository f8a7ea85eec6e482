/// The provider catalog (`providers_flat.csv`): every zone a policy can place data in.
public struct Catalog: Sendable {
    public static let requiredColumns = ["zone_code", "provider_name", "country_code", "region_city", "endpoint"]
    public static let knownBooleanColumns = [
        "s3_compatible", "object_lock", "versioning", "iso27001", "gdpr", "eu_headquartered",
    ]
    public static let knownOtherColumns = ["country", "latitude", "longitude"]

    public let zones: [Zone]
    /// Names of boolean columns usable in `require.capabilities` / `require.certifications`.
    public let flagNames: [String]
    public let file: String
    /// The file's bytes, for the policy-set hash.
    public let contents: [UInt8]

    let zoneByCode: [String: Zone]

    public init(zones: [Zone], flagNames: [String], file: String, contents: [UInt8] = []) {
        self.zones = zones
        self.flagNames = flagNames
        self.file = file
        self.contents = contents
        self.zoneByCode = Dictionary(zones.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func zone(_ code: String) -> Zone? { zoneByCode[code] }

    /// Provider names as written in the catalog (first spelling seen), in catalog order.
    public var providerNames: [String] {
        var seen = Set<String>()
        return zones.compactMap { seen.insert($0.providerKey).inserted ? $0.providerName : nil }
    }

    public var cityNames: [String] {
        var seen = Set<String>()
        return zones.compactMap { seen.insert($0.cityKey).inserted ? $0.city : nil }
    }
}
