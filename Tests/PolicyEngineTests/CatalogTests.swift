import Foundation
import PolicyEngine
import Testing

/// The provider catalog (`providers_flat.csv`) and the backends file.
@Suite struct CatalogTests {
    // MARK: the shipped catalog

    @Test func theShippedCatalogLoadsCleanly() throws {
        let result = Project.catalogResult
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        #expect(result.catalog.zones.count >= 40)
        // Zone codes are unique and the order is the CSV row order.
        let codes = result.catalog.zones.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(result.catalog.zones.map(\.index) == Array(0..<codes.count))
        #expect(result.catalog.zones.allSatisfy { Countries.isCode($0.countryCode) })
        #expect(result.catalog.zones.allSatisfy { !$0.endpoint.isEmpty && !$0.providerName.isEmpty && !$0.city.isEmpty })
    }

    @Test(arguments: [
        ("FI-HEL-ST-1", "Spacetime", "hel1.your-objectstorage.com", 0),
        ("FI-HEL-UC-1", "UpCloud", "f969k.upcloudobjects.com", 1),
        ("FI-HEL-HZ-1", "Hetzner", "s3c.tns.cx", 2),
    ])
    func theThreeSeedZonesAreExactlyAsDefined(_ code: String, _ provider: String, _ endpoint: String, _ index: Int) throws {
        let zone = try #require(Project.catalog.zone(code))
        #expect(zone.code == code)
        #expect(zone.providerName == provider)
        #expect(zone.countryCode == "FI")
        #expect(zone.city == "Helsinki")
        #expect(zone.endpoint == endpoint)
        #expect(zone.index == index)
        #expect(zone.location.line == index + 2)  // the header is line 1
        #expect(zone.location.column == 1)
    }

