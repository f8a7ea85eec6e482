import NIOCore
import S3Protocol
import Testing

@Suite struct XMLParserTests {
    func parse(_ text: String, limits: S3XMLParser.Limits = .default) throws(XMLParseError) -> S3XMLElement {
        try S3XMLParser(limits: limits).parse(text)
    }

    func failure(_ text: String, limits: S3XMLParser.Limits = .default) -> XMLParseError.Kind? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch {
            return error.kind
        }
    }

    func failure(bytes: [UInt8]) -> XMLParseError.Kind? {
        do {
            _ = try S3XMLParser().parse(bytes)
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func parsesTreeWithNamespacesAndWhitespace() throws {
        let root = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Object>
                <Key>a.txt</Key>
              </Object>
              <s3:Quiet xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">true</s3:Quiet>
            </Delete>
            """)
        #expect(root.name == "Delete")
        #expect(root.attribute("xmlns") == "http://s3.amazonaws.com/doc/2006-03-01/")
        #expect(root.children.map(\.name) == ["Object", "Quiet"])
        #expect(root.child("Quiet")?.prefix == "s3")
        #expect(root.child("Quiet")?.text == "true")
        #expect(root.child("Object")?.child("Key")?.text == "a.txt")
        #expect(root.child("Object")?.trimmedText == "")
    }

    @Test func resolvesPredefinedAndNumericReferences() throws {
        let root = try parse("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&#13;</a>")
        #expect(root.text == "<>&\"'AB😀\r")
    }

    @Test func keepsCDATAVerbatim() throws {
        #expect(try parse("<a>x<![CDATA[<b>&amp;]]>y</a>").text == "x<b>&amp;y")
    }

    @Test func normalizesLineEnds() throws {
        #expect(try parse("<a>1\r\n2\r3\n</a>").text == "1\n2\n3\n")
        #expect(try parse("<a v=\"x\ty\nz\"/>").attribute("v") == "x y z")
    }

    @Test func skipsCommentsProcessingInstructionsAndBOM() throws {
        let root = try parse("\u{FEFF}<!-- c --><?pi data?><a><!-- inner --><b/><?x?></a><!-- tail -->\n")
        #expect(root.name == "a")
        #expect(root.children.map(\.name) == ["b"])
    }

    @Test func acceptsSingleQuotedAttributesAndSelfClosingRoot() throws {
        let root = try parse("<a x='1' y = \"2\" />")
        #expect(root.attributes == [.init(name: "x", value: "1"), .init(name: "y", value: "2")])
    }

    @Test func parsesByteBuffer() throws {
        let root = try S3XMLParser().parse(ByteBuffer(string: "<a>b</a>"))
        #expect(root.text == "b")
    }

    @Test(arguments: [
        ("<a>", XMLParseError.Kind.unexpectedEndOfInput),
        ("<a><b></a>", .mismatchedTag),
        ("<a></b>", .mismatchedTag),
        ("</a>", .contentOutsideRootElement),
        ("<a/><b/>", .contentOutsideRootElement),
        ("text<a/>", .contentOutsideRootElement),
        ("<a/>text", .contentOutsideRootElement),
        ("<!DOCTYPE a><a/>", .doctypeNotAllowed),
        ("<!ENTITY x \"y\"><a/>", .doctypeNotAllowed),
        ("<a>&foo;</a>", .undefinedEntity),
        ("<a>&amp</a>", .undefinedEntity),
        ("<a>&#0;</a>", .invalidCharacterReference),
        ("<a>&#xD800;</a>", .invalidCharacterReference),
        ("<a>&#x110000;</a>", .invalidCharacterReference),
        ("<a>&#;</a>", .invalidCharacterReference),
        ("<a x=1/>", .unexpectedCharacter),
        ("<a x=\"1\" x=\"2\"/>", .duplicateAttribute),
        ("<a x=\"<\"/>", .unexpectedCharacter),
        ("<a x=\"1\"y=\"2\"/>", .unexpectedCharacter),
        ("<1a/>", .invalidName),
        ("<a:b:c/>", .invalidName),
        ("<:a/>", .invalidName),
        ("<a><!-- x -- y --></a>", .invalidComment),
        ("<a><!-- x </a>", .invalidComment),
        ("<a>]]></a>", .unexpectedCharacter),
        ("<![CDATA[x]]><a/>", .contentOutsideRootElement),
        ("<a><?xml version=\"1.0\"?></a>", .invalidDeclaration),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", .invalidDeclaration),
        ("<?xml encoding=\"UTF-8\"?><a/>", .invalidDeclaration),
        ("<?xml version=\"1.0\"><a/>", .invalidDeclaration),
        ("", .emptyDocument),
        (" \n\t", .emptyDocument),
        ("<a", .unexpectedEndOfInput),
        ("<a b=\"", .unexpectedEndOfInput),
        ("<", .unexpectedEndOfInput),
        ("<a></a", .unexpectedEndOfInput),
        ("<a>\u{1}</a>", .invalidCharacter),
    ])
    func rejectsMalformedXML(input: String, expected: XMLParseError.Kind) {
        #expect(failure(input) == expected, "\(input.debugDescription)")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(failure(bytes: Array("<a>".utf8) + [0xC3, 0x28] + Array("</a>".utf8)) == .invalidCharacter)
        #expect(failure(bytes: Array("<a>".utf8) + [0xED, 0xA0, 0x80] + Array("</a>".utf8)) == .invalidCharacter)
        #expect(failure(bytes: Array("<a>".utf8) + [0xC0, 0x80] + Array("</a>".utf8)) == .invalidCharacter)
        #expect(failure(bytes: Array("<a>".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("</a>".utf8)) == .invalidCharacter)
        #expect(failure(bytes: Array("<a>".utf8) + [0xE2, 0x82]) == .invalidCharacter)
        #expect(failure(bytes: Array("<a>".utf8) + [0xEF, 0xBF, 0xBF] + Array("</a>".utf8)) == .invalidCharacter)
    }

    @Test func rejectsEntityExpansionAttack() {
        let billionLaughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
            <lolz>&lol2;</lolz>
            """
        #expect(failure(billionLaughs) == .doctypeNotAllowed)
        #expect(failure("<a>&lol2;</a>") == .undefinedEntity)
    }

    @Test func enforcesDepthLimit() {
        let deep = String(repeating: "<a>", count: 33) + String(repeating: "</a>", count: 33)
        #expect(failure(deep) == .depthLimitExceeded)
        let ok = String(repeating: "<a>", count: 32) + String(repeating: "</a>", count: 32)
        #expect(failure(ok) == nil)
        let veryDeep = String(repeating: "<a>", count: 100_000)
        #expect(failure(veryDeep) == .depthLimitExceeded)
    }

    @Test func enforcesSizeAndElementLimits() {
        let big = "<a>" + String(repeating: "x", count: 1 << 20) + "</a>"
        #expect(failure(big) == .tooLarge)
        #expect(failure("<a>xx</a>", limits: .init(maxBytes: 8)) == .tooLarge)
        #expect(failure(bytes: [UInt8](repeating: 0x20, count: (1 << 20) + 1)) == .tooLarge)
        let many = "<a>" + String(repeating: "<b/>", count: 11) + "</a>"
        #expect(failure(many, limits: .init(maxElements: 10)) == .elementLimitExceeded)
        #expect(failure(many, limits: .init(maxElements: 12)) == nil)
        let attributes = "<a " + (0..<40).map { "a\($0)=\"\"" }.joined(separator: " ") + "/>"
        #expect(failure(attributes) == .attributeLimitExceeded)
    }

    @Test func errorMapsToMalformedXML() {
        #expect(XMLParseError(.mismatchedTag, offset: 0).s3Error.code == .malformedXML)
        #expect(XMLParseError(.emptyDocument, offset: 0).s3Error.code == .missingRequestBodyError)
    }

    @Test func handlesLargeValidDocumentQuickly() throws {
        let body = "<Delete>" + String(repeating: "<Object><Key>some/key/name.txt</Key></Object>", count: 20_000) + "</Delete>"
        let root = try parse(body)
        #expect(root.children.count == 20_000)
    }
}
