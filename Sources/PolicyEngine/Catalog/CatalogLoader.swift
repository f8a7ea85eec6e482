/// Reads `providers_flat.csv` into a `Catalog`, reporting problems with `FILE:LINE:COL`
/// (LINE counts the header as line 1; COL is the 1-based field).
public enum CatalogLoader {
    public struct Result: Sendable {
        /// The catalog, also when it has errors (rows with errors are left out).
        public var catalog: Catalog
        public var diagnostics: [Diagnostic]
    }

    /// Reads and parses a catalog file. Throws only when the file cannot be read.
    public static func load(path: String) throws -> Result {
        let bytes = try FileReader.read(path)
        return parse(bytes, file: path)
    }

    public static func parse(_ bytes: [UInt8], file: String) -> Result {
        var diagnostics: [Diagnostic] = []
        func loc(_ line: Int, _ col: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: col) }
        let empty = Catalog(zones: [], flagNames: [], file: file, contents: bytes)

        let records: [CSVReader.Record]
        do {
            records = try CSVReader.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            switch error {
            case .unterminatedQuote(let line):
                diagnostics.append(.error(.catalogMalformed, at: loc(line, 1), "quoted field is never closed"))
            case .garbageAfterQuote(let line, let field):
                diagnostics.append(.error(.catalogMalformed, at: loc(line, field), "text after a closing quote"))
            }
            return Result(catalog: empty, diagnostics: diagnostics)
        }
        guard let header = records.first else {
            diagnostics.append(.error(.catalogMissingColumn, at: loc(1, 1), "the catalog is empty: a header row is required",
                                      hints: ["required columns: " + Catalog.requiredColumns.joined(separator: ", ")]))
            return Result(catalog: empty, diagnostics: diagnostics)
        }
        let names = header.fields.map { $0.trimmed }
        var column: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            if column[name] != nil {
                diagnostics.append(.error(.catalogMalformed, at: loc(header.line, i + 1), "duplicate column '\(name)'"))
            } else {
                column[name] = i
            }
        }
        var missing = false
        for required in Catalog.requiredColumns where column[required] == nil {
            missing = true
            diagnostics.append(.error(.catalogMissingColumn, at: loc(header.line, 1), "missing required column '\(required)'",
                                      hints: Suggestions.hint(for: required, in: names)))
        }
        if missing { return Result(catalog: empty, diagnostics: diagnostics) }

        let rows = records.dropFirst()
        // Boolean flag columns: the known ones, plus every other column whose values are all true/false.
        let reserved = Set(Catalog.requiredColumns + Catalog.knownOtherColumns)
        var flagColumns: [(name: String, index: Int)] = []
        for (i, name) in names.enumerated() where !reserved.contains(name) && column[name] == i {
            if Catalog.knownBooleanColumns.contains(name) {
                flagColumns.append((name, i))
                continue
            }
            var sawValue = false
            let allBoolean = rows.allSatisfy { row in
                let v = i < row.fields.count ? row.fields[i].trimmed : ""
                if v.isEmpty { return true }
                sawValue = true
                return v == "true" || v == "false"
            }
            if allBoolean && sawValue { flagColumns.append((name, i)) }
        }

        var zones: [Zone] = []
        var seenCodes: [String: Int] = [:]
        for row in rows {
            if row.fields.count != names.count {
                diagnostics.append(.error(.catalogMalformed, at: loc(row.line, min(row.fields.count, names.count) + 1),
                    "row has \(row.fields.count) fields; the header has \(names.count)"))
                continue
            }
            func value(_ name: String) -> String? {
                column[name].map { row.fields[$0].trimmed }
            }
            func col(_ name: String) -> Int { (column[name] ?? 0) + 1 }
            var rowOK = true
            for required in Catalog.requiredColumns where (value(required) ?? "").isEmpty {
                diagnostics.append(.error(.catalogEmptyValue, at: loc(row.line, col(required)), "'\(required)' is empty"))
                rowOK = false
            }
            let code = value("zone_code") ?? ""
            if !code.isEmpty {
                if let first = seenCodes[code] {
                    diagnostics.append(.error(.catalogDuplicateZone, at: loc(row.line, col("zone_code")),
                        "duplicate zone code '\(code)' (first on line \(first))"))
                    rowOK = false
                } else {
                    seenCodes[code] = row.line
                }
            }
            let country = value("country_code") ?? ""
            if !country.isEmpty && !Countries.isCode(country) {
                var hints = Suggestions.hint(for: country.uppercased(), in: Countries.codes.sorted())
                if let fix = Countries.commonMistakes[country.uppercased()] { hints = ["did you mean '\(fix)'?"] }
                else if Countries.isCode(country.uppercased()) { hints = ["country codes are upper-case: '\(country.uppercased())'"] }
                diagnostics.append(.error(.catalogUnknownCountry, at: loc(row.line, col("country_code")),
                    "unknown ISO 3166-1 alpha-2 country code '\(country)'", hints: hints))
                rowOK = false
            }
            var flags = Set<String>()
            for (name, i) in flagColumns {
                let v = row.fields[i].trimmed
                switch v {
                case "true": flags.insert(name)
                case "false", "": break
                default:
                    diagnostics.append(.error(.catalogBadBoolean, at: loc(row.line, i + 1),
                        "'\(name)' must be true or false, not '\(v)'"))
                    rowOK = false
                }
            }
            func coordinate(_ name: String, limit: Double) -> Double? {
                guard let text = value(name), !text.isEmpty else { return nil }
                guard let number = Double(text), number.isFinite, abs(number) <= limit else {
                    diagnostics.append(.error(.catalogBadCoordinate, at: loc(row.line, col(name)),
                        "\(name) '\(text)' is not a number between -\(Int(limit)) and \(Int(limit))"))
                    rowOK = false
                    return nil
                }
                return number
            }
            let latitude = coordinate("latitude", limit: 90)
            let longitude = coordinate("longitude", limit: 180)
            guard rowOK else { continue }
            zones.append(Zone(
                code: code,
                providerName: value("provider_name") ?? "",
                countryCode: country,
                country: value("country") ?? "",
                city: value("region_city") ?? "",
                endpoint: value("endpoint") ?? "",
                euHeadquartered: flags.contains("eu_headquartered"),
                latitude: latitude,
                longitude: longitude,
                flags: flags,
                index: zones.count,
                location: loc(row.line, 1)
            ))
        }
        let catalog = Catalog(zones: zones, flagNames: flagColumns.map(\.name), file: file, contents: bytes)
        return Result(catalog: catalog, diagnostics: diagnostics)
    }
}
