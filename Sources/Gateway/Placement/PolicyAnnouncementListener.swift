import Logging
import Metadata
import ServiceLifecycle

/// Makes a policy reload on one gateway instance reach every instance on the same metadata
/// store: it listens for the sets other instances put in force (``PolicySetAnnouncer``,
/// PostgreSQL's `LISTEN`/`NOTIFY`) and reloads this instance's own policy files and catalog
/// when the announced set is not the one in force here. Every instance reads its own
/// `POLICIES_DIR`, so the files must be deployed to all of them before the reload; an instance
/// whose files give another set keeps that set, fails closed as any reload does, and says so in
/// its log.
///
/// Announcements made while the connection to the store is down are lost, so after a lost
/// connection the listener, once listening again, reloads once to catch up.
struct PolicyAnnouncementListener: Service {
    let state: GatewayState
    let announcer: any PolicySetAnnouncer
    /// Longest wait between two attempts to listen again.
    var maximumBackoff: Duration = .seconds(30)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await state.startup.wait()
            var backoff: Duration = .seconds(1)
            var resume = false
            while !Task.isCancelled {
                do {
                    try await announcer.listenForPolicySets(listening: { [resume] in
                        if resume { await state.catchUpOnPolicyAnnouncements() }
                    }, received: { hash in
                        await state.policySetAnnounced(hash)
                    })
                    backoff = .seconds(1)
                } catch {
                    if Task.isCancelled { break }
                    state.logger.warning("not listening for policy reloads of other instances; retrying in \(backoff)",
                                         metadata: ["error": "\(error)"])
                }
                resume = true
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, maximumBackoff)
            }
        }
    }
}

extension GatewayState {
    /// Another instance (or this one) announced that it put the set with `hash` in force.
    func policySetAnnounced(_ hash: String) async {
        guard hash != policyStore.current.hash else { return }
        let result = await reloadPolicies(trigger: "announced by another instance", announce: false)
        if result.policySetHash != hash {
            logger.warning("another instance put policy set \(hash) in force; this instance's policy files and catalog give \(result.policySetHash), which stays in force here",
                           metadata: ["policy.announced": "\(hash)", "policy.set": "\(result.policySetHash)"])
        }
    }

    /// Listening again after the connection was lost: reloads once, in case a reload was
    /// announced meanwhile.
    func catchUpOnPolicyAnnouncements() async {
        _ = await reloadPolicies(trigger: "listening for other instances' reloads again", announce: false)
    }
}
