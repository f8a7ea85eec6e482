/// The candidate order of `placement: spread` for one object: preferred zones, then the other
/// eligible zones by descending rendezvous score, ties by zone code ascending.
///
/// The walk of step 4 almost always stops after a few candidates, so `plan(for:)` selects only
/// the best few zones (a partial selection, not a sort of every eligible zone) and the plan
/// keeps those. The full order is computed again from the object when it is asked for
/// (`PlacementPlan.candidates`), or when a walk gets past the selected zones.
struct SpreadOrder: Sendable {
    let bucket: String
    let key: String
    /// The best-scored non-preferred zones, in candidate order.
    let top: [Int]
    /// Whether `top` holds every non-preferred zone.
    let complete: Bool

    /// A scored zone. `rank` is the zone's position in zone-code order, for ties.
    struct Entry {
        var score: UInt64
        var rank: Int32
        var zone: Int32

        @inline(__always)
        static func before(_ a: Entry, _ b: Entry) -> Bool {
            a.score != b.score ? a.score > b.score : a.rank < b.rank
        }
    }

    /// How many zones beyond `copies` are selected: enough for the walk's diversity skips.
    static let slack = 4

    /// Walks the object's candidate order with `chooser`: the chosen zones and the order kept
    /// in the plan.
    static func choose(_ chooser: ZoneChooser, _ cls: ClassPlan, _ object: ObjectRef, _ context: PlanContext) -> (chosen: [Int], order: SpreadOrder) {
        let n = cls.restCount
        return withUTF8(object.bucket) { bucket in
            withUTF8(object.key) { key in
                withUnsafeTemporaryAllocation(of: Entry.self, capacity: n) { entries in
                    score(cls, bucket, key, context, into: entries)
                    let k = min(n, chooser.copies + slack)
                    selectTop(k, in: entries)
                    var chosen = chooser.choose(cls.preferred.chainedWith(entries[..<k].lazy.map { Int($0.zone) }),
                                                providerID: context.providerID, cityID: context.cityID)
                    var selected = k
                    if chosen.count < chooser.copies, k < n {
                        // The walk needs more than the selection: order everything (rare).
                        var tail = UnsafeMutableBufferPointer(rebasing: entries[k...])
                        tail.sort(by: Entry.before)
                        selected = n
                        chosen = chooser.choose(cls.preferred.chainedWith(entries.lazy.map { Int($0.zone) }),
                                                providerID: context.providerID, cityID: context.cityID)
                    }
                    let order = SpreadOrder(bucket: object.bucket, key: object.key,
                                            top: entries[..<selected].map { Int($0.zone) }, complete: selected == n)
                    return (chosen, order)
                }
            }
        }
    }

    /// Every non-preferred zone in candidate order.
    func fullOrder(_ cls: ClassPlan, _ context: PlanContext) -> [Int] {
        if complete { return top }
        let n = cls.restCount
        return withUTF8(bucket) { bucket in
            withUTF8(key) { key in
                withUnsafeTemporaryAllocation(of: Entry.self, capacity: n) { buffer in
                    var entries = buffer
                    Self.score(cls, bucket, key, context, into: entries)
                    entries.sort(by: Entry.before)
                    return entries.map { Int($0.zone) }
                }
            }
        }
    }

    /// Candidate order for the runtime walk: the selected zones, then (only if the walk gets
    /// that far) the rest of the full order.
    func walk(_ chooser: ZoneChooser, _ cls: ClassPlan, _ context: PlanContext, skip: (Int) -> Bool) -> [Int] {
        let chosen = chooser.choose(cls.preferred.chainedWith(top), providerID: context.providerID, cityID: context.cityID, skip: skip)
        if chosen.count == chooser.copies || complete { return chosen }
        return chooser.choose(cls.preferred.chainedWith(fullOrder(cls, context)), providerID: context.providerID,
                              cityID: context.cityID, skip: skip)
    }

    private static func score(_ cls: ClassPlan, _ bucket: UnsafeBufferPointer<UInt8>, _ key: UnsafeBufferPointer<UInt8>,
                              _ context: PlanContext, into entries: UnsafeMutableBufferPointer<Entry>) {
        var i = 0
        let rank = context.codeRank
        Rendezvous.forEachScore(of: cls.restSet, seeds: context.zoneSeeds, bucket: bucket, key: key) { zone, score in
            entries.initializeElement(at: i, to: Entry(score: score, rank: rank[zone], zone: Int32(zone)))
            i += 1
        }
    }

    /// Moves the `k` first entries in candidate order to the front, in that order; one pass
    /// that mostly compares against the current k-th best.
    private static func selectTop(_ k: Int, in entries: UnsafeMutableBufferPointer<Entry>) {
        guard k > 0 else { return }
        for i in 1..<k {
            let e = entries[i]
            var j = i
            while j > 0, Entry.before(e, entries[j - 1]) {
                entries[j] = entries[j - 1]
                j -= 1
            }
            entries[j] = e
        }
        var worst = entries[k - 1]
        for i in k..<entries.count {
            let e = entries[i]
            guard Entry.before(e, worst) else { continue }
            entries[i] = worst
            var j = k - 1
            while j > 0, Entry.before(e, entries[j - 1]) {
                entries[j] = entries[j - 1]
                j -= 1
            }
            entries[j] = e
            worst = entries[k - 1]
        }
    }
}
