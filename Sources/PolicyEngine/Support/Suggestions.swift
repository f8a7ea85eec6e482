/// "Did you mean" suggestions by edit distance.
enum Suggestions {
    /// Levenshtein distance over Unicode scalars, with an early exit above `limit`.
    static func distance(_ a: String, _ b: String, limit: Int = .max) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        if abs(x.count - y.count) > limit { return limit + 1 }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            var rowMin = current[0]
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The closest candidate within a distance that grows with the word's length, if any.
    /// Comparison ignores case so that `keyprefixes` finds `keyPrefixes`. Among candidates at
    /// the same distance the first in byte order wins, so the hint does not depend on the order
    /// in which the candidates come (a `Set`'s or a `Dictionary`'s order changes between runs).
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = word.lowercased()
        let limit = max(1, min(3, lowered.count / 3))
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(lowered, candidate.lowercased(), limit: limit)
            guard d <= limit else { continue }
            if let (current, distance) = best {
                guard d < distance || (d == distance && candidate.utf8.lexicographicallyPrecedes(current.utf8)) else { continue }
            }
            best = (candidate, d)
        }
        return best?.0
    }

    static func hint(for word: String, in candidates: some Sequence<String>) -> [String] {
        closest(to: word, in: candidates).map { ["did you mean '\($0)'?"] } ?? []
    }
}
