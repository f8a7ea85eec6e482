/// Finds every combination of policies that can match one object together ("object classes"),
/// each with a witness object, by intersecting the realisable match sets of each dimension
/// (bucket, key, each tag key) and de-duplicating as it goes.
struct ClassEnumerator {
    struct ObjectClass {
        var bits: PolicyBits
        var witness: ObjectRef
    }

    let selectors: [Selector]     // by policy index
    let policyCount: Int
    let limit: Int

    private(set) var truncated = false

    init(selectors: [Selector], limit: Int = 200_000) {
        self.selectors = selectors
        self.policyCount = selectors.count
        self.limit = limit
    }

    mutating func enumerate() -> [ObjectClass] {
        let (buckets, bucketsComplete) = bucketAtoms()
        if !bucketsComplete { truncated = true }
        let keys = keyAtoms()
        var current: [PolicyBits: ObjectRef] = [:]
        for b in buckets {
            for k in keys {
                let bits = b.bits.intersection(k.bits)
                if current[bits] == nil {
                    current[bits] = ObjectRef(bucket: b.witness, key: k.witness)
                    if current.count >= limit { truncated = true; break }
                }
            }
            if truncated { break }
        }
        for (tagKey, options) in tagAtoms() {
            var next: [PolicyBits: ObjectRef] = [:]
            outer: for (bits, witness) in current {
                for option in options {
                    let combined = bits.intersection(option.bits)
                    if next[combined] == nil {
                        var w = witness
                        if let value = option.value { w.tags.append(.init(key: tagKey, value: value)) }
                        next[combined] = w
                        if next.count >= limit { truncated = true; break outer }
                    }
                }
            }
            current = next
        }
        return current.map { (key: $0.value.description, cls: ObjectClass(bits: $0.key, witness: $0.value)) }
            .sorted { $0.key < $1.key }
            .map(\.cls)
    }

    // MARK: buckets

    /// Realisable bucket match sets, by exploring the product of the globs' automata breadth-first.
    /// Also says whether the exploration was complete (false when it hit its state or length bound).
    func bucketAtoms() -> (atoms: [(bits: PolicyBits, witness: String)], complete: Bool) {
        var unconstrained = PolicyBits(count: policyCount)
        var globs: [Glob] = []
        var globPolicies: [[Int]] = []
        var globIndex: [Glob: Int] = [:]
        for (i, s) in selectors.enumerated() {
            guard let buckets = s.buckets else { unconstrained.insert(i); continue }
            for g in buckets {
                if let gi = globIndex[g.value] { globPolicies[gi].append(i) } else {
                    globIndex[g.value] = globs.count
                    globs.append(g.value)
                    globPolicies.append([i])
                }
            }
        }
        func bits(forAccepted accepted: [Int]) -> PolicyBits {
            var b = unconstrained
            for gi in accepted { for p in globPolicies[gi] { b.insert(p) } }
            return b
        }
        if globs.isEmpty { return ([(unconstrained, "any-bucket")], true) }

        // Alphabet: every literal byte of the globs, plus one byte none of them names.
        var alphabet = Set<UInt8>()
        for g in globs { for b in g.bytes where b != UInt8(ascii: "*") && b != UInt8(ascii: "?") { alphabet.insert(b) } }
        if let other = Array("zqxjkvbpygfwmucldrhsnioate0123456789-.".utf8).first(where: { !alphabet.contains($0) }) {
            alphabet.insert(other)
        }
        let letters = alphabet.sorted()
        // NFA state per glob: bit set of pattern positions reached (patterns longer than 63 bytes
        // are matched by their first 63 positions' automaton only when short enough).
        let automata = globs.map { GlobAutomaton($0) }
        let start = automata.map { $0.initial }
        var seen: Set<[UInt64]> = [start]
        var queue: [([UInt64], [UInt8])] = [(start, [])]
        var atoms: [PolicyBits: String] = [:]
        var head = 0
        var complete = true
        let stateLimit = 20_000
        while head < queue.count {
            let (state, word) = queue[head]
            head += 1
            var accepted: [Int] = []
            for (gi, a) in automata.enumerated() where a.accepts(state[gi]) { accepted.append(gi) }
            let b = bits(forAccepted: accepted)
            if atoms[b] == nil { atoms[b] = String(decoding: word, as: UTF8.self) }
            if word.count >= 64 || seen.count >= stateLimit {
                complete = false
                continue
            }
            for letter in letters {
                let nextState = automata.indices.map { automata[$0].step(state[$0], letter) }
                if nextState.allSatisfy({ $0 == 0 }) {
                    // Every glob is dead: the "matches no glob" atom.
                    let dead = bits(forAccepted: [])
                    if atoms[dead] == nil { atoms[dead] = String(decoding: word + [letter], as: UTF8.self) }
                    continue
                }
                if seen.insert(nextState).inserted { queue.append((nextState, word + [letter])) }
            }
        }
        return (atoms.map { (bits: $0.key, witness: $0.value.isEmpty ? "-" : $0.value) }, complete)
    }

