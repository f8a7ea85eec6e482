import Foundation
import Logging
import Metadata
import NIOPosix
import PolicyEngine

/// What a policy reload did, as `POST /api/policies/reload` reports it.
struct PolicyReloadResult: Sendable {
    /// Whether a new set was compiled, recorded and put in force.
    var reloaded: Bool
    /// Hash of the set in force after the attempt (the previous one when refused).
    var policySetHash: String
    /// Hash of the set in force before the attempt.
    var previousHash: String
    /// Every finding of the attempt: the errors that refused it, or the warnings it was loaded with.
    var diagnostics: [Diagnostic]
}

extension GatewayState {
    /// Recompiles `POLICIES_DIR` and `PROVIDERS_FILE` and puts the new set in force, failing
    /// closed: a set with any error, or one the metadata store cannot record, is refused and
    /// the set in force stays. Requests already running finish with the set they started with.
    ///
    /// With `announce` (a reload asked of this instance: SIGHUP, the management API), a set put
    /// in force is announced to the other instances on the same metadata store
    /// (``PolicySetAnnouncer``), and each of them reloads its own files in turn
    /// (``PolicyAnnouncementListener``).
    func reloadPolicies(trigger: String, announce: Bool = true) async -> PolicyReloadResult {
        let ticket = policyStore.beginReload()
        let previous = policyStore.current
        // Compiling a large set takes tens of milliseconds: not on an event loop.
        let (configuration, definitions) = (self.configuration, backendDefinitions)
        let outcome = await (try? NIOThreadPool.singleton.runIfActive { PolicyLoader.load(configuration, definitions: definitions) })
            ?? PolicyLoader.load(configuration, definitions: definitions)
        guard let compiled = outcome.compiled else {
            return refuse(outcome.diagnostics, previous: previous, trigger: trigger)
        }
        let loaded = LoadedPolicySet(compiled: compiled, diagnostics: outcome.diagnostics, loadedAt: Date())
        do {
            // Recorded before it places anything, so every hash a version carries is in the store.
            _ = try await store.recordPolicySet(PolicyLoader.record(loaded, zones: Array(backends.keys)))
            try await store.replaceProviders(PolicyLoader.providerRecords(compiled.catalog))
        } catch {
            var failure = Diagnostic.error(.unreadableFile, at: nil, "the metadata store did not record the policy set: \(error)")
            failure.code = "policy-set-not-recorded"
            return refuse(outcome.diagnostics + [failure], previous: previous, trigger: trigger)
        }
        for d in outcome.diagnostics where d.severity == .warning { logger.warning("policy: \(d)") }
        guard let replaced = policyStore.install(loaded, ticket: ticket) else {
            // A reload that started later already put in the set it read; that one stays (and
            // announces it, if it is to be announced).
            let current = policyStore.current
            logger.notice("policy reload superseded by a later one", metadata: ["trigger": "\(trigger)", "policy.set": "\(current.hash)"])
            return PolicyReloadResult(reloaded: true, policySetHash: current.hash, previousHash: previous.hash,
                                      diagnostics: outcome.diagnostics)
        }
        if announce, let announcer {
            do {
                try await announcer.announcePolicySet(hash: loaded.hash)
            } catch {
                logger.warning("policy set \(loaded.hash) is in force here but could not be announced to the other instances",
                               metadata: ["trigger": "\(trigger)", "error": "\(error)"])
            }
        }
        logger.notice("policy set reloaded: \(replaced.hash) → \(loaded.hash)", metadata: [
            "trigger": "\(trigger)", "policy.previous": "\(replaced.hash)", "policy.set": "\(loaded.hash)",
            "policies.residency": "\(compiled.residencyPolicies.count)", "policies.replication": "\(compiled.replicationPolicies.count)",
        ])
        return PolicyReloadResult(reloaded: true, policySetHash: loaded.hash, previousHash: replaced.hash,
                                  diagnostics: outcome.diagnostics)
    }

    private func refuse(_ diagnostics: [Diagnostic], previous: LoadedPolicySet, trigger: String) -> PolicyReloadResult {
        policyStore.recordRefusal()
        let errors = diagnostics.filter { $0.severity == .error }
        for d in errors.sortedByLocation() { logger.error("policy reload: \(d)") }
        logger.error("policy reload refused (fail closed): \(errors.count) error(s); policy set \(previous.hash) stays in force",
                     metadata: ["trigger": "\(trigger)", "policy.set": "\(previous.hash)"])
        return PolicyReloadResult(reloaded: false, policySetHash: previous.hash, previousHash: previous.hash,
                                  diagnostics: diagnostics)
    }
}
