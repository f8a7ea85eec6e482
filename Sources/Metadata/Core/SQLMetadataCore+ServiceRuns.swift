import Foundation

/// Runs of background work that one instance does for all (``MetadataStore/claimServiceRun(name:holder:now:lease:interval:)``):
/// a row per kind of work, claimed with a conditional UPDATE, so that of instances that claim
/// together one gets it (PostgreSQL re-checks the condition on the row it waited for).
extension SQLMetadataCore {
    func claimServiceRun(name: String, holder: String, now: Date, lease: TimeInterval, interval: TimeInterval) async throws -> Bool {
        try await engine.transaction { db in
            try await db.execute("""
                INSERT INTO service_runs (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING
                """)
            let claimed = try await db.query("""
                UPDATE service_runs SET holder = \(holder), lease_until = \(now.addingTimeInterval(lease)), last_started_at = \(now)
                WHERE name = \(name)
                    AND (holder IS NULL OR holder = \(holder) OR lease_until IS NULL OR lease_until < \(now))
                    AND (last_ended_at IS NULL OR last_ended_at <= \(now.addingTimeInterval(-interval)))
                RETURNING name
                """)
            return !claimed.isEmpty
        }
    }

    func renewServiceRun(name: String, holder: String, now: Date, lease: TimeInterval) async throws -> Bool {
        try await engine.transaction { db in
            !(try await db.query("""
                UPDATE service_runs SET lease_until = \(now.addingTimeInterval(lease))
                WHERE name = \(name) AND holder = \(holder)
                RETURNING name
                """)).isEmpty
        }
    }

    func finishServiceRun(name: String, holder: String, now: Date) async throws {
        try await engine.transaction { db in
            try await db.execute("""
                UPDATE service_runs SET holder = NULL, lease_until = NULL, last_ended_at = \(now)
                WHERE name = \(name) AND holder = \(holder)
                """)
        }
    }
}
