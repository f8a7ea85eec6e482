/// A metadata store that several gateway instances share tells all of them when one puts a
/// policy set in force, so that a reload on one instance reaches every instance.
///
/// ```swift
/// if let announcer = store as? any PolicySetAnnouncer {
///     try await announcer.announcePolicySet(hash: loaded.hash)
/// }
/// ```
public protocol PolicySetAnnouncer: Sendable {
    /// Tells every instance listening on this store (this one included) that the policy set
    /// with `hash` was put in force.
    func announcePolicySet(hash: String) async throws

    /// Listens until cancelled or until the connection to the store fails (then it throws):
    /// calls `listening` once announcements are being received, then `received` with the hash
    /// of every set announced, in order. Announcements made while nobody listens are lost.
    func listenForPolicySets(
        listening: @escaping @Sendable () async -> Void,
        received: @escaping @Sendable (String) async -> Void
    ) async throws
}
