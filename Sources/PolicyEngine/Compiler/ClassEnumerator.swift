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

    /// The classes in the order found (deterministic: it follows the selectors, not hash
    /// values); `witnessOrder` gives the order by witness.
    mutating func enumerate() -> [ObjectClass] {
        let (buckets, bucketsComplete) = bucketAtoms()
        if !bucketsComplete { truncated = true }
        let keys = keyAtoms()
        // Classes in the order found, each with the witness of its first finding.
        var current = OrderedClasses(minimumCapacity: 0)
        for b in buckets {
            for k in keys {
                if current.insertNew(for: b.bits.intersection(k.bits), { ObjectRef(bucket: b.witness, key: k.witness) }),
                   current.count >= limit {
                    truncated = true
                    break
                }
            }
            if truncated { break }
        }
        for (tagKey, options) in tagAtoms() {
            var next = OrderedClasses(minimumCapacity: min(limit, current.count * 2))
            outer: for (bits, witness) in zip(current.keys, current.values) {
                for option in options {
                    let added = next.insertNew(for: bits.intersection(option.bits)) {
                        var w = witness
                        if let value = option.value { w.tags.append(.init(key: tagKey, value: value)) }
                        return w
                    }
                    if added, next.count >= limit { truncated = true; break outer }
                }
            }
            current = next
        }
        return zip(current.keys, current.values).map { ObjectClass(bits: $0.0, witness: $0.1) }
    }

    /// The indices of `classes` (as `enumerate` returns them) sorted by witness: the stable
    /// order in which the checker reports findings.
    static func witnessOrder(_ classes: [ObjectClass]) -> [Int] {
        let keyed = classes.enumerated().map { (key: $0.element.witness.description, index: $0.offset) }
        return keyed.sorted { $0.key < $1.key }.map(\.index)
    }

    /// Object classes in the order found; the first witness of a class is kept.
    private typealias OrderedClasses = BitsTable<ObjectRef>

    // MARK: buckets

    /// Realisable bucket match sets, by exploring the product of the globs' automata breadth-first,
    /// in the order found. Also says whether the exploration was complete (false when it hit its
    /// state or length bound).
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
        let automata = globs.map { GlobAutomaton($0, letters: letters) }
        // A product state lists only the live globs (a dead glob stays dead), as pairs of
        // (glob index, NFA state) in glob order: two states are equal exactly when the full
        // per-glob states are.
        var start: [UInt64] = []
        for (gi, a) in automata.enumerated() where a.initial != 0 { start += [UInt64(gi), a.initial] }
        var seen: Set<[UInt64]> = [start]
        var queue: [([UInt64], [UInt8])] = [(start, [])]
        var atoms = AtomList()
        var head = 0
        var complete = true
        let stateLimit = 20_000
        var nextState: [UInt64] = []
        while head < queue.count {
            let (state, word) = queue[head]
            head += 1
            var accepted: [Int] = []
            for k in stride(from: 0, to: state.count, by: 2) where automata[Int(state[k])].accepts(state[k + 1]) {
                accepted.append(Int(state[k]))
            }
            atoms.add(bits(forAccepted: accepted), word)
            if word.count >= 64 || seen.count >= stateLimit {
                complete = false
                continue
            }
            for (li, letter) in letters.enumerated() {
                nextState.removeAll(keepingCapacity: true)
                for k in stride(from: 0, to: state.count, by: 2) {
                    let gi = Int(state[k])
                    let s = automata[gi].step(state[k + 1], letterIndex: li)
                    if s != 0 { nextState += [UInt64(gi), s] }
                }
                if nextState.isEmpty {
                    // Every glob is dead: the "matches no glob" atom.
                    atoms.add(bits(forAccepted: []), word + [letter])
                    continue
                }
                if seen.insert(nextState).inserted { queue.append((nextState, word + [letter])) }
            }
        }
        return (atoms.list, complete)
    }

    /// Atoms in the order found, each with its first non-empty witness: the empty bucket name
    /// is the witness only of an atom that no other name realises (a glob `""`), since a witness
    /// must be a bucket the atom's globs really match (and not, say, `-` in its place).
    private struct AtomList {
        var list: [(bits: PolicyBits, witness: String)] = []
        var position: [PolicyBits: Int] = [:]

        mutating func add(_ bits: PolicyBits, _ word: @autoclosure () -> [UInt8]) {
            if let i = position[bits] {
                if list[i].witness.isEmpty {
                    let w = word()
                    if !w.isEmpty { list[i].witness = String(decoding: w, as: UTF8.self) }
                }
                return
            }
            position[bits] = list.count
            list.append((bits, String(decoding: word(), as: UTF8.self)))
        }
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
        var atoms: [(bits: PolicyBits, witness: String)] = []
        var seen = Set<PolicyBits>()
        for key in candidates where !key.isEmpty {
            let b = bits(for: key)
            if seen.insert(b).inserted { atoms.append((b, key)) }
        }
        return atoms
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
    let count: Int
    let initial: UInt64
    /// Positions holding `*`.
    let stars: UInt64
    /// Per letter (by index in the alphabet): positions holding that letter or `?`.
    let matching: [UInt64]

    init(_ glob: Glob, letters: [UInt8]) {
        let pattern = Array(glob.bytes.prefix(63))
        count = pattern.count
        var stars: UInt64 = 0
        for (i, b) in pattern.enumerated() where b == UInt8(ascii: "*") { stars |= 1 << UInt64(i) }
        self.stars = stars
        matching = letters.map { letter in
            var m: UInt64 = 0
            for (i, b) in pattern.enumerated() where b == UInt8(ascii: "?") || b == letter { m |= 1 << UInt64(i) }
            return m
        }
        initial = GlobAutomaton.closure(1, stars: stars)
    }

    /// Adds positions reachable through `*` (which may match nothing).
    @inline(__always)
    static func closure(_ state: UInt64, stars: UInt64) -> UInt64 {
        var s = state
        while true {
            let next = s | ((s & stars) << 1)
            if next == s { return s }
            s = next
        }
    }

    /// A `*` keeps its position; a matching letter or `?` advances.
    @inline(__always)
    func step(_ state: UInt64, letterIndex: Int) -> UInt64 {
        GlobAutomaton.closure((state & stars) | ((state & matching[letterIndex]) << 1), stars: stars)
    }

    func accepts(_ state: UInt64) -> Bool { state & (1 << UInt64(count)) != 0 }
}
