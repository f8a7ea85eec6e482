import NIOCore

/// The S3 XML namespace.
public enum S3XMLNamespace {
    /// `http://s3.amazonaws.com/doc/2006-03-01/`
    public static let uri = "http://s3.amazonaws.com/doc/2006-03-01/"
}

/// A value that renders as an S3 XML response document.
public protocol S3XMLEncodable: Sendable {
    /// Writes the root element (without the XML declaration) to `writer`.
    func write(to writer: inout XMLWriter)
}

extension S3XMLEncodable {
    /// The full document, declaration included, in a writer.
    public func xmlDocument(capacity: Int = 1024) -> XMLWriter {
        var writer = XMLWriter(capacity: capacity)
        writer.declaration()
        write(to: &writer)
        return writer
    }

    /// The full document as a `String`.
    public func xmlString() -> String { xmlDocument().string }

    /// The full document as UTF-8 bytes.
    public func xmlBytes() -> [UInt8] { xmlDocument().bytes }

    /// The full document in a `ByteBuffer`.
    public func xmlByteBuffer(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        xmlDocument().byteBuffer(allocator: allocator)
    }
}
