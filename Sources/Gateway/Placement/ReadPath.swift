import Logging
import Metadata
import NIOCore
import S3Protocol

/// Reads a version from the first healthy complete replica in plan order, failing over to the
/// next before the response starts.
struct ReadPath {
    let state: GatewayState

    func open(_ version: ObjectVersion, range: ClosedRange<Int64>?, logger: Logger) async throws -> BackendReadStream {
        let replicas = try await state.store.replicas(storageId: version.storageId).filter { $0.status == .complete }
        let order = version.placement.plannedZones
        let sorted = replicas.sorted { (order.firstIndex(of: $0.zone) ?? Int.max) < (order.firstIndex(of: $1.zone) ?? Int.max) }
        for replica in sorted where state.isHealthy(replica.zone) {
            guard let backend = state.backends[replica.zone] else { continue }
            do {
                return try await backend.read(key: replica.backendKey, range: range)
            } catch {
                logger.warning("replica read failed, trying the next", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
            }
        }
        throw S3Error(.serviceUnavailable, message: "No replica of this object is readable right now.")
    }
}
