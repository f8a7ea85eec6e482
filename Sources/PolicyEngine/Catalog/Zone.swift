/// One storage zone of the catalog: a provider's S3 endpoint at one site.
public struct Zone: Sendable, Hashable, Identifiable {
    /// `CC-CITY-PROVIDER-N`, e.g. `FI-HEL-UC-1`.
    public let code: String
    public let providerName: String
    /// ISO 3166-1 alpha-2 code of the storage site.
    public let countryCode: String
    public let country: String
    public let city: String
    public let endpoint: String
    /// The operator's legal seat is in the EU.
    public let euHeadquartered: Bool
    public let latitude: Double?
    public let longitude: Double?
    /// Boolean columns that are true for this zone (capabilities and certifications), by column name.
    public let flags: Set<String>
    /// 0-based position in the catalog (the order of `placement: ordered`).
    public let index: Int
    /// Where the zone's row is, for explanations.
    public let location: SourceLocation

    public var id: String { code }

    /// Lower-cased provider and city, compared without regard to case.
    let providerKey: String
    let cityKey: String

    public init(
        code: String, providerName: String, countryCode: String, country: String, city: String,
        endpoint: String, euHeadquartered: Bool, latitude: Double?, longitude: Double?,
        flags: Set<String>, index: Int, location: SourceLocation
    ) {
        self.code = code
        self.providerName = providerName
        self.countryCode = countryCode
        self.country = country
        self.city = city
        self.endpoint = endpoint
        self.euHeadquartered = euHeadquartered
        self.latitude = latitude
        self.longitude = longitude
        self.flags = flags
        self.index = index
        self.location = location
        self.providerKey = providerName.lowercased()
        self.cityKey = city.lowercased()
    }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
}
