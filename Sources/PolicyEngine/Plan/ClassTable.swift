/// The class plans by the set of policies an object matches: the one look-up of every ordered
/// plan.
typealias ClassTable = BitsTable<ClassPlan>

/// A map from `PolicyBits`: open addressing with linear probing over a power-of-two table at
/// most half full, keys and values stored in the slots themselves, and a multiply-fold hash of
/// the bit words.
///
/// A `Dictionary<PolicyBits, ClassPlan>` costs a SipHash over the four words (and the overflow)
/// per look-up, which was about a sixth of an ordered plan; the keys here are bit sets that need
/// no protection against chosen collisions (the policy author picks them, and a collision only
/// costs a probe). The enumeration of object classes uses the same table for its de-duplication.
struct BitsTable<Value> {
    private var keys: [PolicyBits]
    private var plans: [Value?]
    private var shift: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < 2 * minimumCapacity {
            size <<= 1
            bits += 1
        }
        keys = [PolicyBits](repeating: PolicyBits(count: 0), count: size)
        plans = [Value?](repeating: nil, count: size)
        shift = 64 - bits
    }

    /// The plan of the class with these matching policies, if the class is in the table.
    @inline(__always)
    subscript(bits: PolicyBits) -> Value? {
        let mask = plans.count - 1
        var slot = Int(truncatingIfNeeded: bits.foldedHash >> shift)
        while true {
            guard let plan = plans[slot] else { return nil }
            if keys[slot].sameBits(as: bits) { return plan }
            slot = (slot + 1) & mask
        }
    }

    /// Adds the class, or replaces its plan.
    mutating func insert(_ plan: Value, for bits: PolicyBits) {
        if 2 * (count + 1) > plans.count { grow() }
        let mask = plans.count - 1
        var slot = Int(truncatingIfNeeded: bits.foldedHash >> shift)
        while plans[slot] != nil, !keys[slot].sameBits(as: bits) { slot = (slot + 1) & mask }
        if plans[slot] == nil { count += 1 }
        keys[slot] = bits
        plans[slot] = plan
    }

    private mutating func grow() {
        var bigger = BitsTable(minimumCapacity: plans.count)
        for (key, plan) in zip(keys, plans) {
            if let plan { bigger.insert(plan, for: key) }
        }
        self = bigger
    }
}

extension BitsTable: Sendable where Value: Sendable {}

extension PolicyBits {
    /// A 64-bit hash whose high bits index the class table: each word multiplied by its own
    /// odd constant, summed, and mixed once more so that every input bit reaches the top bits.
    @inline(__always)
    var foldedHash: UInt64 {
        var h = w0 &* 0x9E37_79B9_7F4A_7C15
        h &+= w1 &* 0xC2B2_AE3D_27D4_EB4F
        h &+= w2 &* 0x1656_67B1_9E37_79F9
        h &+= w3 &* 0x85EB_CA77_C2B2_AE63
        if let overflow {
            for w in overflow { h = (h ^ (h >> 31)) &+ w &* 0x9E37_79B9_7F4A_7C15 }
        }
        h ^= h >> 29
        return h &* 0xBF58_476D_1CE4_E5B9
    }

    /// Equality of the bits, without the synthesized `==`'s generic path for the overflow.
    @inline(__always)
    func sameBits(as other: PolicyBits) -> Bool {
        guard w0 == other.w0, w1 == other.w1, w2 == other.w2, w3 == other.w3 else { return false }
        switch (overflow, other.overflow) {
        case (nil, nil): return true
        case (let a?, let b?): return a == b
        default: return false
        }
    }
}
