/// The class plans by the set of policies an object matches: the one look-up of every ordered
/// plan.
typealias ClassTable = BitsTable<ClassPlan>

/// A map from `PolicyBits`, in insertion order: the keys and values in two dense arrays, and
/// an open-addressing index over them (linear probing, a power-of-two table at most half full)
/// that uses a multiply-fold hash of the bit words.
///
/// A `Dictionary<PolicyBits, ClassPlan>` costs a SipHash over the four words (and the overflow)
/// per look-up, which was about a sixth of an ordered plan; the keys here are bit sets that need
/// no protection against chosen collisions (the policy author picks them, and a collision only
/// costs a probe). The compiler uses the same table wherever it keys by `PolicyBits`; growing
/// it rebuilds only the index of 32-bit positions.
struct BitsTable<Value> {
    private var slots: [Int32]
    private var shift: UInt64
    /// The keys in the order inserted.
    private(set) var keys: [PolicyBits] = []
    /// The values, by the position of their key.
    private(set) var values: [Value] = []

    init(minimumCapacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < 2 * minimumCapacity {
            size <<= 1
            bits += 1
        }
        slots = [Int32](repeating: -1, count: size)
        shift = 64 - bits
        keys.reserveCapacity(minimumCapacity)
        values.reserveCapacity(minimumCapacity)
    }

    var count: Int { keys.count }

    /// The value for these bits, if present.
    @inline(__always)
    subscript(bits: PolicyBits) -> Value? {
        let position = find(bits)
        return position.found ? values[position.slotOrIndex] : nil
    }

    @inline(__always)
    func contains(_ bits: PolicyBits) -> Bool { find(bits).found }

    /// The entry's index when found, else the empty slot where it would go.
    @inline(__always)
    private func find(_ bits: PolicyBits) -> (found: Bool, slotOrIndex: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: bits.foldedHash >> shift)
        while true {
            let entry = slots[slot]
            if entry < 0 { return (false, slot) }
            if keys[Int(entry)].sameBits(as: bits) { return (true, Int(entry)) }
            slot = (slot + 1) & mask
        }
    }

    /// Adds the entry, or replaces the value of an equal key.
    mutating func insert(_ value: Value, for bits: PolicyBits) {
        let position = find(bits)
        if position.found {
            values[position.slotOrIndex] = value
        } else {
            append(value, for: bits, slot: position.slotOrIndex)
        }
    }

    /// Adds the entry unless the key is present; true when it was added. `makeValue` runs only
    /// then.
    @discardableResult
    mutating func insertNew(for bits: PolicyBits, _ makeValue: () -> Value) -> Bool {
        let position = find(bits)
        if position.found { return false }
        append(makeValue(), for: bits, slot: position.slotOrIndex)
        return true
    }

    private mutating func append(_ value: Value, for bits: PolicyBits, slot: Int) {
        slots[slot] = Int32(keys.count)
        keys.append(bits)
        values.append(value)
        if 2 * keys.count > slots.count { grow() }
    }

    private mutating func grow() {
        let size = 2 * slots.count
        shift -= 1
        slots = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for (i, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: key.foldedHash >> shift)
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i)
        }
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
