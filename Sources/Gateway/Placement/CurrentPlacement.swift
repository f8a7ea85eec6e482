import Metadata
import PolicyEngine

/// Where the policies in force let a stored version's copies be. Repairs and copies made after
/// the write follow these, not the zones planned when the version was written: a zone that a
/// reload took out of an object's eligible set gets no new copy of it (fail closed), and the
/// copies already there are drift (see ``DriftRemediation``).
struct CurrentPlacement: Sendable {
    /// The plan the policies in force make for the version's bucket, key and tags.
    let plan: PlacementPlan
    /// The zones that plan allows; empty when the policies in force refuse the object.
    let allowed: Set<String>

    init(_ version: ObjectVersion, policies: CompiledPolicySet) {
        plan = policies.plan(for: ObjectRef(bucket: version.bucket, key: version.key,
                                            tags: version.tags.map { .init(key: $0.key, value: $0.value) }))
        allowed = plan.allowed ? Set(plan.eligibleZones.map(\.code)) : []
    }

    /// Zones a repair may copy to, in preference order: `preferred` (the zones a repair
    /// retries first, then the ones planned at the write), then the zones the policies in force
    /// choose for the object now (which meet its provider and city diversity); only zones the
    /// policies in force allow and that have a backend here.
    func repairZones(preferring preferred: [String], backends: Set<String>) -> [String] {
        (preferred + plan.zones.map(\.code)).uniqued().filter { allowed.contains($0) && backends.contains($0) }
    }

    /// The copies a version needs now: the replication policy's count for the object, or what
    /// was required when it was written if no policy sets one.
    func copies(writtenWith required: Int) -> Int { plan.copies > 0 ? plan.copies : required }
}

extension GatewayState {
    func currentPlacement(of version: ObjectVersion) -> CurrentPlacement {
        CurrentPlacement(version, policies: policies)
    }
}
