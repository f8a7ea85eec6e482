/// The zones of a backends file (`config/s3_backends.json`, the original service's format: an
/// object keyed by backend name with `zone_code` and `enabled`), as policies see it.
public enum BackendsFile {
    public struct Result: Sendable {
        /// Zone codes that have an enabled backend.
        public var enabledZones: Set<String>
        public var diagnostics: [Diagnostic]
        /// Where each zone code is written in the file.
        public var zoneLocations: [String: SourceLocation] = [:]
    }

    public static func load(path: String, catalog: Catalog) throws(FileReader.Failure) -> Result {
        let bytes = try FileReader.read(path)
        return parse(String(decoding: bytes, as: UTF8.self), file: path, catalog: catalog)
    }

    public static func parse(_ text: String, file: String, catalog: Catalog) -> Result {
        var diagnostics: [Diagnostic] = []
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            return Result(enabledZones: [], diagnostics: [
                .error(.backendsMalformed, at: SourceLocation(file: file, line: error.line, column: error.column), error.message),
            ])
        }
        guard case .object(let backends) = value else {
            return Result(enabledZones: [], diagnostics: [
                .error(.backendsMalformed, at: SourceLocation(file: file, line: 1, column: 1),
                       "a backends file is a JSON object keyed by backend name"),
            ])
        }
        let location = SourceLocation(file: file, line: 1, column: 1)
        var zones = Set<String>()
        for (name, backend) in backends {
            guard let zone = backend["zone_code"]?.stringValue else {
                diagnostics.append(.error(.backendsMalformed, at: location, "backend '\(name)' has no zone_code"))
                continue
            }
            guard catalog.zone(zone) != nil else {
                diagnostics.append(.error(.backendUnknownZone, at: location,
                    "backend '\(name)' names zone '\(zone)', which is not in the catalog \(catalog.file)",
                    hints: Suggestions.hint(for: zone, in: catalog.zones.map(\.code))))
                continue
            }
            if backend["enabled"]?.boolValue ?? true { zones.insert(zone) }
        }
        var locations: [String: SourceLocation] = [:]
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains("zone_code") else { continue }
            for (_, backend) in backends {
                guard let zone = backend["zone_code"]?.stringValue, locations[zone] == nil,
                      let range = line.firstRange(of: "\"\(zone)\"") else { continue }
                let column = line.distance(from: line.startIndex, to: range.lowerBound) + 1
                locations[zone] = SourceLocation(file: file, line: i + 1, column: column)
            }
        }
        return Result(enabledZones: zones, diagnostics: diagnostics, zoneLocations: locations)
    }
}
