import NIOCore

/// A strict, minimal, non-validating XML parser for S3 request bodies.
///
/// It builds an ``S3XMLElement`` tree and accepts well-formed XML 1.0 in UTF-8:
/// an optional BOM and XML declaration, elements, attributes, character data, CDATA sections,
/// comments and processing instructions. Names are split into prefix and local name;
/// decoders match local names only, so any namespace (or none) is accepted.
///
/// It refuses, with an ``XMLParseError``, anything that could be abused or that S3 bodies never need:
/// DOCTYPE and entity declarations, entity references other than the five predefined ones,
/// input over ``Limits/maxBytes``, nesting over ``Limits/maxDepth`` and more than
/// ``Limits/maxElements`` elements. The parser is iterative and never traps on any input.
public struct S3XMLParser: Sendable {
    /// Resource limits applied while parsing.
    public struct Limits: Sendable, Hashable {
        /// Maximum input size in bytes.
        public var maxBytes: Int
        /// Maximum element nesting depth (the root element is depth 1).
        public var maxDepth: Int
        /// Maximum number of elements in the document.
        public var maxElements: Int

        /// Creates limits; the defaults (1 MiB, depth 32, 100 000 elements) suit every S3 body but large
        /// `CompleteMultipartUpload` requests.
        public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxElements: Int = 100_000) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxElements = maxElements
        }

        /// 1 MiB, depth 32, 100 000 elements.
        public static let `default` = Limits()
    }

    /// The limits this parser enforces.
    public var limits: Limits

    /// Creates a parser with `limits`.
    public init(limits: Limits = .default) {
        self.limits = limits
    }

    /// Parses a document and returns its root element.
    public func parse(_ bytes: [UInt8]) throws(XMLParseError) -> S3XMLElement {
        guard bytes.count <= limits.maxBytes else { throw XMLParseError(.tooLarge, offset: limits.maxBytes) }
        var scanner = XMLScanner(bytes: bytes, limits: limits)
        return try scanner.parseDocument()
    }

    /// Parses the readable bytes of `buffer`.
    public func parse(_ buffer: ByteBuffer) throws(XMLParseError) -> S3XMLElement {
        guard buffer.readableBytes <= limits.maxBytes else {
            throw XMLParseError(.tooLarge, offset: limits.maxBytes)
        }
        return try parse(Array(buffer.readableBytesView))
    }

    /// Parses a document held in a string.
    public func parse(_ string: String) throws(XMLParseError) -> S3XMLElement {
        guard string.utf8.count <= limits.maxBytes else {
            throw XMLParseError(.tooLarge, offset: limits.maxBytes)
        }
        return try parse(Array(string.utf8))
    }
}
