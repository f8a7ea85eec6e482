/// A byte trie with a dense transition table over the bytes the patterns use, for walking an
/// input once and collecting the policies of every pattern it passes.
///
/// `prefixMasks[node]` is OR-ed in when the walk passes the node (a prefix ended there);
/// `exactMasks[node]` only when the input ends exactly at the node.
struct ByteTrie: Sendable {
    private var byteClass: [UInt16]         // 256 entries; 0 = a byte no pattern uses
    private var classCount: Int
    private var next: [Int32]               // node * classCount + class -> node, -1 = none
    private var prefixMaskIndex: [Int32]    // node -> index into masks, -1 = none
    private var exactMaskIndex: [Int32]
    private var masks: [PolicyBits]

    /// `patterns`: (bytes, policy index, isPrefix). Exact patterns match only the whole input.
    init(patterns: [(bytes: [UInt8], policy: Int, isPrefix: Bool)], policyCount: Int) {
        var used = [Bool](repeating: false, count: 256)
        for p in patterns { for b in p.bytes { used[Int(b)] = true } }
        var byteClass = [UInt16](repeating: 0, count: 256)
        var classes = 1
        for b in 0..<256 where used[b] {
            byteClass[b] = UInt16(classes)
            classes += 1
        }
        var next = [Int32](repeating: -1, count: classes)
        var prefixMaskIndex: [Int32] = [-1]
        var exactMaskIndex: [Int32] = [-1]
        var masks: [PolicyBits] = []
        var nodeCount = 1
        for p in patterns {
            var node = 0
            for b in p.bytes {
                let slot = node * classes + Int(byteClass[Int(b)])
                if next[slot] < 0 {
                    next[slot] = Int32(nodeCount)
                    nodeCount += 1
                    next += [Int32](repeating: -1, count: classes)
                    prefixMaskIndex.append(-1)
                    exactMaskIndex.append(-1)
                }
                node = Int(next[slot])
            }
            func add(_ table: inout [Int32]) {
                if table[node] < 0 {
                    table[node] = Int32(masks.count)
                    masks.append(PolicyBits(count: policyCount))
                }
                masks[Int(table[node])].insert(p.policy)
            }
            if p.isPrefix { add(&prefixMaskIndex) } else { add(&exactMaskIndex) }
        }
        self.byteClass = byteClass
        self.classCount = classes
        self.next = next
        self.prefixMaskIndex = prefixMaskIndex
        self.exactMaskIndex = exactMaskIndex
        self.masks = masks
    }

    var isEmpty: Bool { masks.isEmpty }

    /// ORs into `result` the policies of every prefix pattern the input starts with and of the
    /// exact pattern equal to the input.
    @inline(__always)
    func collect(_ input: UnsafeBufferPointer<UInt8>, into result: inout PolicyBits) {
        var node = 0
        var i = 0
        while true {
            let pm = prefixMaskIndex[node]
            if pm >= 0 { result.formUnion(masks[Int(pm)]) }
            if i == input.count {
                let em = exactMaskIndex[node]
                if em >= 0 { result.formUnion(masks[Int(em)]) }
                return
            }
            let cls = Int(byteClass[Int(input[i])])
            if cls == 0 { return }
            let n = next[node * classCount + cls]
            if n < 0 { return }
            node = Int(n)
            i += 1
        }
    }

    /// `collect` over the input's bytes from last to first, for a trie of reversed patterns
    /// (suffix globs such as `*-backup`).
    @inline(__always)
    func collectReversed(_ input: UnsafeBufferPointer<UInt8>, into result: inout PolicyBits) {
        var node = 0
        var i = input.count
        while true {
            let pm = prefixMaskIndex[node]
            if pm >= 0 { result.formUnion(masks[Int(pm)]) }
            if i == 0 {
                let em = exactMaskIndex[node]
                if em >= 0 { result.formUnion(masks[Int(em)]) }
                return
            }
            i -= 1
            let cls = Int(byteClass[Int(input[i])])
            if cls == 0 { return }
            let n = next[node * classCount + cls]
            if n < 0 { return }
            node = Int(n)
        }
    }
}
