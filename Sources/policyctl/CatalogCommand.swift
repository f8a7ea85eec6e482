import ArgumentParser
import PolicyEngine

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "List the zones of the provider catalog.",
        discussion: """
            Examples:
              policyctl catalog
              policyctl catalog --country FI
              policyctl catalog --country EU --capability object_lock --format json
            """
    )

    @Option(help: "The provider catalog (default: $PROVIDERS_FILE or providers_flat.csv).")
    var catalog: String?

    @Option(help: "Only zones in this country (ISO code) or group (EU, EEA, NORDICS).")
    var country: String?

    @Option(help: "Only zones with this flag (a boolean column, e.g. object_lock, iso27001); repeatable.")
    var capability: [String] = []

    @Option(help: "Output format: text or json.")
    var format: ListFormat = .text

    enum ListFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func run() throws {
        let path = catalog ?? defaultCatalogPath()
        let result: CatalogLoader.Result
        do {
            result = try CatalogLoader.load(path: path)
        } catch {
            throw InputFailure(description: "\(error)")
        }
        if result.diagnostics.hasErrors {
            printError(DiagnosticFormatter.render(result.diagnostics, format: .text, valid: false))
            throw ExitCode(1)
        }
        let cat = result.catalog
        var countries: Set<String>?
        if let country {
            if let group = Countries.builtInGroups[country.uppercased()] { countries = group }
            else if Countries.isCode(country.uppercased()) { countries = [country.uppercased()] }
            else { throw InputFailure(description: "'\(country)' is neither a country code nor a built-in group") }
        }
        for flag in capability where !cat.flagNames.contains(flag) {
            throw InputFailure(description: "'\(flag)' is not a flag of the catalog (flags: \(cat.flagNames.joined(separator: ", ")))")
        }
        let zones = cat.zones.filter { zone in
            (countries?.contains(zone.countryCode) ?? true) && capability.allSatisfy { zone.has($0) }
        }
        switch format {
        case .json:
            print(JSONValue.array(zones.map { zone in
                .object([
                    ("zone", .string(zone.code)), ("provider", .string(zone.providerName)),
                    ("countryCode", .string(zone.countryCode)), ("country", .string(zone.country)),
                    ("city", .string(zone.city)), ("endpoint", .string(zone.endpoint)),
                    ("euHeadquartered", .bool(zone.euHeadquartered)),
                    ("flags", .strings(cat.flagNames.filter { zone.has($0) })),
                ])
            }).serialized())
        case .text:
            var rows = [["ZONE", "PROVIDER", "CC", "CITY", "ENDPOINT", "FLAGS"]]
            for zone in zones {
                rows.append([zone.code, zone.providerName, zone.countryCode, zone.city, zone.endpoint,
                             cat.flagNames.filter { zone.has($0) }.joined(separator: ",")])
            }
            let widths = (0..<6).map { i in rows.map { $0[i].count }.max() ?? 0 }
            for row in rows {
                var line = ""
                for (i, cell) in row.enumerated() {
                    line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
                }
                print(line)
            }
            print("\(zones.count) of \(cat.zones.count) zones")
        }
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a JSON Schema of the policy files, for editors' YAML support.",
        discussion: """
            Example (VS Code with the YAML extension, or any yaml-language-server client):
              policyctl schema > policy.schema.json
              # then, first line of a policy file:
              # yaml-language-server: $schema=../policy.schema.json
            """
    )

    @Option(help: "A catalog whose flag columns the schema offers for require.capabilities/certifications.")
    var catalog: String?

    func run() throws {
        // Without a catalog, any boolean column name is accepted (the known ones are examples).
        var flags: [String]?
        if let catalog {
            do {
                flags = try CatalogLoader.load(path: catalog).catalog.flagNames
            } catch {
                throw InputFailure(description: "\(error)")
            }
        }
        print(PolicySchema.json(flagNames: flags).serialized())
    }
}
