/// A bucket-name glob: `*` matches any run of characters, `?` exactly one; case-sensitive.
/// Matching works on UTF-8 bytes (bucket names are ASCII).
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    let bytes: [UInt8]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    public var description: String { pattern }

    /// True when the pattern has no wildcard.
    public var isLiteral: Bool { !bytes.contains(UInt8(ascii: "*")) && !bytes.contains(UInt8(ascii: "?")) }

    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches(utf8: $0) }
    }

    /// Iterative wildcard matching with single-star backtracking: O(n·m) worst case, no recursion.
    public func matches(utf8 s: UnsafeBufferPointer<UInt8>) -> Bool {
        let p = bytes
        var si = 0, pi = 0
        var starP = -1, starS = 0
        while si < s.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                starP = pi
                starS = si
                pi += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == s[si] {
                si += 1
                pi += 1
            } else if starP >= 0 {
                pi = starP + 1
                starS += 1
                si = starS
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// A name this glob matches: every `*` becomes empty and every `?` an `x`.
    var simplestWitness: String {
        String(decoding: bytes.compactMap { b -> UInt8? in
            b == UInt8(ascii: "*") ? nil : (b == UInt8(ascii: "?") ? UInt8(ascii: "x") : b)
        }, as: UTF8.self)
    }
}
