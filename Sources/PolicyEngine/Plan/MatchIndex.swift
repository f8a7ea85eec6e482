/// The selectors of all policies, indexed so that one pass over an object's bucket and key
/// (plus a look-up per tag key that any policy names) yields the set of matching policies.
struct MatchIndex: Sendable {
    struct TagTable: Sendable {
        var key: String
        var absent: PolicyBits
        var otherValue: PolicyBits
        var byValue: [String: PolicyBits]
    }

    let policyCount: Int
    /// Policies without a bucket condition.
    let bucketBase: PolicyBits
    /// Literal names and `literal*` globs.
    let bucketTrie: ByteTrie
    /// `*literal` globs, as the reversed literal: walked from the name's last byte.
    let bucketSuffixTrie: ByteTrie
    /// Other globs, tried one by one.
    let bucketGlobs: [(glob: Glob, policy: Int)]
    let keyBase: PolicyBits
    let keyTrie: ByteTrie
    let tagTables: [TagTable]
    /// What the tag tables leave of the policies for an object without tags (the intersection
    /// of every table's `absent`), so that the common untagged object needs no table walk.
    let untagged: PolicyBits

    init(selectors: [Selector]) {
        let n = selectors.count
        policyCount = n
        var bucketBase = PolicyBits(count: n)
        var keyBase = PolicyBits(count: n)
        var bucketPatterns: [(bytes: [UInt8], policy: Int, isPrefix: Bool)] = []
        var suffixPatterns: [(bytes: [UInt8], policy: Int, isPrefix: Bool)] = []
        var globs: [(Glob, Int)] = []
        var keyPatterns: [(bytes: [UInt8], policy: Int, isPrefix: Bool)] = []
        var tagConditions: [String: [(Int, Selector.TagCondition)]] = [:]
        for (i, s) in selectors.enumerated() {
            if let buckets = s.buckets {
                for g in buckets {
                    let bytes = g.value.bytes
                    let star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
                    if g.value.isLiteral {
                        bucketPatterns.append((bytes, i, false))
                    } else if bytes.last == star, !bytes.dropLast().contains(star), !bytes.contains(question) {
                        bucketPatterns.append((Array(bytes.dropLast()), i, true))
                    } else if bytes.first == star, !bytes.dropFirst().contains(star), !bytes.contains(question) {
                        suffixPatterns.append((bytes.dropFirst().reversed(), i, true))
                    } else {
                        globs.append((g.value, i))
                    }
                }
            } else {
                bucketBase.insert(i)
            }
            if let prefixes = s.keyPrefixes {
                for p in prefixes { keyPatterns.append((Array(p.value.utf8), i, true)) }
            } else {
                keyBase.insert(i)
            }
            for t in s.tags ?? [] { tagConditions[t.key, default: []].append((i, t.condition)) }
        }
        self.bucketBase = bucketBase
        self.keyBase = keyBase
        bucketTrie = ByteTrie(patterns: bucketPatterns, policyCount: n)
        bucketSuffixTrie = ByteTrie(patterns: suffixPatterns, policyCount: n)
        keyTrie = ByteTrie(patterns: keyPatterns, policyCount: n)
        bucketGlobs = globs.map { (glob: $0.0, policy: $0.1) }
        let tables = tagConditions.keys.sorted().map { key in
            let conds = tagConditions[key]!
            var absent = PolicyBits.all(count: n)
            var other = PolicyBits.all(count: n)
            for (p, c) in conds {
                absent = absent.removing(p)
                if case .equals = c { other = other.removing(p) }
            }
            var byValue: [String: PolicyBits] = [:]
            for case (_, .equals(let v)) in conds where byValue[v] == nil {
                var bits = PolicyBits.all(count: n)
                for (p, c) in conds {
                    if case .equals(let expected) = c, expected != v { bits = bits.removing(p) }
                }
                byValue[v] = bits
            }
            return TagTable(key: key, absent: absent, otherValue: other, byValue: byValue)
        }
        tagTables = tables
        var untagged = PolicyBits.all(count: n)
        for table in tables { untagged.formIntersection(table.absent) }
        self.untagged = untagged
    }

    @inline(__always)
    func match(_ object: ObjectRef) -> PolicyBits {
        var bits = bucketBase
        withUTF8(object.bucket) { bucket in
            bucketTrie.collect(bucket, into: &bits)
            if !bucketSuffixTrie.isEmpty { bucketSuffixTrie.collectReversed(bucket, into: &bits) }
            for g in bucketGlobs where !bits.contains(g.policy) && g.glob.matches(utf8: bucket) {
                bits.insert(g.policy)
            }
        }
        var keyBits = keyBase
        withUTF8(object.key) { keyTrie.collect($0, into: &keyBits) }
        bits.formIntersection(keyBits)
        if object.tags.isEmpty {
            bits.formIntersection(untagged)
            return bits
        }
        for table in tagTables {
            if let value = object.tag(table.key) {
                bits.formIntersection(table.byValue[value] ?? table.otherValue)
            } else {
                bits.formIntersection(table.absent)
            }
        }
        return bits
    }
}
