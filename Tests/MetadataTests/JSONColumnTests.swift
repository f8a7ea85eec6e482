import Foundation
import Testing
@testable import Metadata

/// The hand-written JSON codec of list and map columns must agree with Foundation's both ways.
@Suite struct JSONColumnTests {
    static let awkward = [
        "", "plain", "with space", "quote \" and backslash \\", "slash / stays", "tab\tnew\nline\rcr",
        "bell \u{07} and nul \u{00} and \u{1F}", "ünïcødé", "東京", "emoji 🇪🇺 👍🏽", "\u{7F} delete", "{\"json\": [1]}",
    ]

    @Test func listsRoundTripAndFoundationReadsThem() throws {
        for list in [[], ["FI-HEL-ST-1"], Self.awkward, Array(Self.awkward.reversed())] {
            let text = JSONColumn.encode(list)
            #expect(try JSONDecoder().decode([String].self, from: Data(text.utf8)) == list, "\(text)")
            #expect(try JSONColumn.decode([String].self, from: text, column: "c") == list)
            #expect(JSONColumn.FastReader.stringList(text) == list, "the fast reader reads what it writes")
        }
    }

    @Test func mapsRoundTripWithSortedKeys() throws {
        var map: [String: String] = [:]
        for (i, s) in Self.awkward.enumerated() { map[s] = Self.awkward[(i + 3) % Self.awkward.count] }
        for value in [[:], ["x-amz-checksum-crc32": "AAAAAA=="], map] {
            let text = JSONColumn.encode(value)
            #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == value, "\(text)")
            #expect(JSONColumn.FastReader.stringMap(text) == value)
        }
        #expect(JSONColumn.encode(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }

    @Test func tagsReadBackAsFoundationWritesThem() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let awkward = zip(Self.awkward, Self.awkward.reversed()).map { ObjectTag($0, $1) }
        for tags in [[], [ObjectTag("project", "apollo")], awkward] {
            let text = JSONColumn.encode(tags)
            #expect(try JSONDecoder().decode([ObjectTag].self, from: Data(text.utf8)) == tags, "\(text)")
            #expect(try JSONColumn.decode([ObjectTag].self, from: text, column: "c") == tags)
        }
        for tags in [[], [ObjectTag("project", "apollo"), ObjectTag("a/b", "tab\tquote\"")]] {
            #expect(JSONColumn.encode(tags) == String(decoding: try encoder.encode(tags), as: UTF8.self))
        }
    }

    @Test func readsWhatFoundationAndJSONBWrite() throws {
        let encoder = JSONEncoder()
        for list in [Self.awkward, ["a/b"]] {
            let text = String(decoding: try encoder.encode(list), as: UTF8.self)
            #expect(JSONColumn.FastReader.stringList(text) == list, "\(text)")
        }
        // PostgreSQL's jsonb output: spaces after separators, escapes such as \u00e9 and pairs.
        #expect(JSONColumn.FastReader.stringList(#"["a", "b" ]"#) == ["a", "b"])
        #expect(JSONColumn.FastReader.stringMap(#" {"k": "v", "x": "\u00e9\ud83d\udc4d"} "#) == ["k": "v", "x": "é👍"])
    }

    @Test func leavesAnythingElseToFoundation() throws {
        for text in [#"["a",]"#, #"["a" "b"]"#, #"[1]"#, #"{"k":1}"#, #"["\ud800"]"#, #"["\x"]"#, "[\"a\u{01}\"]", #"["a"] x"#, "["] {
            #expect(JSONColumn.FastReader.stringList(text) == nil, "\(text)")
        }
        #expect(JSONColumn.FastReader.stringMap(#"{"k":"v",}"#) == nil)
        // Valid JSON the fast path does not take still decodes, through Foundation.
        #expect(try JSONColumn.decode([String].self, from: #"[ "a" , "b\/c" ]"#, column: "c") == ["a", "b/c"])
        #expect(throws: MetadataError.self) { try JSONColumn.decode([String].self, from: "[1]", column: "c") }
        #expect(try JSONColumn.decode([ObjectTag].self, from: #"[{"key":"k","value":"v"}]"#, column: "c") == [ObjectTag("k", "v")])
    }
}
