/// A JSON Schema (draft-07) of the policy files, for editors' YAML support
/// (e.g. `# yaml-language-server: $schema=policy.schema.json`).
public enum PolicySchema {
    /// `flagNames`: the boolean columns of the catalog the policies are written for, offered as
    /// the only values of `require.capabilities`/`certifications`. Without a catalog (nil) any
    /// column name is accepted there, and the known columns are given as examples.
    public static func json(flagNames: [String]? = nil) -> JSONValue {
        func obj(_ fields: [(String, JSONValue)]) -> JSONValue { .object(fields) }
        func string(_ description: String, pattern: String? = nil, enumValues: [String]? = nil) -> JSONValue {
            var f: [(String, JSONValue)] = [("type", "string"), ("description", .string(description))]
            if let pattern { f.append(("pattern", .string(pattern))) }
            if let enumValues { f.append(("enum", .strings(enumValues))) }
            return .object(f)
        }
        func stringList(_ description: String, items: JSONValue = .object([("type", "string")])) -> JSONValue {
            obj([("type", "array"), ("description", .string(description)), ("items", items)])
        }
        func integer(_ description: String, minimum: Int? = nil, maximum: Int? = nil) -> JSONValue {
            var f: [(String, JSONValue)] = [("type", "integer"), ("description", .string(description))]
            if let minimum { f.append(("minimum", .int(Int64(minimum)))) }
            if let maximum { f.append(("maximum", .int(Int64(maximum)))) }
            return .object(f)
        }
        /// `nullable`: the parser takes an empty value (`match:`, `allow: ~`) as an empty mapping.
        func strict(_ properties: [(String, JSONValue)], required: [String] = [], description: String? = nil,
                    nullable: Bool = false) -> JSONValue {
            var f: [(String, JSONValue)] = [("type", nullable ? .strings(["object", "null"]) : "object")]
            if let description { f.append(("description", .string(description))) }
            f += [("additionalProperties", false), ("properties", .object(properties))]
            if !required.isEmpty { f.append(("required", .strings(required))) }
            return .object(f)
        }
        // Free text where the parser takes every scalar as the text it spells: `~`, `null`, an
        // empty value, `3` or `true` are strings to it, so the schema accepts them too.
        func text(_ description: String) -> JSONValue {
            obj([("type", .strings(["string", "number", "boolean", "null"])), ("description", .string(description))])
        }
        let anyText: JSONValue = obj([("type", .strings(["string", "number", "boolean", "null"]))])
        let duration = string("integer + unit s, m, h, d, w or y (y = 365 days), e.g. 15m, 365d, 7y", pattern: "^[1-9][0-9]*[smhdwy]$")
        let country = string("ISO 3166-1 alpha-2 code (upper-case) or a country group name (EU, EEA, NORDICS or a CountryGroup)")
        let selector = strict([
            ("buckets", stringList("bucket-name globs with * and ?, case-sensitive; any may hold; omitted = every bucket", items: anyText)),
            ("keyPrefixes", stringList("key prefixes; any may hold; omitted = every key", items: anyText)),
            ("tags", obj([("type", "object"), ("description", "object tags that must all hold; \"*\" = present with any value"),
                          ("additionalProperties", anyText)])),
        ], description: "which objects the policy applies to; all given fields must hold; {} matches every object",
           nullable: true)
        let filter = { (what: String) in strict([
            ("countries", stringList("\(what) these countries or groups", items: country)),
            ("cities", stringList("\(what) these cities (case-insensitive)")),
            ("providers", stringList("\(what) these providers (case-insensitive)")),
            ("zones", stringList("\(what) these zone codes")),
        ], nullable: true) }
        let metadata = strict([
            ("name", string("lowercase DNS label, unique per kind", pattern: "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")),
            ("description", text("what the policy is for")),
            ("owner", text("who answers for it; shown in explanations")),
        ], required: ["name"])
        let flag: JSONValue = if let flagNames {
            string("a boolean column of the catalog", enumValues: flagNames)
        } else {
            // Any boolean column of the catalog is a flag: without the catalog, any column name.
            obj([("type", "string"),
                 ("description", "a boolean column of the catalog (true/false values), e.g. object_lock or iso27001"),
                 ("pattern", "^\\S(.*\\S)?$"),
                 ("examples", .strings(Catalog.knownBooleanColumns))])
        }
        let residencySpec = strict([
            ("match", selector),
            ("allow", filter("admit only")),
            ("deny", filter("exclude")),
            ("require", strict([
                ("capabilities", stringList("boolean catalog columns every zone must have", items: flag)),
                ("certifications", stringList("boolean catalog columns every zone must have", items: flag)),
                ("euHeadquartered", obj([("type", "boolean"), ("description", "the operator's legal seat is in the EU")])),
            ], nullable: true)),
        ], required: ["match"])
        let replicationSpec = strict([
            ("match", selector),
            ("priority", integer("the highest-priority matching policy applies (default 0)", minimum: -1_000_000, maximum: 1_000_000)),
            ("copies", integer("replicas of every version", minimum: 1, maximum: 16)),
            ("minProviders", integer("distinct providers among the copies (default 1), at most copies", minimum: 1, maximum: 16)),
            ("minCities", integer("distinct cities among the copies (default 1), at most copies", minimum: 1, maximum: 16)),
            ("writeQuorum", integer("copies durable before the client gets 200 (default = copies), 1…copies", minimum: 1, maximum: 16)),
            ("replicationDeadline", duration),
            ("placement", string("ordered (default) or spread", enumValues: Placement.allCases.map(\.rawValue))),
            ("prefer", stringList("zone codes or provider names tried first, in order")),
            ("versioning", string("enabled (default), suspended or bucket", enumValues: VersioningMode.allCases.map(\.rawValue))),
            ("immutability", strict([
                ("mode", string("compliance or governance", enumValues: RetentionMode.allCases.map(\.rawValue))),
                ("retention", duration),
            ], required: ["mode", "retention"])),
        ], required: ["match", "copies"])
        let groupSpec = strict([("countries", stringList("member countries", items: country))], required: ["countries"])
        let expect = strict([
            ("allowed", obj([("type", "boolean")])),
            ("zones", stringList("exact chosen zones, in order")),
            ("zonesInclude", stringList("zones that must be chosen")),
            ("zonesExclude", stringList("zones that must not be chosen")),
            ("copies", integer("expected copies")),
            ("writeQuorum", integer("expected write quorum")),
            ("countries", stringList("every chosen zone is in one of these", items: country)),
            ("replicationPolicy", string("the applying replication policy")),
            ("residencyPolicies", stringList("the matching residency policies")),
            ("versioning", string("expected versioning", enumValues: VersioningMode.allCases.map(\.rawValue))),
        ], nullable: true)
        let testSpec = strict([
            ("cases", obj([("type", "array"), ("items", strict([
                ("name", text("case name")),
                ("object", strict([
                    ("bucket", text("bucket")), ("key", text("key")),
                    ("tags", obj([("type", "object"), ("additionalProperties", anyText)])),
                ], required: ["bucket", "key"])),
                ("expect", expect),
            ], required: ["object", "expect"]))])),
        ], required: ["cases"])
        func kindRule(_ kind: PolicyKind, _ spec: JSONValue) -> JSONValue {
            obj([("if", obj([("properties", obj([("kind", obj([("const", .string(kind.rawValue))]))]))])),
                 ("then", obj([("properties", obj([("spec", spec)]))]))])
        }
        return obj([
            ("$schema", "http://json-schema.org/draft-07/schema#"),
            ("$id", "https://sovereignty.invalid/schemas/policy-v1.json"),
            ("title", "Sovereignty policy document (sovereignty/v1)"),
            ("type", "object"),
            ("additionalProperties", false),
            ("required", .strings(["kind", "metadata", "spec"])),
            ("properties", obj([
                ("apiVersion", obj([("const", .string(PolicyEngineInfo.apiVersion)),
                                    ("description", "required, except in a PolicyTest")])),
                ("kind", string("document kind", enumValues: PolicyKind.allCases.map(\.rawValue))),
                ("metadata", metadata),
                ("spec", obj([("type", "object")])),
            ])),
            ("allOf", .array([
                // apiVersion may be left out of a PolicyTest only.
                obj([("if", obj([("required", .strings(["kind"])),
                                 ("properties", obj([("kind", obj([("const", .string(PolicyKind.policyTest.rawValue))]))]))])),
                     ("else", obj([("required", .strings(["apiVersion"]))]))]),
                kindRule(.residencyPolicy, residencySpec),
                kindRule(.replicationPolicy, replicationSpec),
                kindRule(.countryGroup, groupSpec),
                kindRule(.policyTest, testSpec),
            ])),
        ])
    }
}
