import Foundation

/// A small thread-safe cache of derived signing keys, keyed by
/// (secret, date, region, service).
///
/// Signing keys change once a day per credential and region, so a server
/// verifying many requests derives each key once instead of four HMACs per
/// request. When the cache is full it is emptied (keys are cheap to re-derive,
/// and yesterday's keys are the ones that pile up).
public final class SigV4SigningKeyCache: @unchecked Sendable {
    private struct Key: Hashable {
        var secret: String
        var date: String
        var region: String
        var service: String
    }

    /// A process-wide cache shared by signers and verifiers that don't bring their own.
    public static let shared = SigV4SigningKeyCache()

    private let lock = NSLock()
    private var keys: [Key: SigV4SigningKey] = [:]
    private let capacity: Int

    /// Creates a cache holding at most `capacity` keys.
    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// The signing key for `secretAccessKey` in `date`/`region`/`service`, derived on first use.
    public func signingKey(secretAccessKey: String, date: String, region: String, service: String) -> SigV4SigningKey {
        let key = Key(secret: secretAccessKey, date: date, region: region, service: service)
        if let cached = lock.withLock({ keys[key] }) {
            return cached
        }
        let derived = SigV4SigningKey(secretAccessKey: secretAccessKey, date: date, region: region, service: service)
        lock.withLock {
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[key] = derived
        }
        return derived
    }

    /// The signing key for `secretAccessKey` in `scope`.
    public func signingKey(secretAccessKey: String, scope: SigV4Scope) -> SigV4SigningKey {
        signingKey(secretAccessKey: secretAccessKey, date: scope.date, region: scope.region, service: scope.service)
    }

    /// The number of cached keys.
    public var count: Int { lock.withLock { keys.count } }

    /// Forgets every cached key (e.g. after a secret is rotated).
    public func removeAll() {
        lock.withLock { keys.removeAll() }
    }
}
