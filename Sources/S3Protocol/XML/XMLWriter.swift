#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// A small, append-only XML builder writing UTF-8 into one growing byte array.
///
/// Element names are written verbatim (callers pass fixed S3 element names);
/// all text and attribute values are escaped (see ``XMLWriter/appendEscaped(_:to:)``).
///
/// ```swift
/// var w = XMLWriter()
/// w.declaration()
/// w.open("Tagging", namespace: S3XMLNamespace.uri)
/// w.element("Key", "a&b")
/// w.close("Tagging")
/// w.string // <?xml …?><Tagging xmlns="…"><Key>a&amp;b</Key></Tagging>
/// ```
public struct XMLWriter: Sendable {
    /// The UTF-8 bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer, reserving `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The document as a `String`.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// The document copied into a new `ByteBuffer`.
    public func byteBuffer(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    /// Appends the document to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeBytes(bytes)
    }

    /// Writes `<?xml version="1.0" encoding="UTF-8"?>`.
    public mutating func declaration() {
        bytes.append(contentsOf: Self.declarationBytes)
    }

    /// Writes a start tag, with an `xmlns` attribute when `namespace` is given.
    public mutating func open(_ name: String, namespace: String? = nil) {
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.utf8)
        if let namespace {
            bytes.append(contentsOf: Self.xmlnsBytes)
            Self.appendEscaped(namespace, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: ">"))
    }

    /// Writes an end tag.
    public mutating func close(_ name: String) {
        bytes.append(UInt8(ascii: "<"))
        bytes.append(UInt8(ascii: "/"))
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
    }

    /// Writes a self-closing element such as `<VersioningConfiguration xmlns="…"/>`.
    public mutating func emptyElement(_ name: String, namespace: String? = nil) {
        open(name, namespace: namespace)
        bytes.removeLast()
        bytes.append(UInt8(ascii: "/"))
        bytes.append(UInt8(ascii: ">"))
    }

    /// Writes escaped character data.
    public mutating func text(_ value: String) {
        Self.appendEscaped(value, to: &bytes)
    }

    /// Writes `<name>value</name>` with `value` escaped.
    public mutating func element(_ name: String, _ value: String) {
        open(name)
        Self.appendEscaped(value, to: &bytes)
        close(name)
    }

    /// Writes `<name>value</name>` only when `value` is non-nil.
    public mutating func element(_ name: String, ifPresent value: String?) {
        if let value { element(name, value) }
    }

    /// Writes an integer element.
    public mutating func element(_ name: String, _ value: some BinaryInteger) {
        open(name)
        bytes.append(contentsOf: String(value).utf8)
        close(name)
    }

    /// Writes an integer element only when `value` is non-nil.
    public mutating func element(_ name: String, ifPresent value: (some BinaryInteger)?) {
        if let value { element(name, value) }
    }

    /// Writes `true` or `false`.
    public mutating func element(_ name: String, _ value: Bool) {
        element(name, value ? "true" : "false")
    }

    /// Writes a timestamp in S3's ISO 8601 form, e.g. `2024-01-02T03:04:05.000Z`.
    public mutating func element(_ name: String, _ date: Date) {
        open(name)
        ISO8601Timestamp.append(date, to: &bytes)
        close(name)
    }

    /// Writes a timestamp element only when `date` is non-nil.
    public mutating func element(_ name: String, ifPresent date: Date?) {
        if let date { element(name, date) }
    }

    /// Writes `<name>`, then whatever `content` writes, then `</name>`.
    public mutating func element(_ name: String, namespace: String? = nil, content: (inout XMLWriter) -> Void) {
        open(name, namespace: namespace)
        content(&self)
        close(name)
    }

    private static let declarationBytes = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8)
    private static let xmlnsBytes = Array(#" xmlns=""#.utf8)
}
