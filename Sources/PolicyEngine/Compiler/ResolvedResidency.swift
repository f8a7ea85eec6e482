/// A residency policy with its references resolved against the catalog and groups.
struct ResolvedResidency: Sendable {
    struct Filter: Sendable {
        var countries: Set<String>?
        var cities: Set<String>?
        var providers: Set<String>?
        var zones: Set<String>?
        /// Text as written, for explanations: field -> (entries, location).
        var written: [(field: String, entries: [String], location: SourceLocation)]
    }

    let policy: ResidencyPolicy
    let allow: Filter?
    let deny: Filter?
    let requiredFlags: [Located<String>]
    let euHeadquartered: Located<Bool>?
    /// Zones that pass this policy (before any backends restriction).
    private(set) var eligible: ZoneSet
    /// The policy had errors, or a reference in it resolved to nothing: its eligible zones are
    /// not those of the policy as written, so no finding about object classes is drawn from it.
    var hasErrors = false

    var name: String { policy.metadata.name }

    /// A zone is eligible when every given `allow` list admits it, no `deny` list names it,
    /// it has every required flag and, if required, the right `euHeadquartered`.
    init(policy: ResidencyPolicy, allow: Filter?, deny: Filter?, requiredFlags: [Located<String>],
         euHeadquartered: Located<Bool>?, index: CatalogIndex) {
        self.policy = policy
        self.allow = allow
        self.deny = deny
        self.requiredFlags = requiredFlags
        self.euHeadquartered = euHeadquartered
        var eligible = index.all
        for (filter, admit) in [(allow, true), (deny, false)] {
            guard let filter else { continue }
            var named: [ZoneSet] = []
            if let c = filter.countries { named.append(index.zones(index.byCountry, c)) }
            if let c = filter.cities { named.append(index.zones(index.byCity, c)) }
            if let p = filter.providers { named.append(index.zones(index.byProvider, p)) }
            if let z = filter.zones { named.append(index.zones(index.byCode, z)) }
            for zones in named {
                if admit { eligible.formIntersection(zones) } else { eligible.subtract(zones) }
            }
        }
        for flag in requiredFlags { eligible.formIntersection(index.byFlag[flag.value] ?? index.none) }
        if let eu = euHeadquartered {
            if eu.value { eligible.formIntersection(index.euHeadquartered) } else { eligible.subtract(index.euHeadquartered) }
        }
        self.eligible = eligible
    }

    /// Every clause of the policy and whether the zone passes it, for `--explain` and rejections.
    func clauses(for zone: Zone) -> [(clause: String, passed: Bool, detail: String, location: SourceLocation)] {
        var result: [(String, Bool, String, SourceLocation)] = []
        func list(_ entries: [String]) -> String { "[" + entries.joined(separator: ", ") + "]" }
        for (kind, filter) in [("allow", allow), ("deny", deny)] {
            guard let filter else { continue }
            for w in filter.written {
                let (value, member): (String, Bool) = switch w.field {
                case "countries": (zone.countryCode, kind == "allow" ? filter.countries!.contains(zone.countryCode) : filter.countries!.contains(zone.countryCode))
                case "cities": (zone.city, filter.cities!.contains(zone.cityKey))
                case "providers": (zone.providerName, filter.providers!.contains(zone.providerKey))
                default: (zone.code, filter.zones!.contains(zone.code))
                }
                let noun = w.field == "countries" ? "country" : w.field == "cities" ? "city" : w.field == "providers" ? "provider" : "zone"
                let passed = kind == "allow" ? member : !member
                let detail = passed
                    ? "\(kind).\(w.field) \(list(w.entries)) \(kind == "allow" ? "admits" : "does not name") \(noun) \(value)"
                    : "\(kind).\(w.field) \(list(w.entries)) \(kind == "allow" ? "does not admit" : "denies") \(noun) \(value)"
                result.append(("\(kind).\(w.field)", passed, detail, w.location))
            }
        }
        for flag in requiredFlags {
            let passed = zone.has(flag.value)
            result.append(("require.\(flag.value)", passed,
                           passed ? "require \(flag.value): zone has it" : "require \(flag.value): zone lacks \(flag.value)",
                           flag.location))
        }
        if let eu = euHeadquartered {
            let passed = zone.euHeadquartered == eu.value
            let actual = zone.euHeadquartered ? "is" : "is not"
            result.append(("require.euHeadquartered", passed,
                           "require euHeadquartered: \(eu.value): the operator \(actual) headquartered in the EU", eu.location))
        }
        return result
    }

    /// Why the zone is out, one string per failing clause, naming the policy and `FILE:LINE:COL`.
    func rejectionReasons(for zone: Zone) -> [String] {
        clauses(for: zone).filter { !$0.passed }.map {
            "residency policy '\(name)': \($0.detail) (\($0.location))"
        }
    }
}