    // MARK: keys

    func keyAtoms() -> [(bits: PolicyBits, witness: String)] {
        var unconstrained = PolicyBits(count: policyCount)
        var prefixPolicies: [String: [Int]] = [:]
        for (i, s) in selectors.enumerated() {
            guard let prefixes = s.keyPrefixes else { unconstrained.insert(i); continue }
            for p in prefixes { prefixPolicies[p.value, default: []].append(i) }
        }
        func bits(for key: String) -> PolicyBits {
            var b = unconstrained
            for (p, policies) in prefixPolicies where key.hasPrefixBytes(p) { for i in policies { b.insert(i) } }
            return b
        }
        var candidates: [String] = []
        // A key that starts with no prefix at all.
        let firstBytes = Set(prefixPolicies.keys.compactMap { $0.utf8.first })
        if let other = Array("zqxjkvbpygfwmucldrhsnioate0123456789".utf8).first(where: { !firstBytes.contains($0) }) {
            candidates.append(String(decoding: [other], as: UTF8.self) + "-object")
        }
        for p in prefixPolicies.keys.sorted() {
            candidates.append(p + "example")
            candidates.append(p)
        }
        var atoms: [PolicyBits: String] = [:]
        for key in candidates where !key.isEmpty {
            let b = bits(for: key)
            if atoms[b] == nil { atoms[b] = key }
        }
        return atoms.map { (bits: $0.key, witness: $0.value) }
    }

    // MARK: tags

    /// For each tag key any selector names: the options an object can have (absent, each named
    /// value, another value) and the policies each option leaves possible.
    func tagAtoms() -> [(key: String, options: [(value: String?, bits: PolicyBits)])] {
        var conditions: [String: [(policy: Int, condition: Selector.TagCondition)]] = [:]
        for (i, s) in selectors.enumerated() {
            for t in s.tags ?? [] { conditions[t.key, default: []].append((i, t.condition)) }
        }
        var result: [(key: String, options: [(value: String?, bits: PolicyBits)])] = []
        for key in conditions.keys.sorted() {
            let conds = conditions[key]!
            var named: [String] = []
            for c in conds { if case .equals(let v) = c.condition, !named.contains(v) { named.append(v) } }
            var other = "other"
            while named.contains(other) { other += "-value" }
            var options: [(String?, PolicyBits)] = []
            for value in [nil] + named.map(Optional.some) + [other] {
                var b = PolicyBits.all(count: policyCount)
                for c in conds {
                    let holds: Bool = switch (c.condition, value) {
                    case (_, nil): false
                    case (.present, _): true
                    case (.equals(let v), let actual?): v == actual
                    }
                    if !holds { b = b.removing(c.policy) }
                }
                if !options.contains(where: { $0.1 == b }) { options.append((value, b)) }
            }
            result.append((key, options.map { (value: $0.0, bits: $0.1) }))
        }
        return result
    }
}

extension PolicyBits {
    func removing(_ i: Int) -> PolicyBits {
        guard contains(i) else { return self }
        var single = PolicyBits(count: 0)
        if overflow != nil { single.overflow = [UInt64](repeating: 0, count: overflow!.count) }
        single.insert(i)
        var r = self
        r.w0 &= ~single.w0
        r.w1 &= ~single.w1
        r.w2 &= ~single.w2
        r.w3 &= ~single.w3
        if r.overflow != nil { for k in r.overflow!.indices { r.overflow![k] &= ~single.overflow![k] } }
        return r
    }
}

/// A glob as a bit-parallel NFA over pattern positions (patterns up to 63 bytes; longer
/// patterns are compared literally on their first 63 bytes, which only affects witnesses).
struct GlobAutomaton {
    let pattern: [UInt8]
    let initial: UInt64

    init(_ glob: Glob) {
        pattern = Array(glob.bytes.prefix(63))
        initial = GlobAutomaton.closure(1, pattern)
    }

    /// Adds positions reachable through `*` (which may match nothing).
    static func closure(_ state: UInt64, _ pattern: [UInt8]) -> UInt64 {
        var s = state
        for (i, b) in pattern.enumerated() where b == UInt8(ascii: "*") && s & (1 << UInt64(i)) != 0 {
            s |= 1 << UInt64(i + 1)
        }
        return s
    }

    func step(_ state: UInt64, _ byte: UInt8) -> UInt64 {
        var next: UInt64 = 0
        for (i, b) in pattern.enumerated() where state & (1 << UInt64(i)) != 0 {
            if b == UInt8(ascii: "*") { next |= 1 << UInt64(i) }
            else if b == UInt8(ascii: "?") || b == byte { next |= 1 << UInt64(i + 1) }
        }
        return GlobAutomaton.closure(next, pattern)
    }

    func accepts(_ state: UInt64) -> Bool { state & (1 << UInt64(pattern.count)) != 0 }
}
