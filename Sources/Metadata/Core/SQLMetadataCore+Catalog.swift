import Foundation

extension SQLMetadataCore {
    func replaceProviders(_ providers: [ProviderRecord]) async throws {
        try await mapping(unique: MetadataError(.conflict, "the catalog lists a zone code twice")) {
            try await engine.transaction { db in
                try await db.execute("DELETE FROM providers")
                for start in stride(from: 0, to: providers.count, by: 500) {
                    let rows = providers[start..<min(start + 500, providers.count)].map { p -> SQL in
                        """
                        (\(p.zoneCode), \(p.providerName), \(p.countryCode), \(p.regionCity), \(p.endpoint), \
                        \(JSONColumn.encode(p.flags)))
                        """
                    }
                    try await db.execute("""
                        INSERT INTO providers (\(sql: Rows.providerColumns)) VALUES \(sql: SQL.joined(rows, separator: ", "))
                        """)
                }
            }
        }
    }

    func listProviders() async throws -> [ProviderRecord] {
        try await engine.read { db in
            try await db.query("SELECT \(sql: Rows.providerColumns) FROM providers ORDER BY zone_code").map(Rows.provider)
        }
    }

    func recordPolicySet(_ record: PolicySetRecord) async throws -> Bool {
        try await engine.transaction { db in
            try await db.first("""
                INSERT INTO replication_rules (hash, summary, loaded_at)
                VALUES (\(record.hash), \(record.summaryJSON), \(record.loadedAt))
                ON CONFLICT (hash) DO NOTHING RETURNING hash
                """) != nil
        }
    }

    func listPolicySets() async throws -> [PolicySetRecord] {
        try await engine.read { db in
            try await db.query("SELECT hash, summary, loaded_at FROM replication_rules ORDER BY loaded_at DESC, hash").map {
                PolicySetRecord(hash: try $0.string("hash"), summaryJSON: try $0.string("summary"), loadedAt: try $0.date("loaded_at"))
            }
        }
    }
}
