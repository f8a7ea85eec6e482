import Synchronization

/// Buckets read recently. Every S3 request reads its bucket, and buckets change rarely: a
/// bucket read less than ``lifetime`` ago is not read again.
///
/// A change made through the same store drops the bucket's entry when it commits, and a read
/// that began before that change does not put its (older) row back. A change made by another
/// gateway on the same database is seen once the entry expires, as S3 itself takes a while to
/// show a bucket's new configuration everywhere. Only buckets that exist are kept: a bucket
/// created anywhere is found at once.
final class BucketCache: Sendable {
    private struct Entry {
        var bucket: Bucket
        var until: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Counts the changes made through the store: a read that saw an older count does not
        /// fill the cache.
        var changes: UInt64 = 0
    }

    let lifetime: Duration
    /// More entries than this and the cache starts over (there are rarely that many buckets).
    static let limit = 4096
    private let state = Mutex(State())

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// The bucket, if it was read less than ``lifetime`` ago; and the count of changes, to pass
    /// to ``keep(_:readAfter:)`` after reading it.
    func lookup(_ name: String) -> (bucket: Bucket?, changes: UInt64) {
        let now = ContinuousClock.now
        return state.withLock { s in
            if let entry = s.entries[name], entry.until > now { return (entry.bucket, s.changes) }
            return (nil, s.changes)
        }
    }

    /// Keeps a bucket read from the database, unless the store changed a bucket since
    /// `changes` was looked up.
    func keep(_ bucket: Bucket, readAfter changes: UInt64) {
        guard lifetime > .zero else { return }
        let until = ContinuousClock.now + lifetime
        state.withLock { s in
            guard s.changes == changes else { return }
            if s.entries.count >= Self.limit { s.entries.removeAll(keepingCapacity: true) }
            s.entries[bucket.name] = Entry(bucket: bucket, until: until)
        }
    }

    /// A bucket changed (or was created or deleted) through the store.
    func changed(_ name: String) {
        state.withLock { s in
            s.changes &+= 1
            s.entries[name] = nil
        }
    }
}
