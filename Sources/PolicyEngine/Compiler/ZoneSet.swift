/// A set of catalog zones by index: a bitmap of one bit per zone (128 bytes for 1,000 zones),
/// so that every object class can keep its eligible zones without an array of indices.
struct ZoneSet: Hashable, Sendable, Sequence {
    private(set) var words: [UInt64]
    let count: Int

    init(count: Int, full: Bool = false) {
        self.count = count
        words = [UInt64](repeating: full ? ~0 : 0, count: (count + 63) / 64)
        if full, count % 64 != 0 { words[words.count - 1] = (UInt64(1) << UInt64(count % 64)) - 1 }
    }

    mutating func insert(_ i: Int) { words[i >> 6] |= UInt64(1) << UInt64(i & 63) }
    mutating func remove(_ i: Int) { words[i >> 6] &= ~(UInt64(1) << UInt64(i & 63)) }
    @inline(__always)
    func contains(_ i: Int) -> Bool { words[i >> 6] & (UInt64(1) << UInt64(i & 63)) != 0 }

    mutating func formIntersection(_ other: ZoneSet) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in
                for i in w.indices { w[i] &= o[i] }
            }
        }
    }

    mutating func formUnion(_ other: ZoneSet) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in
                for i in w.indices { w[i] |= o[i] }
            }
        }
    }

    mutating func subtract(_ other: ZoneSet) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in
                for i in w.indices { w[i] &= ~o[i] }
            }
        }
    }

    func intersection(_ other: ZoneSet) -> ZoneSet {
        var r = self
        r.formIntersection(other)
        return r
    }

    var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Members in ascending (catalog) order.
    var members: [Int] {
        var result: [Int] = []
        result.reserveCapacity(cardinality)
        for i in self { result.append(i) }
        return result
    }

    /// Iterates the members in ascending (catalog) order without building an array.
    struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var index = 0
        var current: UInt64

        init(words: [UInt64]) {
            self.words = words
            current = words.first ?? 0
        }

        @inline(__always)
        mutating func next() -> Int? {
            while current == 0 {
                index += 1
                if index >= words.count { return nil }
                current = words[index]
            }
            let bit = current.trailingZeroBitCount
            current &= current &- 1
            return index << 6 | bit
        }
    }

    func makeIterator() -> Iterator { Iterator(words: words) }
    var underestimatedCount: Int { 0 }
}
