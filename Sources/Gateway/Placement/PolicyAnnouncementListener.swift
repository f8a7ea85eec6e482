import Foundation
import Logging
import Metadata
import ServiceLifecycle
import Synchronization

/// What this instance knows of the other instances' policy sets, for `/api/policies`.
final class PolicyAnnouncementStatus: Sendable {
    struct Snapshot: Sendable {
        /// Whether announcements are being received now.
        var listening = false
        /// The last set announced on the store (by any instance, this one included), and when.
        var lastAnnounced: String?
        var lastAnnouncedAt: Date?
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func setListening(_ listening: Bool) { state.withLock { $0.listening = listening } }

    func announced(_ hash: String, at date: Date = Date()) {
        state.withLock {
            $0.lastAnnounced = hash
            $0.lastAnnouncedAt = date
        }
    }
}

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
                        state.announcementStatus.setListening(true)
                        if resume { await state.catchUpOnPolicyAnnouncements() }
                    }, received: { hash in
                        await state.policySetAnnounced(hash)
                    })
                    state.announcementStatus.setListening(false)
                    backoff = .seconds(1)
                } catch {
                    state.announcementStatus.setListening(false)
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
        announcementStatus.announced(hash)
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
