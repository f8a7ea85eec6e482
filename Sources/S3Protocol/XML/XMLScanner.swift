/// The byte-level state machine behind ``S3XMLParser``.
struct XMLScanner {
    private struct OpenElement {
        var qualifiedName: Range<Int>
        var element: S3XMLElement
        var text: [UInt8]
    }

    private let b: [UInt8]
    private let limits: S3XMLParser.Limits
    private var i = 0
    private var elementCount = 0
    private var stack: [OpenElement] = []
    private var root: S3XMLElement?

    init(bytes: [UInt8], limits: S3XMLParser.Limits) {
        b = bytes
        self.limits = limits
    }

    // MARK: - Document

    mutating func parseDocument() throws(XMLParseError) -> S3XMLElement {
        if let bad = Self.firstInvalidCharacter(in: b) { throw XMLParseError(.invalidCharacter, offset: bad) }
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        if b[i...].allSatisfy(Self.isSpace) { throw XMLParseError(.emptyDocument, offset: i) }
        if hasPrefix("<?xml"), i + 5 < b.count, Self.isSpace(b[i + 5]) || b[i + 5] == UInt8(ascii: "?") {
            try parseDeclaration()
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "<") {
                try parseMarkup()
            } else {
                try parseText()
            }
        }
        if !stack.isEmpty { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
        guard let root else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
        return root
    }

    private mutating func parseDeclaration() throws(XMLParseError) {
        i += 5
        let attributes: [S3XMLElement.Attribute]
        do {
            attributes = try parseAttributes(inDeclaration: true)
        } catch {
            throw XMLParseError(.invalidDeclaration, offset: error.offset)
        }
        var sawVersion = false
        for (index, attribute) in attributes.enumerated() {
            switch attribute.name {
            case "version":
                guard index == 0, attribute.value.hasPrefix("1.") else {
                    throw XMLParseError(.invalidDeclaration, offset: i)
                }
                sawVersion = true
            case "encoding":
                let encoding = attribute.value.lowercased()
                guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(encoding) else {
                    throw XMLParseError(.invalidDeclaration, offset: i)
                }
            case "standalone":
                guard attribute.value == "yes" || attribute.value == "no" else {
                    throw XMLParseError(.invalidDeclaration, offset: i)
                }
            default:
                throw XMLParseError(.invalidDeclaration, offset: i)
            }
        }
        guard sawVersion else { throw XMLParseError(.invalidDeclaration, offset: i) }
    }

    // MARK: - Markup

    private mutating func parseMarkup() throws(XMLParseError) {
        guard i + 1 < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
        switch b[i + 1] {
        case UInt8(ascii: "/"):
            try parseEndTag()
        case UInt8(ascii: "!"):
            if hasPrefix("<!--") {
                try skipComment()
            } else if hasPrefix("<![CDATA[") {
                try parseCDATA()
            } else if hasPrefix("<!") {
                let declarations = ["<!DOCTYPE", "<!ENTITY", "<!ELEMENT", "<!ATTLIST", "<!NOTATION"]
                if declarations.contains(where: { hasPrefix($0) }) {
                    throw XMLParseError(.doctypeNotAllowed, offset: i)
                }
                throw XMLParseError(.unexpectedCharacter, offset: i + 1)
            }
        case UInt8(ascii: "?"):
            try skipProcessingInstruction()
        default:
            try parseStartTag()
        }
    }

    private mutating func parseStartTag() throws(XMLParseError) {
        let tagStart = i
        i += 1
        guard root == nil else { throw XMLParseError(.contentOutsideRootElement, offset: tagStart) }
        let nameRange = try parseName()
        let (prefix, local) = try splitQualifiedName(nameRange)
        let attributes = try parseAttributes(inDeclaration: false)
        // parseAttributes leaves `i` on the closing `>` or on `/>`.
        let selfClosing = b[i] == UInt8(ascii: "/")
        i += selfClosing ? 2 : 1
        elementCount += 1
        guard elementCount <= limits.maxElements else {
            throw XMLParseError(.elementLimitExceeded, offset: tagStart)
        }
        guard stack.count + 1 <= limits.maxDepth else {
            throw XMLParseError(.depthLimitExceeded, offset: tagStart)
        }
        let element = S3XMLElement(name: local, prefix: prefix, attributes: attributes)
        if selfClosing {
            finish(element)
        } else {
            stack.append(OpenElement(qualifiedName: nameRange, element: element, text: []))
        }
    }

