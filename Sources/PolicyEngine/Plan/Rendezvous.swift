/// Rendezvous (highest random weight) scores for `placement: spread`, exactly as the policy
/// language defines them: FNV-1a 64 of `zone_code \0 bucket \0 key`, then the splitmix64 finalizer.
enum Rendezvous {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    static func fnv1a(_ h: UInt64, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = h
        for b in bytes {
            h ^= UInt64(b)
            h &*= prime
        }
        return h
    }

    @inline(__always)
    static func finalize(_ h: UInt64) -> UInt64 {
        var z = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// State after hashing `zone_code + "\0"`, computed once per zone.
    static func zoneSeed(_ code: String) -> UInt64 {
        var h = offsetBasis
        for b in code.utf8 {
            h ^= UInt64(b)
            h &*= prime
        }
        h ^= 0
        h &*= prime
        return h
    }

    /// The score of a zone for an object, from the zone's seed.
    @inline(__always)
    static func score(seed: UInt64, bucket: UnsafeBufferPointer<UInt8>, key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = fnv1a(seed, bucket)
        h &*= prime  // the "\0" separator: h ^= 0 is a no-op
        h = fnv1a(h, key)
        return finalize(h)
    }

    /// `prime` to the power `n`, wrapping.
    static func power(_ n: Int) -> UInt64 {
        var result: UInt64 = 1, base = prime, e = n
        while e > 0 {
            if e & 1 == 1 { result &*= base }
            base &*= base
            e >>= 1
        }
        return result
    }

    /// Calls `body(zone, score)` for every zone of `zones`, in catalog order: the same scores as
    /// `score(seed:bucket:key:)`, without hashing the object's name once per zone.
    ///
    /// FNV-1a's step is `h = (h ^ b) &* prime`. Split a zone's seed into `high + low`, where
    /// `low` is the bits a byte can touch (the low 7 bits when every byte of the name is ASCII,
    /// else the low 8) and `high` a multiple of 128 (256). The xor changes only `low`'s bits and
    /// the multiplication carries only upwards, so by induction over the bytes
    /// `fnv(high + low, name) = high &* prime^n &+ fnv(low, name)` for a name of `n` bytes.
    /// `fnv(low, name)` takes at most 128 (256) values: it is computed once per value that
    /// occurs among the zones' seeds, several chains at a time so that the multiplications
    /// overlap, and each zone then costs one multiplication and the finalizer.
    @inline(__always)
    static func forEachScore(of zones: ZoneSet, seeds: [UInt64], bucket: UnsafeBufferPointer<UInt8>,
                             key: UnsafeBufferPointer<UInt8>, _ body: (Int, UInt64) -> Void) {
        var any: UInt8 = 0
        for b in bucket { any |= b }
        for b in key { any |= b }
        let low: UInt64 = any < 0x80 ? 0x7f : 0xff
        let power = power(bucket.count + 1 + key.count)
        seeds.withUnsafeBufferPointer { seeds in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 256 + 4) { scratch in
                let table = scratch.baseAddress!
                let needed = table + 256
                needed.initialize(repeating: 0, count: 4)
                for z in zones {
                    let v = Int(seeds[z] & low)
                    needed[v >> 6] |= 1 << UInt64(v & 63)
                }
                // The distinct low values, packed into `table`'s first entries for the chains.
                var count = 0
                for w in 0..<4 {
                    var bits = needed[w]
                    while bits != 0 {
                        table[count] = UInt64(w << 6 | bits.trailingZeroBitCount)
                        count += 1
                        bits &= bits &- 1
                    }
                }
                // Eight chains at a time; the results go to `table[low value]`, so the packed
                // values are read first (a chain's slot is never below its value's index).
                var i = (count - 1) / 8 * 8
                while i >= 0, count > 0 {
                    let last = count - 1
                    let v0 = table[i], v1 = table[min(i + 1, last)], v2 = table[min(i + 2, last)], v3 = table[min(i + 3, last)]
                    let v4 = table[min(i + 4, last)], v5 = table[min(i + 5, last)], v6 = table[min(i + 6, last)], v7 = table[min(i + 7, last)]
                    var h0 = v0, h1 = v1, h2 = v2, h3 = v3, h4 = v4, h5 = v5, h6 = v6, h7 = v7
                    @inline(__always)
                    func step(_ x: UInt64) {
                        h0 = (h0 ^ x) &* prime
                        h1 = (h1 ^ x) &* prime
                        h2 = (h2 ^ x) &* prime
                        h3 = (h3 ^ x) &* prime
                        h4 = (h4 ^ x) &* prime
                        h5 = (h5 ^ x) &* prime
                        h6 = (h6 ^ x) &* prime
                        h7 = (h7 ^ x) &* prime
                    }
                    for b in bucket { step(UInt64(b)) }
                    step(0)
                    for b in key { step(UInt64(b)) }
                    table[Int(v0)] = h0
                    table[Int(v1)] = h1
                    table[Int(v2)] = h2
                    table[Int(v3)] = h3
                    table[Int(v4)] = h4
                    table[Int(v5)] = h5
                    table[Int(v6)] = h6
                    table[Int(v7)] = h7
                    i -= 8
                }
                for z in zones {
                    let s = seeds[z]
                    body(z, finalize((s & ~low) &* power &+ table[Int(s & low)]))
                }
            }
        }
    }

    /// The score as the contract states it, from scratch (used by tests and explanations).
    static func score(zone: String, bucket: String, key: String) -> UInt64 {
        let bytes = Array((zone + "\0" + bucket + "\0" + key).utf8)
        return bytes.withUnsafeBufferPointer { finalize(fnv1a(offsetBasis, $0)) }
    }
}
