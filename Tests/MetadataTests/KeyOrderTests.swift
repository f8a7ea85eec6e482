import Testing

@testable import Metadata

@Suite("Key order")
struct KeyOrderTests {
    @Test func comparesUTF8Bytes() {
        #expect(KeyOrder.less("Z", "a"))
        #expect(KeyOrder.less("e\u{301}", "é"))  // 65 CC 81 < C3 A9
        #expect(KeyOrder.less("\u{FFFD}", "😀"))  // EF < F0
        #expect(!KeyOrder.less("a", "a"))
    }

    @Test(arguments: ["photos/", "a", "日本", "x\u{D7FF}", "é"])
    func prefixUpperBoundIsTight(_ prefix: String) throws {
        let bound = try #require(KeyOrder.prefixUpperBound(prefix))
        #expect(KeyOrder.less(prefix, bound))
        for suffix in ["", "a", "\u{10FFFF}\u{10FFFF}", "zzz", "😀"] {
            #expect(KeyOrder.less(prefix + suffix, bound), "\(prefix + suffix)")
        }
        #expect(!(prefix + "x").unicodeScalars.elementsEqual(bound.unicodeScalars))
    }

    @Test func prefixUpperBoundEdgeCases() {
        #expect(KeyOrder.prefixUpperBound("") == nil)
        #expect(KeyOrder.prefixUpperBound("a/") == "a0")
        #expect(KeyOrder.prefixUpperBound("a\u{10FFFF}") == "b")
        #expect(KeyOrder.prefixUpperBound("\u{10FFFF}") == nil)
        #expect(KeyOrder.prefixUpperBound("x\u{D7FF}") == "x\u{E000}")
    }

    @Test func commonPrefixes() {
        #expect(KeyOrder.commonPrefix(of: "photos/2024/a.jpg", prefix: "", delimiter: "/") == "photos/")
        #expect(KeyOrder.commonPrefix(of: "photos/2024/a.jpg", prefix: "photos/", delimiter: "/") == "photos/2024/")
        #expect(KeyOrder.commonPrefix(of: "photos/a.jpg", prefix: "photos/", delimiter: "/") == nil)
        #expect(KeyOrder.commonPrefix(of: "a--b--c", prefix: "", delimiter: "--") == "a--")
        #expect(KeyOrder.commonPrefix(of: "日本/東京", prefix: "日", delimiter: "/") == "日本/")
        #expect(KeyOrder.commonPrefix(of: "abc", prefix: "", delimiter: nil) == nil)
        #expect(KeyOrder.commonPrefix(of: "abc", prefix: "", delimiter: "") == nil)
    }

    @Test func sqlBindsNeverSpliceValues() {
        let hostile = "x'; DROP TABLE buckets; --"
        let sql: SQL = "SELECT * FROM buckets WHERE name = \(hostile) AND n = \(42)"
        let postgres = sql.render(.postgres)
        #expect(postgres.text == "SELECT * FROM buckets WHERE name = $1::text AND n = $2::int8")
        #expect(postgres.binds == [.text(hostile), .int(42)])
        #expect(sql.render(.sqlite).text == "SELECT * FROM buckets WHERE name = ?1 AND n = ?2")
    }
}