    private mutating func parseEndTag() throws(XMLParseError) {
        let tagStart = i
        i += 2
        let nameRange = try parseName()
        skipSpace()
        guard i < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
        guard b[i] == UInt8(ascii: ">") else { throw XMLParseError(.unexpectedCharacter, offset: i) }
        i += 1
        guard var open = stack.popLast() else { throw XMLParseError(.contentOutsideRootElement, offset: tagStart) }
        guard b[nameRange].elementsEqual(b[open.qualifiedName]) else {
            throw XMLParseError(.mismatchedTag, offset: tagStart)
        }
        open.element.text = String(decoding: open.text, as: UTF8.self)
        finish(open.element)
    }

    private mutating func finish(_ element: S3XMLElement) {
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].element.children.append(element)
        }
    }

    private mutating func skipComment() throws(XMLParseError) {
        let start = i
        i += 4
        guard let dashes = find([UInt8(ascii: "-"), UInt8(ascii: "-")], from: i) else {
            throw XMLParseError(.invalidComment, offset: start)
        }
        guard dashes + 2 < b.count, b[dashes + 2] == UInt8(ascii: ">") else {
            throw XMLParseError(.invalidComment, offset: dashes)
        }
        i = dashes + 3
    }

    private mutating func parseCDATA() throws(XMLParseError) {
        let start = i
        guard !stack.isEmpty else { throw XMLParseError(.contentOutsideRootElement, offset: start) }
        i += 9
        guard let end = find(Array("]]>".utf8), from: i) else {
            throw XMLParseError(.unexpectedEndOfInput, offset: b.count)
        }
        Self.appendNormalizingNewlines(b[i..<end], to: &stack[stack.count - 1].text)
        i = end + 3
    }

    private mutating func skipProcessingInstruction() throws(XMLParseError) {
        let start = i
        i += 2
        let target = try parseName()
        if b[target].count == 3, String(decoding: b[target], as: UTF8.self).lowercased() == "xml" {
            throw XMLParseError(.invalidDeclaration, offset: start)
        }
        guard let end = find([UInt8(ascii: "?"), UInt8(ascii: ">")], from: i) else {
            throw XMLParseError(.unexpectedEndOfInput, offset: b.count)
        }
        if end > i, !Self.isSpace(b[i]) { throw XMLParseError(.unexpectedCharacter, offset: i) }
        i = end + 2
    }

    // MARK: - Attributes

    /// Parses attributes up to `>` or `/>` (or `?>` in a declaration), leaving `i` on the terminator.
    private mutating func parseAttributes(inDeclaration: Bool) throws(XMLParseError) -> [S3XMLElement.Attribute] {
        var attributes: [S3XMLElement.Attribute] = []
        var names: [Range<Int>] = []
        while true {
            let hadSpace = skipSpace()
            guard i < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
            if inDeclaration {
                if b[i] == UInt8(ascii: "?") {
                    guard i + 1 < b.count, b[i + 1] == UInt8(ascii: ">") else {
                        throw XMLParseError(.invalidDeclaration, offset: i)
                    }
                    i += 2
                    return attributes
                }
            } else if b[i] == UInt8(ascii: ">") {
                return attributes
            } else if b[i] == UInt8(ascii: "/") {
                guard i + 1 < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
                guard b[i + 1] == UInt8(ascii: ">") else { throw XMLParseError(.unexpectedCharacter, offset: i) }
                return attributes
            }
            guard hadSpace else { throw XMLParseError(.unexpectedCharacter, offset: i) }
            let nameRange = try parseName()
            if !inDeclaration { _ = try splitQualifiedName(nameRange) }
            if names.contains(where: { b[$0].elementsEqual(b[nameRange]) }) {
                throw XMLParseError(.duplicateAttribute, offset: nameRange.lowerBound)
            }
            names.append(nameRange)
            guard names.count <= Self.maxAttributes else {
                throw XMLParseError(.attributeLimitExceeded, offset: nameRange.lowerBound)
            }
            skipSpace()
            guard i < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
            guard b[i] == UInt8(ascii: "=") else { throw XMLParseError(.unexpectedCharacter, offset: i) }
            i += 1
            skipSpace()
            guard i < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
            let quote = b[i]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                throw XMLParseError(.unexpectedCharacter, offset: i)
            }
            i += 1
            guard let close = b[i...].firstIndex(of: quote) else {
                throw XMLParseError(.unexpectedEndOfInput, offset: b.count)
            }
            if let lt = b[i..<close].firstIndex(of: UInt8(ascii: "<")) {
                throw XMLParseError(.unexpectedCharacter, offset: lt)
            }
            var value: [UInt8] = []
            try decodeCharacterData(i..<close, into: &value, attribute: true)
            i = close + 1
            attributes.append(.init(
                name: String(decoding: b[nameRange], as: UTF8.self),
                value: String(decoding: value, as: UTF8.self)
            ))
        }
    }

    // MARK: - Character data

    private mutating func parseText() throws(XMLParseError) {
        let start = i
        let end = b[i...].firstIndex(of: UInt8(ascii: "<")) ?? b.count
        i = end
        if stack.isEmpty {
            if let bad = b[start..<end].firstIndex(where: { !Self.isSpace($0) }) {
                throw XMLParseError(.contentOutsideRootElement, offset: bad)
            }
            return
        }
        if let cdataEnd = find(Array("]]>".utf8), from: start, before: end) {
            throw XMLParseError(.unexpectedCharacter, offset: cdataEnd)
        }
        var text = stack[stack.count - 1].text
        stack[stack.count - 1].text = []
        try decodeCharacterData(start..<end, into: &text, attribute: false)
        stack[stack.count - 1].text = text
    }

    /// Resolves references and normalizes line ends (and, in attributes, whitespace) in `range`.
    private func decodeCharacterData(
        _ range: Range<Int>,
        into out: inout [UInt8],
        attribute: Bool
    ) throws(XMLParseError) {
        var j = range.lowerBound
        while j < range.upperBound {
            let c = b[j]
            switch c {
            case UInt8(ascii: "&"):
                j = try decodeReference(at: j, limit: range.upperBound, into: &out)
            case 0x0D:
                out.append(attribute ? 0x20 : 0x0A)
                j += (j + 1 < range.upperBound && b[j + 1] == 0x0A) ? 2 : 1
            case 0x09, 0x0A:
                out.append(attribute ? 0x20 : c)
                j += 1
            default:
                out.append(c)
                j += 1
            }
        }
    }

    /// Decodes the reference starting with `&` at `start`; returns the index after its `;`.
    private func decodeReference(at start: Int, limit: Int, into out: inout [UInt8]) throws(XMLParseError) -> Int {
        let searchEnd = min(limit, start + 16)
        guard let semicolon = b[start..<searchEnd].firstIndex(of: UInt8(ascii: ";")) else {
            throw XMLParseError(.undefinedEntity, offset: start)
        }
        let name = b[(start + 1)..<semicolon]
        switch String(decoding: name, as: UTF8.self) {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "quot": out.append(UInt8(ascii: "\""))
        case "apos": out.append(UInt8(ascii: "'"))
        default:
            guard name.first == UInt8(ascii: "#") else { throw XMLParseError(.undefinedEntity, offset: start) }
            guard let scalar = Self.characterReference(name.dropFirst()) else {
                throw XMLParseError(.invalidCharacterReference, offset: start)
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        return semicolon + 1
    }

    /// The scalar named by the digits of `&#…;` / `&#x…;`, if it is an XML 1.0 `Char`.
    private static func characterReference(_ digits: ArraySlice<UInt8>) -> Unicode.Scalar? {
        var body = digits
        var radix: UInt32 = 10
        if body.first == UInt8(ascii: "x") {
            radix = 16
            body = body.dropFirst()
        }
        guard !body.isEmpty, body.count <= 8 else { return nil }
        var value: UInt32 = 0
        for c in body {
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt32(c - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt32(c - 0x41 + 10)
            default: return nil
            }
            value = value * radix + digit
            if value > 0x10FFFF { return nil }
        }
        let allowed = value == 0x9 || value == 0xA || value == 0xD
            || (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value)
            || (0x10000...0x10FFFF).contains(value)
        return allowed ? Unicode.Scalar(value) : nil
    }

    private static func appendNormalizingNewlines(_ slice: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var previousCR = false
        for c in slice {
            if c == 0x0D {
                out.append(0x0A)
                previousCR = true
                continue
            }
            if !(c == 0x0A && previousCR) { out.append(c) }
            previousCR = false
        }
    }

    // MARK: - Names and helpers

    private mutating func parseName() throws(XMLParseError) -> Range<Int> {
        let start = i
        guard i < b.count else { throw XMLParseError(.unexpectedEndOfInput, offset: b.count) }
        guard Self.isNameStart(b[i]) else { throw XMLParseError(.invalidName, offset: i) }
        i += 1
        while i < b.count, Self.isNameChar(b[i]) { i += 1 }
        return start..<i
    }

    /// Splits `prefix:local`; rejects empty parts and more than one colon.
    private func splitQualifiedName(_ range: Range<Int>) throws(XMLParseError) -> (String?, String) {
        let colons = b[range].indices.filter { b[$0] == UInt8(ascii: ":") }
        guard let colon = colons.first else { return (nil, String(decoding: b[range], as: UTF8.self)) }
        guard colons.count == 1, colon > range.lowerBound, colon + 1 < range.upperBound else {
            throw XMLParseError(.invalidName, offset: range.lowerBound)
        }
        return (
            String(decoding: b[range.lowerBound..<colon], as: UTF8.self),
            String(decoding: b[(colon + 1)..<range.upperBound], as: UTF8.self)
        )
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = i
        while i < b.count, Self.isSpace(b[i]) { i += 1 }
        return i > start
    }

    private func hasPrefix(_ literal: String) -> Bool {
        let utf8 = literal.utf8
        guard i + utf8.count <= b.count else { return false }
        return b[i..<(i + utf8.count)].elementsEqual(utf8)
    }

    /// First occurrence of `pattern` starting at or after `start` and ending at or before `end`.
    private func find(_ pattern: [UInt8], from start: Int, before end: Int? = nil) -> Int? {
        let limit = min(end ?? b.count, b.count)
        guard !pattern.isEmpty, start >= 0 else { return nil }
        var j = start
        while j + pattern.count <= limit {
            if b[j] == pattern[0], b[j..<(j + pattern.count)].elementsEqual(pattern) { return j }
            j += 1
        }
        return nil
    }

    /// Attributes allowed on one element; S3 bodies carry at most a few namespace declarations.
    static let maxAttributes = 32

    static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || c >= 0x80
    }

    private static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    /// Offset of the first byte that is not valid UTF-8 or not an XML 1.0 `Char`, if any.
    static func firstInvalidCharacter(in b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                if c < 0x20, c != 0x09, c != 0x0A, c != 0x0D { return i }
                i += 1
                continue
            }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch c {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return i
            }
            guard i + length <= n, secondRange.contains(b[i + 1]) else { return i }
            for k in 2..<max(2, length) where !(0x80...0xBF).contains(b[i + k]) {
                return i
            }
            // U+FFFE and U+FFFF are not XML characters.
            if c == 0xEF, b[i + 1] == 0xBF, b[i + 2] == 0xBE || b[i + 2] == 0xBF { return i }
            i += length
        }
        return nil
    }
}
