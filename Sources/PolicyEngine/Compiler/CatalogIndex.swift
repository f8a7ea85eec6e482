/// The catalog's zones grouped by every attribute a residency policy filters on, as bitmaps:
/// a policy's eligible zones are then a few unions and intersections instead of set look-ups
/// for every zone.
struct CatalogIndex {
    let zoneCount: Int
    let byCountry: [String: ZoneSet]
    /// By lower-cased city (`Zone.cityKey`).
    let byCity: [String: ZoneSet]
    /// By lower-cased provider (`Zone.providerKey`).
    let byProvider: [String: ZoneSet]
    let byCode: [String: ZoneSet]
    /// By boolean column that is true for the zone.
    let byFlag: [String: ZoneSet]
    let euHeadquartered: ZoneSet

    init(_ catalog: Catalog) {
        let n = catalog.zones.count
        zoneCount = n
        var country: [String: ZoneSet] = [:], city: [String: ZoneSet] = [:], provider: [String: ZoneSet] = [:]
        var code: [String: ZoneSet] = [:], flag: [String: ZoneSet] = [:]
        var eu = ZoneSet(count: n)
        let empty = ZoneSet(count: n)
        for zone in catalog.zones {
            let i = zone.index
            country[zone.countryCode, default: empty].insert(i)
            city[zone.cityKey, default: empty].insert(i)
            provider[zone.providerKey, default: empty].insert(i)
            code[zone.code, default: empty].insert(i)
            for f in zone.flags { flag[f, default: empty].insert(i) }
            if zone.euHeadquartered { eu.insert(i) }
        }
        byCountry = country
        byCity = city
        byProvider = provider
        byCode = code
        byFlag = flag
        euHeadquartered = eu
    }

    var none: ZoneSet { ZoneSet(count: zoneCount) }
    var all: ZoneSet { ZoneSet(count: zoneCount, full: true) }

    /// The zones whose attribute (by `table`) is any of `keys`.
    func zones(_ table: [String: ZoneSet], _ keys: Set<String>) -> ZoneSet {
        var result = none
        for key in keys {
            if let zones = table[key] { result.formUnion(zones) }
        }
        return result
    }
}
