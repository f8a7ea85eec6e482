#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// 2024-01-02T03:04:05.000Z
let sampleDate = Date(timeIntervalSince1970: 1_704_164_645)

let xmlDeclaration = #"<?xml version="1.0" encoding="UTF-8"?>"#
let s3Namespace = #"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#

/// A small deterministic generator (SplitMix64) so property-style tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
