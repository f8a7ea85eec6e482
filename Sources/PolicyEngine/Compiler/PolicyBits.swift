/// A set of policies by index: four inline words (256 policies) without allocation, more words
/// in an overflow array for larger sets. The plan hot path intersects these and looks them up.
struct PolicyBits: Hashable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    var overflow: [UInt64]?

    init(count: Int) {
        if count > 256 { overflow = [UInt64](repeating: 0, count: (count - 256 + 63) / 64) }
    }

    static func all(count: Int) -> PolicyBits {
        var bits = PolicyBits(count: count)
        for i in 0..<count { bits.insert(i) }
        return bits
    }

    @inline(__always)
    mutating func insert(_ i: Int) {
        let bit = UInt64(1) << UInt64(i & 63)
        switch i >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        case 3: w3 |= bit
        default: overflow![(i >> 6) - 4] |= bit
        }
    }

    @inline(__always)
    func contains(_ i: Int) -> Bool {
        let bit = UInt64(1) << UInt64(i & 63)
        switch i >> 6 {
        case 0: return w0 & bit != 0
        case 1: return w1 & bit != 0
        case 2: return w2 & bit != 0
        case 3: return w3 & bit != 0
        default: return overflow![(i >> 6) - 4] & bit != 0
        }
    }

    @inline(__always)
    mutating func formIntersection(_ other: PolicyBits) {
        w0 &= other.w0
        w1 &= other.w1
        w2 &= other.w2
        w3 &= other.w3
        if overflow != nil, let o = other.overflow {
            for i in overflow!.indices { overflow![i] &= o[i] }
        }
    }

    @inline(__always)
    mutating func formUnion(_ other: PolicyBits) {
        w0 |= other.w0
        w1 |= other.w1
        w2 |= other.w2
        w3 |= other.w3
        if overflow != nil, let o = other.overflow {
            for i in overflow!.indices { overflow![i] |= o[i] }
        }
    }

    func intersection(_ other: PolicyBits) -> PolicyBits {
        var r = self
        r.formIntersection(other)
        return r
    }

    func union(_ other: PolicyBits) -> PolicyBits {
        var r = self
        r.formUnion(other)
        return r
    }

    /// Indices in ascending order.
    func indices(upTo count: Int) -> [Int] {
        indices(in: 0..<count)
    }

    /// Indices within `range`, ascending, relative to `range.lowerBound`: walks the set bits
    /// instead of testing every index.
    func indices(in range: Range<Int>) -> [Int] {
        var result: [Int] = []
        func add(_ word: UInt64, _ base: Int) {
            var w = word
            while w != 0 {
                let i = base + w.trailingZeroBitCount
                w &= w &- 1
                if i >= range.upperBound { return }
                if i >= range.lowerBound { result.append(i - range.lowerBound) }
            }
        }
        add(w0, 0)
        add(w1, 64)
        add(w2, 128)
        add(w3, 192)
        if let overflow { for (k, w) in overflow.enumerated() { add(w, 256 + 64 * k) } }
        return result
    }
}
