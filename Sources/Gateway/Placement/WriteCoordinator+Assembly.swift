import Logging
import PolicyEngine

extension WriteCoordinator {
    /// Where an assembled multipart object landed.
    struct Placed {
        var written: [String]
        var missing: [String]
        /// The backend ETag of each written copy, when known.
        var etags: [String: String]
    }

    /// CompleteMultipartUpload without streaming the object through the gateway: each zone that
    /// holds every part joins its own parts (server-side where the backend can). Zones are
    /// chosen by the plan among those holding all parts; nil when fewer than the write quorum
    /// could be assembled (nothing is left behind then, and the caller streams instead).
    func assemble(parts: [(zones: [String: String], size: Int64)], plan: PlacementPlan, backendKey: String,
                  lock: BackendObjectLock?, logger: Logger) async -> Placed? {
        let zones = plan.chooseZones { zone in
            state.isHealthy(zone.code) && parts.allSatisfy { $0.zones[zone.code] != nil }
        }.map(\.code)
        guard zones.count >= plan.writeQuorum else { return nil }
        let done = await withTaskGroup(of: (String, String?, Bool).self) { group in
            for zone in zones {
                guard let backend = state.backends[zone] else { continue }
                let pieces = parts.map { BackendPart(key: $0.zones[zone]!, size: $0.size) }
                let zoneLock = lockFor(zone, lock)
                group.addTask {
                    do {
                        let etag = try await backend.assemble(parts: pieces, into: backendKey, lock: zoneLock)
                        state.health.recordSuccess(zone)
                        return (zone, etag, true)
                    } catch {
                        logger.warning("backend assembly failed", metadata: ["zone": "\(zone)", "error": "\(error)"])
                        state.health.recordFailure(zone, error)
                        try? await backend.delete(key: backendKey)
                        return (zone, nil, false)
                    }
                }
            }
            var done: [String: String?] = [:]
            for await (zone, etag, ok) in group where ok { done[zone] = etag }
            return done
        }
        let written = zones.filter { done[$0] != nil }
        guard written.count >= plan.writeQuorum else {
            for zone in written { try? await state.backends[zone]?.delete(key: backendKey) }
            return nil
        }
        let planned = plan.zones.map(\.code)
        let missing = Array((planned + zones).filter { !written.contains($0) }.uniqued().prefix(max(0, plan.copies - written.count)))
        return Placed(written: written, missing: missing, etags: done.compactMapValues { $0 })
    }
}
