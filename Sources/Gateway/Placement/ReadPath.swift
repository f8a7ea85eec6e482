import Logging
import Metadata
import NIOCore
import S3Protocol

/// Reads a version from the first healthy complete replica in plan order, failing over to the
/// next before the response starts.
struct ReadPath {
    let state: GatewayState

    /// `replicas` are the version's replica rows when the caller already has them.
    func open(_ version: ObjectVersion, replicas known: [Replica]? = nil, range: ClosedRange<Int64>?,
              logger: Logger) async throws -> BackendReadStream {
        try await openReporting(version, replicas: known, range: range, logger: logger).stream
    }

    /// ``open(_:replicas:range:logger:)``, also naming the zone that serves the read.
    func openReporting(_ version: ObjectVersion, replicas known: [Replica]? = nil, range: ClosedRange<Int64>?,
                       logger: Logger) async throws -> (stream: BackendReadStream, zone: String) {
        var replicas = known ?? []
        if known == nil { replicas = try await state.store.replicas(storageId: version.storageId) }
        // Each replica is tried once before any is tried again, with ``ObjectBackend/readOnce(key:range:)``
        // while another one is left to ask: a zone that went down costs a refused connection,
        // and one that stopped answering a short wait, not their retries and timeouts. The
        // replicas that failed as unavailable are then tried with the backend's retries.
        var again: [(replica: Replica, backend: any ObjectBackend)] = []
        let order = Self.readOrder(replicas, planned: version.placement.plannedZones, isHealthy: state.isHealthy)
            .filter { state.backends[$0.zone] != nil }
        for (n, replica) in order.enumerated() {
            guard let backend = state.backends[replica.zone] else { continue }
            let alone = n == order.count - 1 && again.isEmpty
            do {
                let stream = alone ? try await backend.read(key: replica.backendKey, range: range)
                    : try await backend.readOnce(key: replica.backendKey, range: range)
                state.health.recordSuccess(replica.zone)
                return (stream, replica.zone)
            } catch {
                state.health.recordFailure(replica.zone, error)
                logger.warning("replica read failed, trying the next", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
                if !alone, (error as? BackendError)?.code == .unavailable { again.append((replica, backend)) }
            }
        }
        for (replica, backend) in again {
            do {
                let stream = try await backend.read(key: replica.backendKey, range: range)
                state.health.recordSuccess(replica.zone)
                return (stream, replica.zone)
            } catch {
                state.health.recordFailure(replica.zone, error)
                logger.warning("replica read failed again", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
            }
        }
        throw S3Error(.serviceUnavailable, message: "No replica of this object is readable right now.")
    }

    /// Complete replicas in plan order, those whose zone's breaker is closed first; zones with
    /// an open breaker come last, as a last resort rather than a refusal.
    static func readOrder(_ replicas: [Replica], planned: [String], isHealthy: (String) -> Bool) -> [Replica] {
        let rank = { (zone: String) in planned.firstIndex(of: zone) ?? Int.max }
        let complete = replicas.filter { $0.status == .complete }
            .sorted { (rank($0.zone), $0.zone) < (rank($1.zone), $1.zone) }
        let healthy = complete.filter { isHealthy($0.zone) }
        return healthy + complete.filter { replica in !healthy.contains { $0.zone == replica.zone } }
    }
}
