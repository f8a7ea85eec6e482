/// Compiles a parsed `PolicySet` against a `Catalog` (and optionally the zones that have an
/// enabled backend) into a `CompiledPolicySet`, checking every object class on the way.
public struct PolicyCompiler: Sendable {
    /// Zones with an enabled backend; nil = every catalog zone may be used.
    public var enabledZones: Set<String>?
    /// Where `enabledZones` came from, for explanations.
    public var backendsFile: String?
    /// Where the backends file names zones (see `BackendsFile.Result.zoneLocations`).
    public var backendLocations: [String: SourceLocation] = [:]
    /// Bound on the number of object classes analysed.
    public var classLimit: Int

    public init(enabledZones: Set<String>? = nil, backendsFile: String? = nil, classLimit: Int = 200_000) {
        self.enabledZones = enabledZones
        self.backendsFile = backendsFile
        self.classLimit = classLimit
    }

    public struct Result: Sendable {
        /// The compiled set; present even when there are errors, so that tools can still explain.
        public var compiled: CompiledPolicySet
        public var diagnostics: [Diagnostic]
        public var isValid: Bool { !diagnostics.hasErrors }
    }

    public func compile(_ set: PolicySet, catalog: Catalog) -> Result {
        var diagnostics = set.diagnostics
        let groups = resolveGroups(set.countryGroups, into: &diagnostics)
        let index = CatalogIndex(catalog)
        let residency = set.residencyPolicies.map { policy in
            let errorsBefore = diagnostics.errorCount
            var resolved = resolve(policy, groups: groups, catalog: catalog, index: index, into: &diagnostics)
            resolved.hasErrors = policy.hasErrors || diagnostics.errorCount > errorsBefore
            return resolved
        }
        var replication = set.replicationPolicies
        for i in replication.indices {
            let errorsBefore = diagnostics.errorCount
            checkPrefer(replication[i], catalog: catalog, index: index, into: &diagnostics)
            if diagnostics.errorCount > errorsBefore { replication[i].hasErrors = true }
        }

        var usable = ZoneSet(count: catalog.zones.count, full: true)
        if let enabledZones {
            for zone in catalog.zones where !enabledZones.contains(zone.code) { usable.remove(zone.index) }
        }
        let hash = PolicySetHash.compute(files: set.files, catalog: catalog, enabledZones: enabledZones)
        let compiled = CompiledPolicySet(
            catalog: catalog, residency: residency, replication: replication, countryGroups: groups,
            usable: usable, backendsFile: backendsFile, backendLocations: backendLocations,
            policySetHash: hash, classLimit: classLimit)
        diagnostics += compiled.analysis.diagnostics
        // Without the documents of files that did not parse, a missing catch-all is no finding.
        // Errors inside documents that were read (a yes/no boolean, an unknown field) do not
        // hide a catch-all.
        let parsedEverything = set.unparsedFiles.isEmpty
        let fallback = set.files.first.map { SourceLocation(file: $0.path, line: 1, column: 1) }
        if parsedEverything, !set.residencyPolicies.contains(where: { $0.match.isCatchAll }) {
            diagnostics.append(.warning(.missingCatchAll, at: set.residencyPolicies.first?.location ?? fallback,
                "no residency policy has `match: {}`: objects that no residency policy matches are refused",
                hints: ["add a catch-all ResidencyPolicy, e.g. one that allows countries [EU]"]))
        }
        if parsedEverything, !set.replicationPolicies.contains(where: { $0.match.isCatchAll }) {
            diagnostics.append(.warning(.missingCatchAll, at: set.replicationPolicies.first?.location ?? fallback,
                "no replication policy has `match: {}`: objects that no replication policy matches are refused",
                hints: ["add a catch-all ReplicationPolicy with a low priority"]))
        }
        return Result(compiled: compiled, diagnostics: diagnostics)
    }

    // MARK: groups

    private func resolveGroups(_ groups: [CountryGroup], into diagnostics: inout [Diagnostic]) -> [String: Set<String>] {
        var definitions: [String: CountryGroup] = [:]
        for group in groups {
            let key = group.metadata.name.uppercased()
            if Countries.builtInGroups[key] != nil || Countries.isCode(key) {
                let what = Countries.isCode(key) ? "the country code \(key)" : "the built-in group \(key)"
                diagnostics.append(.error(.groupShadows, at: group.metadata.location,
                    "country group '\(group.metadata.name)' would shadow \(what)",
                    hints: ["choose another name"]))
                continue
            }
            if definitions[key] == nil { definitions[key] = group }
        }
        var resolved: [String: Set<String>] = [:]
        var visiting: Set<String> = []
        func resolve(_ key: String) -> Set<String> {
            if let done = resolved[key] { return done }
            guard let group = definitions[key] else { return [] }
            visiting.insert(key)
            var members = Set<String>()
            for entry in group.countries {
                let upper = entry.value.uppercased()
                if Countries.isCode(entry.value) {
                    members.insert(entry.value)
                } else if let builtIn = Countries.builtInGroups[upper] {
                    members.formUnion(builtIn)
                } else if definitions[upper] != nil {
                    if visiting.contains(upper) {
                        diagnostics.append(.error(.groupCycle, at: entry.location,
                            "country group '\(group.metadata.name)' includes itself through '\(entry.value)'"))
                    } else {
                        members.formUnion(resolve(upper))
                    }
                } else {
                    diagnostics.append(unknownCountry(entry, groupNames: Array(definitions.keys)))
                }
            }
            visiting.remove(key)
            resolved[key] = members
            return members
        }
        for key in definitions.keys.sorted() { _ = resolve(key) }
        return resolved
    }

