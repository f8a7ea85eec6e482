/// The S3 listing walk shared by ListObjects, ListObjectVersions and ListMultipartUploads.
///
/// It seeks through an index in key order with small `LIMIT`ed queries and never loads a
/// bucket: when a key rolls up into a common prefix, the next query starts past the whole
/// prefix (at ``KeyOrder/prefixUpperBound(_:)``), so a folder with a million keys costs one
/// query. Runs inside one snapshot so that the pages it stitches together are consistent.
struct KeyScan<Item, Cursor>: Sendable {
    enum Position {
        /// From a key (inclusive or not).
        case from(KeyBound)
        /// Right after an item (for versions: the remaining versions of its key, then later keys).
        case after(Cursor)
    }

    enum Entry {
        case item(Item)
        case prefix(String)
    }

    /// A scan's entries as one page of a listing.
    struct Page {
        var items: [Item] = []
        var commonPrefixes: [String] = []
        /// Of a truncated page: the key the next page starts after (its last entry's key or
        /// prefix), and its last entry when that is an item (whose version or upload id the
        /// next page's marker names too).
        var nextKeyMarker: String?
        var lastItem: Item?
    }

    /// `entries` (from ``run(from:maxEntries:fetch:)``) as a page, truncated or not.
    func page(_ entries: [Entry], isTruncated: Bool) -> Page {
        var page = Page()
        for entry in entries {
            switch entry {
            case .item(let item): page.items.append(item)
            case .prefix(let prefix): page.commonPrefixes.append(prefix)
            }
        }
        if isTruncated {
            switch entries.last {
            case .item(let item)?:
                page.nextKeyMarker = key(item)
                page.lastItem = item
            case .prefix(let prefix)?:
                page.nextKeyMarker = prefix
            case nil: break
            }
        }
        return page
    }

    let prefix: String
    let delimiter: String?
    let key: @Sendable (Item) -> String
    let cursor: @Sendable (Item) -> Cursor
    let cursorKey: @Sendable (Cursor) -> String

    /// Returns up to `maxEntries` items and common prefixes in order, and whether more exist.
    /// `fetch(position, upperBound, limit)` returns the next items in order from `position`,
    /// with keys below `upperBound` when it is given.
    func run(
        from start: Position?,
        maxEntries: Int,
        fetch: (Position, String?, Int) async throws -> [Item]
    ) async throws -> (entries: [Entry], isTruncated: Bool) {
        guard maxEntries > 0 else { return ([], false) }
        let upper = prefix.isEmpty ? nil : KeyOrder.prefixUpperBound(prefix)
        let prefixBound = KeyBound(key: prefix, inclusive: true)
        guard var position = initialPosition(start, prefixBound: prefixBound) else { return ([], false) }

        let want = maxEntries + 1
        var entries: [Entry] = []
        // With a delimiter most rows of a batch may fall into one common prefix and be skipped,
        // so batches start small and grow while no prefix is rolled up.
        let initialBatch = delimiter?.isEmpty == false ? 32 : want
        var batch = initialBatch
        scan: while entries.count < want {
            if case .from(let bound) = position, let upper, !KeyOrder.less(bound.key, upper) { break }
            let need = min(want - entries.count, batch)
            let items = try await fetch(position, upper, need)
            var next: Position?
            var jumped = false
            for item in items {
                if let common = KeyOrder.commonPrefix(of: key(item), prefix: prefix, delimiter: delimiter) {
                    entries.append(.prefix(common))
                    guard let bound = KeyOrder.prefixUpperBound(common) else { break scan }
                    next = .from(KeyBound(key: bound, inclusive: true))
                    jumped = true
                    break
                }
                entries.append(.item(item))
                next = .after(cursor(item))
                if entries.count >= want { break }
            }
            guard let next, jumped || items.count >= need else { break }
            batch = jumped ? initialBatch : batch * 2
            position = next
        }
        let isTruncated = entries.count > maxEntries
        if isTruncated { entries.removeLast(entries.count - maxEntries) }
        return (entries, isTruncated)
    }

    /// Clamps the start to the prefix and skips the common prefix the marker lies in (it was
    /// returned on the previous page). Nil when nothing can follow.
    private func initialPosition(_ start: Position?, prefixBound: KeyBound) -> Position? {
        guard let start else { return .from(prefixBound) }
        let markerKey: String
        switch start {
        case .from(let bound):
            markerKey = bound.key
            if bound.inclusive || !markerKey.utf8.starts(with: prefix.utf8) {
                return .from(KeyBound.max(bound, prefixBound) ?? prefixBound)
            }
        case .after(let cursor):
            markerKey = cursorKey(cursor)
            if !markerKey.utf8.starts(with: prefix.utf8) {
                return .from(KeyBound.max(KeyBound(key: markerKey, inclusive: false), prefixBound) ?? prefixBound)
            }
        }
        if let common = KeyOrder.commonPrefix(of: markerKey, prefix: prefix, delimiter: delimiter) {
            guard let bound = KeyOrder.prefixUpperBound(common) else { return nil }
            return .from(KeyBound(key: bound, inclusive: true))
        }
        return start
    }
}

extension KeyScan.Entry: Sendable where Item: Sendable {}

extension KeyBound {
    /// `key > x` or `key >= x`.
    func condition(_ column: SQL = "key") -> SQL {
        inclusive ? "\(sql: column) >= \(key)" : "\(sql: column) > \(key)"
    }
}

/// `AND key < upper` when there is an upper bound.
func upperCondition(_ upper: String?, _ column: SQL = "key") -> SQL {
    guard let upper else { return "" }
    return " AND \(sql: column) < \(upper)"
}
