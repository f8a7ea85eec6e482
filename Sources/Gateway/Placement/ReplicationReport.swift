import HTTPTypes
import Metadata

/// How far a version's copies are, as GET and HEAD report it.
///
/// - `x-amz-replication-status` (S3's header, when the policy asks for more than one copy):
///   `COMPLETED` when the planned number of copies is complete, `FAILED` when a copy failed
///   for good (the reconciler retries it later), `PENDING` while copies are still being made.
/// - `x-gateway-replicas`: every replica as `ZONE=STATUS`, comma-separated, in plan order,
///   e.g. `FI-HEL-ST-1=COMPLETED,FI-HEL-UC-1=PENDING`.
struct ReplicationReport: Sendable, Hashable {
    enum Status: String, Sendable {
        case pending = "PENDING"
        case completed = "COMPLETED"
        case failed = "FAILED"
    }

    static let statusHeader = HTTPField.Name("x-amz-replication-status")!
    static let replicasHeader = HTTPField.Name("x-gateway-replicas")!

    /// Replicas that hold or will hold the version (not those being deleted), in plan order.
    let replicas: [Replica]
    let requiredCopies: Int

    init(version: ObjectVersion, replicas: [Replica]) {
        let planned = version.placement.plannedZones
        let rank = { (zone: String) in planned.firstIndex(of: zone) ?? Int.max }
        self.replicas = replicas.filter { $0.status != .deleting }
            .sorted { (rank($0.zone), $0.zone) < (rank($1.zone), $1.zone) }
        self.requiredCopies = version.placement.requiredCopies
    }

    var status: Status {
        if replicas.filter({ $0.status == .complete }).count >= requiredCopies { return .completed }
        return replicas.contains { $0.status == .failed } ? .failed : .pending
    }

    static func label(_ status: ReplicaStatus) -> String {
        switch status {
        case .complete: "COMPLETED"
        case .pending: "PENDING"
        case .failed: "FAILED"
        case .deleting: "DELETING"
        }
    }

    var replicasValue: String {
        replicas.map { "\($0.zone)=\(Self.label($0.status))" }.joined(separator: ",")
    }

    func apply(to headers: inout HTTPFields) {
        if requiredCopies > 1 { headers[Self.statusHeader] = status.rawValue }
        if !replicas.isEmpty { headers[Self.replicasHeader] = replicasValue }
    }
}
