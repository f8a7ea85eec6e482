import NIOCore
import S3Protocol
import Testing

@Suite struct XMLWriterTests {
    @Test func escapesMarkupCharacters() {
        #expect(XMLWriter.escaped(#"a&b<c>d"e'f"#) == "a&amp;b&lt;c&gt;d&quot;e&apos;f")
    }

    @Test func keepsTabAndNewlineButEscapesCarriageReturn() {
        #expect(XMLWriter.escaped("a\tb\nc\rd") == "a\tb\nc&#xD;d")
    }

    @Test func replacesCharactersForbiddenInXML() {
        #expect(XMLWriter.escaped("a\u{0}b\u{1}c\u{1F}d\u{7F}") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{7F}")
        #expect(XMLWriter.escaped("x\u{FFFE}y\u{FFFF}z") == "x\u{FFFD}y\u{FFFD}z")
    }

    @Test func keepsNonASCII() {
        #expect(XMLWriter.escaped("日本語/ü/😀") == "日本語/ü/😀")
    }

    @Test func escapedOutputAlwaysParses() throws {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let scalars = (0..<Int.random(in: 0...20, using: &generator)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x2FF, using: &generator))
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            var writer = XMLWriter()
            writer.element("V", text)
            let parsed = try S3XMLParser().parse(writer.bytes)
            let expected = String(text.unicodeScalars.map { scalar -> Character in
                let v = scalar.value
                if v < 0x20, v != 0x09, v != 0x0A, v != 0x0D { return "\u{FFFD}" }
                return Character(scalar)
            })
            #expect(parsed.text == expected)
        }
    }

    @Test func buildsNestedDocument() {
        var writer = XMLWriter()
        writer.declaration()
        writer.element("Root", namespace: "urn:x") { w in
            w.element("Count", 42)
            w.element("Flag", true)
            w.element("When", sampleDate)
            w.element("Missing", ifPresent: nil as String?)
            w.emptyElement("Empty")
        }
        #expect(writer.string == xmlDeclaration
            + #"<Root xmlns="urn:x"><Count>42</Count><Flag>true</Flag><When>2024-01-02T03:04:05.000Z</When><Empty/></Root>"#)
    }

    @Test func writesIntoByteBuffer() {
        var writer = XMLWriter()
        writer.element("A", "b")
        var buffer = ByteBuffer(string: "prefix:")
        writer.write(into: &buffer)
        #expect(String(buffer: buffer) == "prefix:<A>b</A>")
        #expect(String(buffer: writer.byteBuffer()) == "<A>b</A>")
    }
}
