import Crypto

/// The identity of a compiled policy set: SHA-256 over every policy file that holds an enforced
/// document (path and bytes, in load order), the catalog's bytes and the zones with an enabled
/// backend.
enum PolicySetHash {
    static func compute(files: [PolicySet.SourceFile], catalog: Catalog, enabledZones: Set<String>?) -> String {
        var hasher = SHA256()
        func add(_ label: String, _ bytes: [UInt8]) {
            (Array(label.utf8) + [0]).withUnsafeBytes { hasher.update(bufferPointer: $0) }
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
            bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        // Policy tests are not part of what is enforced: editing a test file does not change the
        // hash. A test file is left out only when it holds nothing but PolicyTest documents: any
        // other document in it is loaded and enforced like one in any other file. (Files named
        // otherwise are always hashed, so that the hash of an unchanged set stays the same.)
        for file in files where !(isTestFileName(file.path) && file.holdsOnlyTests) {
            add("policy:" + (file.hashName ?? baseName(file.path)), file.contents)
        }
        add("catalog", catalog.contents)
        if let enabledZones { add("backends", Array(enabledZones.sorted().joined(separator: ",").utf8)) }
        return hasher.finalize().map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    private static func isTestFileName(_ path: String) -> Bool {
        path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml")
    }

    /// The name of a file given on its own (not found in a directory): its last two path
    /// components, which keep the hash stable across checkouts in different folders.
    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").suffix(2).joined(separator: "/")
    }
}