    @Test func theShippedCatalogsFlagsAndColumns() throws {
        let catalog = Project.catalog
        for flag in ["s3_compatible", "object_lock", "versioning", "iso27001", "gdpr", "eu_headquartered"] {
            #expect(catalog.flagNames.contains(flag), "missing known flag \(flag)")
        }
        // Extra all-boolean columns become flags; text columns do not.
        for flag in ["iso27017", "soc2", "bsi_c5", "csa_star"] { #expect(catalog.flagNames.contains(flag)) }
        for column in ["hq_country", "region_id", "source", "country", "latitude", "longitude", "zone_code"] {
            #expect(!catalog.flagNames.contains(column), "\(column) is not a flag")
        }
        let st = try #require(catalog.zone("FI-HEL-ST-1"))
        #expect(st.has("object_lock") && st.has("versioning") && st.has("s3_compatible"))
        #expect(!st.euHeadquartered)
        let uc = try #require(catalog.zone("FI-HEL-UC-1"))
        #expect(uc.euHeadquartered && uc.has("gdpr") && !uc.has("object_lock"))
        #expect(uc.latitude == 60.1699 && uc.longitude == 24.9384)
        #expect(uc.country == "Finland")
        #expect(catalog.providerNames.prefix(3) == ["Spacetime", "UpCloud", "Hetzner"])
        #expect(catalog.cityNames.first == "Helsinki")
    }

    // MARK: diagnostics with FILE:LINE:COL

    static let broken = """
        zone_code,provider_name,country_code,region_city,endpoint,object_lock,latitude,longitude
        AA-AAA-A-1,ProvA,FI,Helsinki,a.example,true,60.1,24.9
        AA-AAA-A-1,ProvA,FI,Helsinki,b.example,true,60.1,24.9
        BB-BBB-B-1,ProvB,XX,Nowhere,c.example,false,0,0
        CC-CCC-C-1,ProvC,SE,Stockholm,d.example,yes,59,18
        DD-DDD-D-1,ProvD,SE,Stockholm,e.example,false,91,18
        EE-EEE-E-1,ProvE,SE,Stockholm,f.example,false,59,-181
        FF-FFF-F-1,"Prov, F",SE,"Stock
        holm",g.example,false,59,18
        FF-FFF-F-1,ProvF,SE,Stockholm,h.example,false,59,18
        GG-GGG-G-1,ProvG,SE,Stockholm,i.example,false,abc,18
        HH-HHH-H-1,ProvH,,Stockholm,j.example,false,59,18
        II-III-I-1,ProvI,SE,Stockholm

        """

    @Test func catalogDiagnosticsCarryFileLineAndColumn() throws {
        let result = CatalogLoader.parse(Array(Self.broken.utf8), file: "cat.csv")
        let found = result.diagnostics.map { "\($0.location?.file ?? "?"):\($0.at) \($0.code)" }
        let expected = [
            "cat.csv:3:1 catalog-duplicate-zone",
            "cat.csv:4:3 catalog-unknown-country",
            "cat.csv:5:6 catalog-bad-boolean",
            "cat.csv:6:7 catalog-bad-coordinate",
            "cat.csv:7:8 catalog-bad-coordinate",
            "cat.csv:10:1 catalog-duplicate-zone",
            "cat.csv:11:7 catalog-bad-coordinate",
            "cat.csv:12:3 catalog-empty-value",
            "cat.csv:13:5 catalog-malformed",
        ]
        #expect(found.sorted() == expected.sorted())
        #expect(result.diagnostics.allSatisfy { $0.severity == .error })
        // Rows with errors are left out; the rest load.
        #expect(result.catalog.zones.map(\.code) == ["AA-AAA-A-1", "FF-FFF-F-1"])
        let dup = try #require(result.diagnostics.first { $0.at == "10:1" })
        #expect(dup.message.contains("line 8"))
    }

    @Test func quotedFieldsKeepCommasNewlinesAndQuotes() throws {
        let csv = """
            zone_code,provider_name,country_code,region_city,endpoint,source
            FF-FFF-F-1,"Prov, F",SE,"Stock
            holm",g.example,"He said ""hi"", twice"
            GG-GGG-G-1,ProvG,SE,Stockholm,h.example,plain

            """
        let result = CatalogLoader.parse(Array(csv.utf8), file: "q.csv")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        let f = try #require(result.catalog.zone("FF-FFF-F-1"))
        #expect(f.providerName == "Prov, F")
        #expect(f.city == "Stock\nholm")
        #expect(f.location.line == 2)
        // The next record starts on physical line 4.
        #expect(result.catalog.zone("GG-GGG-G-1")?.location.line == 4)
    }

    @Test func crlfLineEndsAndAByteOrderMarkAreAccepted() throws {
        let csv = "\u{FEFF}zone_code,provider_name,country_code,region_city,endpoint,object_lock\r\n"
            + "Z1,P,FI,Helsinki,e1,true\r\nZ2,P,SE,Stockholm,e2,false\r\n"
        let result = CatalogLoader.parse(Array(csv.utf8), file: "crlf.csv")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        #expect(result.catalog.zones.map(\.code) == ["Z1", "Z2"])
        #expect(result.catalog.zone("Z1")?.has("object_lock") == true)
        #expect(result.catalog.zone("Z2")?.has("object_lock") == false)
        #expect(result.catalog.zone("Z2")?.location.line == 3)
    }

    @Test func unknownCountryCodesGetUsefulHints() throws {
        let csv = """
            zone_code,provider_name,country_code,region_city,endpoint
            Z1,P,UK,London,e1
            Z2,P,fi,Helsinki,e2
            Z3,P,EU,Brussels,e3

            """
        let result = CatalogLoader.parse(Array(csv.utf8), file: "c.csv")
        let unknown = result.diagnostics.with("catalog-unknown-country")
        #expect(unknown.map(\.at) == ["2:3", "3:3", "4:3"])
        #expect(unknown[0].hints.contains { $0.contains("GB") })
        #expect(unknown[1].hints.contains { $0.contains("FI") })
        #expect(result.catalog.zones.isEmpty)
    }

    @Test func missingRequiredColumnsAreErrors() throws {
        let csv = "zone_cod,provider_name,country_code,region_city\nZ1,P,FI,Helsinki\n"
        let result = CatalogLoader.parse(Array(csv.utf8), file: "h.csv")
        let missing = result.diagnostics.with("catalog-missing-column")
        #expect(missing.count == 2, "\(result.diagnostics.rendered)")
        #expect(missing.allSatisfy { $0.location == PolicyEngine.SourceLocation(file: "h.csv", line: 1, column: 1) })
        let zoneCode = try #require(missing.first { $0.message.contains("'zone_code'") })
        #expect(zoneCode.hints.contains("did you mean 'zone_cod'?"))
        #expect(missing.contains { $0.message.contains("'endpoint'") })
        #expect(result.catalog.zones.isEmpty)
    }

    @Test func anEmptyCatalogAndAnUnterminatedQuoteAreErrors() throws {
        let empty = CatalogLoader.parse([], file: "e.csv")
        #expect(empty.diagnostics.map { "\($0.code) \($0.at)" } == ["catalog-missing-column 1:1"])
        let csv = "zone_code,provider_name,country_code,region_city,endpoint\nZ1,P,FI,\"Hel\nsinki,e1\n"
        let open = CatalogLoader.parse(Array(csv.utf8), file: "o.csv")
        #expect(open.diagnostics.map { "\($0.code) \($0.at)" } == ["catalog-malformed 2:1"])
    }

    @Test func extraBooleanColumnsBecomeFlags() throws {
        let csv = """
            zone_code,provider_name,country_code,region_city,endpoint,sovereign,notes,tier,empty_col
            Z1,P,FI,Helsinki,e1,true,hello,true,
            Z2,Q,FI,Helsinki,e2,false,,gold,
            Z3,R,SE,Stockholm,e3,,true,false,

            """
        let result = CatalogLoader.parse(Array(csv.utf8), file: "flags.csv")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        let catalog = result.catalog
        #expect(catalog.flagNames == ["sovereign"])
        #expect(catalog.zone("Z1")?.has("sovereign") == true)
        #expect(catalog.zone("Z2")?.has("sovereign") == false)
        #expect(catalog.zone("Z3")?.has("sovereign") == false)
        // The new flag is usable in require.capabilities and require.certifications.
        for field in ["capabilities", "certifications"] {
            let text = documents(residency("sov", "match: {}\nrequire:\n  \(field): [sovereign]"), oneCopyEverywhere)
            let compiled = compile(text, catalog: catalog)
            #expect(compiled.diagnostics.errors.isEmpty, "\(compiled.diagnostics.rendered)")
            #expect(compiled.compiled.plan(for: object("b", "k")).eligibleCodes == ["Z1"])
        }
        // A column that is not all-boolean is no flag.
        let bad = compile(documents(residency("tier", "match: {}\nrequire:\n  certifications: [tier]"), oneCopyEverywhere),
                          catalog: catalog, file: "t.yaml")
        let d = try #require(bad.diagnostics.with("unknown-flag").first)
        #expect(d.at == "8:22")
        #expect(d.severity == .error)
    }

    @Test func theEUHeadquartersColumnDrivesTheZoneProperty() throws {
        let catalog = miniCatalog()
        #expect(catalog.zones.filter(\.euHeadquartered).map(\.code) == ["FI-HEL-A-1", "DE-BER-C-1"])
        #expect(catalog.zone("FI-HEL-A-1")?.latitude == 10.5)
        #expect(catalog.zone("FI-HEL-A-1")?.longitude == 20.25)
    }

    @Test func catalogLoadThrowsOnlyForAnUnreadableFile() throws {
        #expect(throws: (any Error).self) { try CatalogLoader.load(path: "/nonexistent/providers.csv") }
    }

    // MARK: backends file

    @Test func theShippedBackendsFileEnablesTheThreeSeedZones() throws {
        let result = try BackendsFile.load(path: Project.backendsPath, catalog: Project.catalog)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        #expect(result.enabledZones == ["FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"])
    }

    @Test func backendsFileDiagnostics() throws {
        let json = """
            {
              "off": {"zone_code": "FI-HEL-UC-1", "enabled": false},
              "on": {"zone_code": "FI-HEL-HZ-1"},
              "nowhere": {"zone_code": "FI-HEL-UC-9", "enabled": true},
              "nozone": {"provider": "x"}
            }
            """
        let result = BackendsFile.parse(json, file: "b.json", catalog: Project.catalog)
        #expect(result.enabledZones == ["FI-HEL-HZ-1"])
        #expect(Set(result.diagnostics.codes) == ["backend-unknown-zone", "backends-malformed"])
        let unknown = try #require(result.diagnostics.with("backend-unknown-zone").first)
        #expect(unknown.hints.contains("did you mean 'FI-HEL-UC-1'?"))
        let malformed = BackendsFile.parse("{\n  \"a\": \n", file: "m.json", catalog: Project.catalog)
        #expect(malformed.diagnostics.codes == ["backends-malformed"])
        #expect(malformed.diagnostics.first?.location?.file == "m.json")
        #expect((malformed.diagnostics.first?.location?.line ?? 0) >= 2)
        #expect(BackendsFile.parse("[]", file: "a.json", catalog: Project.catalog).diagnostics.codes == ["backends-malformed"])
    }
}
