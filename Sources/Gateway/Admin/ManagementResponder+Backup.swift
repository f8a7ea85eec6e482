import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import PolicyEngine
import S3Protocol

extension ManagementResponder {
    /// `POST /api/metadata/backup`: a consistent copy of the SQLite metadata, made while the
    /// gateway serves, in `DATA_DIR/backups/metadata-<UTC time>.sqlite` (201, with its path and
    /// size). The file opens on its own; restoring it is stopping the gateway and putting it in
    /// place of `metadata.sqlite` (without the old `-wal` and `-shm` files). PostgreSQL metadata
    /// is backed up with PostgreSQL's own tools (501).
    func backupMetadata() async throws -> Response {
        guard let store = state.store as? any MetadataBackupStore else {
            return Self.json(.object([
                ("error", "not supported"),
                ("message", "PostgreSQL metadata is backed up with PostgreSQL's tools (pg_dump, base backups)"),
            ]), status: .notImplemented)
        }
        let directory = URL(fileURLWithPath: state.configuration.dataDirectory).appendingPathComponent("backups").path
        try Posix.makeDirectories(directory)
        let now = Date()
        // Two backups within a second get different names; a backup never overwrites a file.
        let name = "metadata-\(Self.backupStamp(now))-\(GatewayState.newStorageId(now: now).suffix(6)).sqlite"
        let path = directory + "/" + name
        let started = ContinuousClock.now
        let bytes = try await store.backup(to: path)
        let duration = ContinuousClock.now - started
        state.logger.notice("metadata backed up", metadata: ["path": "\(path)", "bytes": "\(bytes)", "duration": "\(duration)"])
        return Self.json(.object([
            ("store", "sqlite"),
            ("path", .string(path)),
            ("bytes", .int(bytes)),
            ("created_at", .string(ISO8601Timestamp.format(now))),
        ]), status: .created)
    }

    /// `20261127T213000Z`.
    static func backupStamp(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return "\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }
}
