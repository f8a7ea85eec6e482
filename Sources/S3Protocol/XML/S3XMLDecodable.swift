import NIOCore

/// A request body type decoded from S3 XML.
///
/// Decoding maps every structural problem to an ``S3Error`` (`MalformedXML` unless a more specific
/// S3 code applies), and an empty body to ``emptyBodyError`` (`MissingRequestBodyError` unless
/// S3 answers otherwise for the document).
public protocol S3XMLDecodable: Sendable {
    /// The expected local name of the root element.
    static var rootElementName: String { get }
    /// Parser limits used by the `decode` functions; defaults to ``S3XMLParser/Limits/default``.
    static var parserLimits: S3XMLParser.Limits { get }
    /// The error for an empty (or whitespace-only) body.
    static var emptyBodyError: S3Error { get }
    /// Decodes from a parsed root element, checking its name.
    init(xml root: S3XMLElement) throws(S3Error)
}

extension S3XMLDecodable {
    public static var parserLimits: S3XMLParser.Limits { .default }

    public static var emptyBodyError: S3Error { S3Error(.missingRequestBodyError) }

    /// Parses and decodes a body.
    public static func decode(_ bytes: [UInt8]) throws(S3Error) -> Self {
        let root: S3XMLElement
        do {
            root = try S3XMLParser(limits: parserLimits).parse(bytes)
        } catch {
            throw error.kind == .emptyDocument ? emptyBodyError : error.s3Error
        }
        return try Self(xml: root)
    }

    /// Parses and decodes the readable bytes of `buffer`.
    public static func decode(_ buffer: ByteBuffer) throws(S3Error) -> Self {
        guard buffer.readableBytes <= parserLimits.maxBytes else { throw S3Error.malformedXML }
        return try decode(Array(buffer.readableBytesView))
    }

    /// Parses and decodes a body held in a string.
    public static func decode(_ string: String) throws(S3Error) -> Self {
        try decode(Array(string.utf8))
    }

    /// Throws `MalformedXML` unless `root` has the expected local name.
    static func checkRoot(_ root: S3XMLElement) throws(S3Error) {
        guard root.name == rootElementName else { throw S3Error.malformedXML }
    }
}
