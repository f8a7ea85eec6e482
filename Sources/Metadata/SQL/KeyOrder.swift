/// Key ordering as S3 and both databases define it: by UTF-8 bytes (PostgreSQL `COLLATE "C"`
/// on a UTF-8 database, SQLite `BINARY`). Swift's `String <` compares Unicode canonically
/// and must not be used for keys.
enum KeyOrder {
    static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The smallest string greater than every string that starts with `prefix`, or nil when
    /// there is none (empty prefix, or only U+10FFFF characters). `key >= prefix AND key < bound`
    /// selects exactly the keys with that prefix, and seeking to `bound` skips them all.
    ///
    /// Increments the last Unicode scalar (skipping the surrogate gap); UTF-8 preserves scalar
    /// order and is prefix-free, so every string starting with `prefix` sorts below the bound.
    static func prefixUpperBound(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var result = String.UnicodeScalarView()
                result.append(contentsOf: scalars)
                return String(result)
            }
        }
        return nil
    }

    /// The common prefix `key` rolls up into: `prefix` plus everything up to and including the
    /// first `delimiter` after it; nil when the key has no delimiter after the prefix.
    static func commonPrefix(of key: String, prefix: String, delimiter: String?) -> String? {
        guard let delimiter, !delimiter.isEmpty else { return nil }
        let keyBytes = Array(key.utf8)
        let prefixBytes = Array(prefix.utf8)
        let delimiterBytes = Array(delimiter.utf8)
        guard keyBytes.count >= prefixBytes.count + delimiterBytes.count,
              keyBytes.starts(with: prefixBytes)
        else { return nil }
        var index = prefixBytes.count
        while index + delimiterBytes.count <= keyBytes.count {
            if keyBytes[index] == delimiterBytes[0],
               keyBytes[index..<(index + delimiterBytes.count)].elementsEqual(delimiterBytes) {
                // A match of a whole UTF-8 sequence is on a character boundary.
                return String(decoding: keyBytes[0..<(index + delimiterBytes.count)], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }
}

/// Where a key-ordered scan starts.
struct KeyBound: Sendable, Hashable {
    var key: String
    var inclusive: Bool

    /// The later of two lower bounds.
    static func max(_ a: KeyBound?, _ b: KeyBound?) -> KeyBound? {
        guard let a else { return b }
        guard let b else { return a }
        if a.key == b.key { return KeyBound(key: a.key, inclusive: a.inclusive && b.inclusive) }
        return KeyOrder.less(a.key, b.key) ? b : a
    }
}
