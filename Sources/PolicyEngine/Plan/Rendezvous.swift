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

    /// The score as the contract states it, from scratch (used by tests and explanations).
    static func score(zone: String, bucket: String, key: String) -> UInt64 {
        let bytes = Array((zone + "\0" + bucket + "\0" + key).utf8)
        return bytes.withUnsafeBufferPointer { finalize(fnv1a(offsetBasis, $0)) }
    }
}
