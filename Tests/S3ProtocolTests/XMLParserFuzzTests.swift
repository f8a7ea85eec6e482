import S3Protocol
import Testing

/// Property-style checks: the parser must return or throw, never trap, on arbitrary input.
@Suite struct XMLParserFuzzTests {
    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        let parser = S3XMLParser()
        for _ in 0..<2000 {
            let count = Int.random(in: 0...256, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? parser.parse(bytes)
        }
    }

    @Test func randomMarkupSoupNeverCrashes() {
        let pieces = [
            "<", ">", "/", "a", "b:c", "=", "\"", "'", "&", ";", "#", "x", "1", "&amp;", "&#x41;", "<!--", "-->",
            "<![CDATA[", "]]>", "<?", "?>", "<!DOCTYPE", " ", "\n", "\r", "<a>", "</a>", "<b/>", "xmlns=\"u\"",
            "\u{FFFD}", "😀", "&#", "<?xml version=\"1.0\"?>",
        ]
        var generator = SplitMix64(seed: 42)
        let parser = S3XMLParser(limits: .init(maxBytes: 4096, maxDepth: 8, maxElements: 64))
        var parsed = 0
        for _ in 0..<5000 {
            let count = Int.random(in: 1...40, using: &generator)
            let text = (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &generator)] }.joined()
            if (try? parser.parse(text)) != nil { parsed += 1 }
        }
        #expect(parsed < 5000)
    }

    @Test func mutatedValidDocumentsNeverCrash() throws {
        let valid = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Part><ETag>"a&amp;b"</ETag><PartNumber>1</PartNumber></Part><!-- c -->
            <Part><ETag><![CDATA["x"]]></ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>
            """.utf8)
        _ = try CompleteMultipartUploadRequest.decode(valid)
        var generator = SplitMix64(seed: 99)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
                if bytes.isEmpty { break }
            }
            _ = try? S3XMLParser().parse(bytes)
            _ = try? CompleteMultipartUploadRequest.decode(bytes)
        }
    }

    /// Near-limit inputs that would be slow for a parser with quadratic paths; each must finish promptly.
    @Test func adversarialInputsNearTheSizeLimitFinish() {
        let size = (1 << 20) - 64
        let patterns: [String] = [
            "<a>" + String(repeating: "&amp;", count: size / 5) + "</a>",
            "<a>" + String(repeating: "]]", count: size / 2) + "</a>",
            String(repeating: "<!---->", count: size / 7) + "<a/>",
            "<a>" + String(repeating: "<?p x?>", count: size / 7) + "</a>",
            "<a>" + String(repeating: "<b/>", count: size / 4) + "</a>",
            "<a>" + String(repeating: "x<b></b>", count: size / 8) + "</a>",
            "<a x=\"" + String(repeating: "&#x41;", count: size / 6) + "\"/>",
            "<a>" + String(repeating: "<!--", count: size / 4),
            "<a>" + String(repeating: "&", count: size),
            "<" + String(repeating: "a", count: size) + "/>",
        ]
        let parser = S3XMLParser()
        for pattern in patterns {
            _ = try? parser.parse(pattern)
        }
    }
}
