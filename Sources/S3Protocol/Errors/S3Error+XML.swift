import NIOCore

extension S3Error {
    /// Renders the XML error document.
    ///
    /// ```xml
    /// <?xml version="1.0" encoding="UTF-8"?>
    /// <Error><Code>NoSuchKey</Code><Message>…</Message><Key>…</Key><RequestId>…</RequestId><HostId>…</HostId></Error>
    /// ```
    ///
    /// `requestId` falls back to ``requestId``; `RequestId` and `HostId` are omitted when nil.
    /// The error document has no namespace, as in S3.
    public func xmlBody(requestId: String? = nil, hostId: String? = nil) -> String {
        var writer = XMLWriter(capacity: 256)
        write(to: &writer, requestId: requestId, hostId: hostId)
        return writer.string
    }

    /// Renders the XML error document into a `ByteBuffer`.
    public func xmlByteBuffer(
        requestId: String? = nil,
        hostId: String? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var writer = XMLWriter(capacity: 256)
        write(to: &writer, requestId: requestId, hostId: hostId)
        return writer.byteBuffer(allocator: allocator)
    }

    /// Writes the declaration and the `<Error>` element to `writer`.
    public func write(to writer: inout XMLWriter, requestId: String? = nil, hostId: String? = nil) {
        writer.declaration()
        writer.open("Error")
        writer.element("Code", code.rawValue)
        writer.element("Message", message)
        for detail in details {
            writer.element(detail.name, detail.value)
        }
        writer.element("Resource", ifPresent: resource)
        writer.element("RequestId", ifPresent: requestId ?? self.requestId)
        writer.element("HostId", ifPresent: hostId)
        writer.close("Error")
    }
}
