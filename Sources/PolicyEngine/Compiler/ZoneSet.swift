/// A set of catalog zones by index.
struct ZoneSet: Hashable, Sendable {
    private(set) var words: [UInt64]
    let count: Int

    init(count: Int, full: Bool = false) {
        self.count = count
        words = [UInt64](repeating: full ? ~0 : 0, count: (count + 63) / 64)
        if full, count % 64 != 0 { words[words.count - 1] = (UInt64(1) << UInt64(count % 64)) - 1 }
    }

    mutating func insert(_ i: Int) { words[i >> 6] |= UInt64(1) << UInt64(i & 63) }
    mutating func remove(_ i: Int) { words[i >> 6] &= ~(UInt64(1) << UInt64(i & 63)) }
    func contains(_ i: Int) -> Bool { words[i >> 6] & (UInt64(1) << UInt64(i & 63)) != 0 }

    mutating func formIntersection(_ other: ZoneSet) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Members in ascending (catalog) order.
    var members: [Int] {
        var result: [Int] = []
        result.reserveCapacity(cardinality)
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                let t = bits.trailingZeroBitCount
                result.append(w * 64 + t)
                bits &= bits - 1
            }
        }
        return result
    }
}