    private func unknownCountry(_ entry: Located<String>, groupNames: [String]) -> Diagnostic {
        let upper = entry.value.uppercased()
        var hints: [String]
        if let fix = Countries.commonMistakes[upper] {
            hints = ["did you mean '\(fix)'? (ISO 3166-1 alpha-2)"]
        } else if Countries.isCode(upper) {
            hints = ["country codes are upper-case: write '\(upper)'"]
        } else {
            hints = Suggestions.hint(for: upper, in: Countries.builtInGroups.keys.sorted() + groupNames.sorted() + Countries.codes.sorted())
        }
        return .error(.unknownCountry, at: entry.location,
                      "'\(entry.value)' is neither an ISO 3166-1 alpha-2 country code nor a country group", hints: hints)
    }

    // MARK: residency

    private func resolve(_ policy: ResidencyPolicy, groups: [String: Set<String>], catalog: Catalog, index: CatalogIndex,
                         into diagnostics: inout [Diagnostic]) -> ResolvedResidency {
        func filter(_ f: ZoneFilter?, _ kind: String) -> ResolvedResidency.Filter? {
            guard let f else { return nil }
            var result = ResolvedResidency.Filter(written: [])
            func located(_ list: [Located<String>]) -> SourceLocation { list.first?.location ?? f.location }
            if let countries = f.countries {
                var set = Set<String>()
                for entry in countries {
                    let upper = entry.value.uppercased()
                    if Countries.isCode(entry.value) { set.insert(entry.value) }
                    else if let g = Countries.builtInGroups[upper] { set.formUnion(g) }
                    else if let g = groups[upper] { set.formUnion(g) }
                    else { diagnostics.append(unknownCountry(entry, groupNames: Array(groups.keys))) }
                }
                result.countries = set
                result.written.append(("countries", countries.map(\.value), located(countries)))
            }
            if let cities = f.cities {
                for entry in cities where index.byCity[entry.value.lowercased()] == nil {
                    diagnostics.append(.warning(.unknownCity, at: entry.location,
                        "no zone of the catalog is in the city '\(entry.value)'",
                        hints: Suggestions.hint(for: entry.value, in: catalog.cityNames)))
                }
                result.cities = Set(cities.map { $0.value.lowercased() })
                result.written.append(("cities", cities.map(\.value), located(cities)))
            }
            if let providers = f.providers {
                for entry in providers where index.byProvider[entry.value.lowercased()] == nil {
                    diagnostics.append(.warning(.unknownProvider, at: entry.location,
                        "no zone of the catalog has the provider '\(entry.value)'",
                        hints: Suggestions.hint(for: entry.value, in: catalog.providerNames)))
                }
                result.providers = Set(providers.map { $0.value.lowercased() })
                result.written.append(("providers", providers.map(\.value), located(providers)))
            }
            if let zones = f.zones {
                for entry in zones where catalog.zone(entry.value) == nil {
                    diagnostics.append(.error(.unknownZone, at: entry.location,
                        "unknown zone '\(entry.value)': it is not in the catalog \(catalog.file)",
                        hints: Suggestions.hint(for: entry.value, in: catalog.zones.map(\.code))))
                }
                result.zones = Set(zones.map(\.value))
                result.written.append(("zones", zones.map(\.value), located(zones)))
            }
            // A list with a refused entry is not the list as written: its length says nothing.
            for w in result.written where kind == "allow" && w.entries.isEmpty && !f.incompleteFields.contains(w.field) {
                diagnostics.append(.warning(.emptyList, at: w.location,
                    "allow.\(w.field) is empty: it admits no zone",
                    hints: ["omit allow.\(w.field) to place no restriction by it"]))
            }
            return result
        }
        var flags: [Located<String>] = []
        for entry in (policy.require?.capabilities ?? []) + (policy.require?.certifications ?? []) {
            if catalog.flagNames.contains(entry.value) {
                flags.append(entry)
            } else {
                diagnostics.append(.error(.unknownFlag, at: entry.location,
                    "'\(entry.value)' is not a capability or certification column of the catalog",
                    hints: Suggestions.hint(for: entry.value, in: catalog.flagNames)
                        + ["catalog flags: " + catalog.flagNames.joined(separator: ", ")]))
            }
        }
        return ResolvedResidency(
            policy: policy, allow: filter(policy.allow, "allow"), deny: filter(policy.deny, "deny"),
            requiredFlags: flags, euHeadquartered: policy.require?.euHeadquartered, index: index)
    }

    private func checkPrefer(_ policy: ReplicationPolicy, catalog: Catalog, index: CatalogIndex, into diagnostics: inout [Diagnostic]) {
        for entry in policy.prefer where catalog.zone(entry.value) == nil && index.byProvider[entry.value.lowercased()] == nil {
            diagnostics.append(.error(.unknownZone, at: entry.location,
                "prefer entry '\(entry.value)' is neither a zone code nor a provider of the catalog",
                hints: Suggestions.hint(for: entry.value, in: catalog.zones.map(\.code) + catalog.providerNames)))
        }
    }
}
