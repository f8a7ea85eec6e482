import Foundation
import PolicyEngine
import Testing

/// Built-in country groups and `kind: CountryGroup`.
@Suite struct GroupTests {
    static let euMembers: Set<String> = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ]

    /// One zone per country, each at its own provider.
    static let countries = ["FI", "SE", "DK", "DE", "NO", "IS", "LI", "CH", "GB", "EE", "LV", "LT", "US", "GR"]
    static func catalog() -> Catalog {
        makeCatalog(countries.map { ZoneRow("\($0)-X-P-1", "Prov\($0)", $0, "City\($0)") }, file: "groups.csv")
    }

    /// The countries of the eligible zones for a policy allowing `countries`.
    static func eligibleCountries(_ countries: String, extra: [String] = []) throws -> (Set<String>, [Diagnostic]) {
        let text = documents([residency("r", "match: {}\nallow:\n  countries: \(countries)"), oneCopyEverywhere] + extra)
        let result = compile(text, catalog: catalog(), file: "g.yaml")
        let plan = result.compiled.plan(for: object("b", "k"))
        return (Set(plan.eligibleZones.map(\.countryCode)), result.diagnostics)
    }

    @Test func builtInGroupsHaveExactlyTheContractsMembers() throws {
        #expect(Countries.eu == Self.euMembers)
        #expect(Countries.builtInGroups["EU"] == Self.euMembers)
        #expect(Countries.builtInGroups["EU"]?.count == 27)
        #expect(Countries.builtInGroups["EEA"] == Self.euMembers.union(["IS", "LI", "NO"]))
        #expect(Countries.builtInGroups["NORDICS"] == ["DK", "FI", "IS", "NO", "SE"])
        #expect(Set(Countries.builtInGroups.keys) == ["EU", "EEA", "NORDICS"])
        #expect(Countries.codes.count == 249)
        #expect(Self.euMembers.isSubset(of: Countries.codes))
        #expect(!Countries.isCode("UK") && !Countries.isCode("EL") && !Countries.isCode("fi"))
    }

    @Test func builtInGroupsSelectTheirZones() throws {
        let (eu, d1) = try Self.eligibleCountries("[EU]")
        #expect(d1.errors.isEmpty, "\(d1.rendered)")
        #expect(eu == ["FI", "SE", "DK", "DE", "EE", "LV", "LT", "GR"])
        let (eea, _) = try Self.eligibleCountries("[EEA]")
        #expect(eea == ["FI", "SE", "DK", "DE", "EE", "LV", "LT", "GR", "NO", "IS", "LI"])
        let (nordics, _) = try Self.eligibleCountries("[NORDICS]")
        #expect(nordics == ["DK", "FI", "IS", "NO", "SE"])
        // Groups and codes mix (any entry may hold).
        let (mixed, _) = try Self.eligibleCountries("[NORDICS, CH]")
        #expect(mixed == ["DK", "FI", "IS", "NO", "SE", "CH"])
    }

    @Test(arguments: ["baltic", "BALTIC", "Baltic", "bAlTiC"])
    func countryGroupsAreReferencedWithoutRegardToCase(_ spelling: String) throws {
        let (found, diagnostics) = try Self.eligibleCountries("[\(spelling)]", extra: [group("baltic", "[EE, LV, LT]")])
        #expect(diagnostics.errors.isEmpty, "\(diagnostics.rendered)")
        #expect(found == ["EE", "LV", "LT"])
    }

    @Test func groupsMayIncludeBuiltInAndOtherGroups() throws {
        let extra = [group("baltic", "[EE, LV, LT]"), group("north-east", "[NORDICS, baltic, GB]")]
        let (found, diagnostics) = try Self.eligibleCountries("[north-east]", extra: extra)
        #expect(diagnostics.errors.isEmpty, "\(diagnostics.rendered)")
        #expect(found == ["DK", "FI", "IS", "NO", "SE", "EE", "LV", "LT", "GB"])
    }

    @Test func theShippedNordicEUGroup() throws {
        let result = try Project.compiledShippedPolicies()
        let plan = result.compiled.plan(for: object("audit-logs", "x"))
        #expect(Set(plan.eligibleZones.map(\.countryCode)) == ["FI", "SE"])  // the catalog has no Danish zone
        #expect(plan.eligibleZones.allSatisfy { ["DK", "FI", "SE"].contains($0.countryCode) })
        #expect(plan.eligibleZones.contains { $0.countryCode == "SE" })
    }

    @Test(arguments: [("eu", "built-in group EU"), ("eea", "built-in group EEA"), ("nordics", "built-in group NORDICS"),
                      ("fi", "country code FI"), ("us", "country code US")])
    func aGroupMayNotShadowABuiltInGroupOrACountryCode(_ name: String, _ what: String) throws {
        let text = documents(group(name, "[FI]"), anywhere, oneCopyEverywhere)
        let result = compile(text, catalog: Self.catalog(), file: "shadow.yaml")
        let d = try #require(result.diagnostics.with("group-shadows").first, "\(result.diagnostics.rendered)")
        #expect(d.severity == .error)
        #expect(d.location == PolicyEngine.SourceLocation(file: "shadow.yaml", line: 4, column: 9))
        #expect(d.message.contains(what))
    }

    @Test func aShadowingGroupDoesNotChangeWhatTheBuiltInNameMeans() throws {
        let (found, diagnostics) = try Self.eligibleCountries("[EU]", extra: [group("eu", "[US]")])
        #expect(diagnostics.with("group-shadows").count == 1)
        #expect(!found.contains("US"))
        #expect(found.contains("FI"))
    }

    @Test func groupCyclesAndUnknownMembersAreErrors() throws {
        let text = documents(group("a", "[b]"), group("b", "[a, FI]"), group("c", "[XX, uk]"), anywhere, oneCopyEverywhere)
        let result = compile(text, catalog: Self.catalog(), file: "cyc.yaml")
        #expect(result.diagnostics.with("group-cycle").count == 1, "\(result.diagnostics.rendered)")
        let unknown = result.diagnostics.with("unknown-country").sortedByLocation()
        #expect(unknown.map(\.at) == ["20:15", "20:19"])
        #expect(unknown.last?.hints.contains { $0.contains("GB") } == true)
    }

    @Test func anEmptyGroupIsAWarning() throws {
        let set = parsePolicies(group("nobody", "[]"))
        #expect(set.diagnostics.map { "\($0.severity) \($0.code)" } == ["warning empty-list"])
    }

    @Test func countryEntriesInPoliciesAreCheckedWithHints() throws {
        let text = documents(residency("r", "match: {}\nallow:\n  countries: [fi, UK, NORDIC, XX]\ndeny:\n  countries: [EL]"),
                             oneCopyEverywhere)
        let result = compile(text, catalog: Self.catalog(), file: "c.yaml")
        let unknown = result.diagnostics.with("unknown-country").sortedByLocation()
        #expect(unknown.map(\.at) == ["8:17", "8:21", "8:25", "8:33", "10:17"], "\(result.diagnostics.rendered)")
        #expect(unknown.allSatisfy { $0.severity == .error })
        #expect(unknown[0].hints.contains { $0.contains("upper-case") && $0.contains("FI") })
        #expect(unknown[1].hints.contains { $0.contains("GB") })
        #expect(unknown[2].hints.contains("did you mean 'NORDICS'?"))
        #expect(unknown[4].hints.contains { $0.contains("GR") })
    }
}
