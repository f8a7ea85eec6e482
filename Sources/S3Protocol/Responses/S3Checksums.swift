/// The additional checksums S3 reports for objects and parts (base64 values as sent by clients).
public struct S3Checksums: Sendable, Hashable {
    /// `ChecksumCRC32`.
    public var crc32: String?
    /// `ChecksumCRC32C`.
    public var crc32c: String?
    /// `ChecksumCRC64NVME`.
    public var crc64nvme: String?
    /// `ChecksumSHA1`.
    public var sha1: String?
    /// `ChecksumSHA256`.
    public var sha256: String?
    /// `ChecksumType`: `COMPOSITE` or `FULL_OBJECT`.
    public var type: String?

    /// Creates a set of checksums; all are optional.
    public init(
        crc32: String? = nil,
        crc32c: String? = nil,
        crc64nvme: String? = nil,
        sha1: String? = nil,
        sha256: String? = nil,
        type: String? = nil
    ) {
        self.crc32 = crc32
        self.crc32c = crc32c
        self.crc64nvme = crc64nvme
        self.sha1 = sha1
        self.sha256 = sha256
        self.type = type
    }

    /// Whether no checksum value is present.
    public var isEmpty: Bool {
        crc32 == nil && crc32c == nil && crc64nvme == nil && sha1 == nil && sha256 == nil
    }

    /// Writes the present checksum elements (not `ChecksumType`) in S3's order.
    public func writeValues(to writer: inout XMLWriter) {
        writer.element("ChecksumCRC32", ifPresent: crc32)
        writer.element("ChecksumCRC32C", ifPresent: crc32c)
        writer.element("ChecksumCRC64NVME", ifPresent: crc64nvme)
        writer.element("ChecksumSHA1", ifPresent: sha1)
        writer.element("ChecksumSHA256", ifPresent: sha256)
    }

    /// Writes the present checksum elements followed by `ChecksumType`.
    public func write(to writer: inout XMLWriter) {
        writeValues(to: &writer)
        writer.element("ChecksumType", ifPresent: type)
    }

    /// Reads the checksum children of `element` (trimmed).
    init(xml element: S3XMLElement) throws(S3Error) {
        self.init(
            crc32: try element.trimmedLeafValue("ChecksumCRC32"),
            crc32c: try element.trimmedLeafValue("ChecksumCRC32C"),
            crc64nvme: try element.trimmedLeafValue("ChecksumCRC64NVME"),
            sha1: try element.trimmedLeafValue("ChecksumSHA1"),
            sha256: try element.trimmedLeafValue("ChecksumSHA256"),
            type: try element.trimmedLeafValue("ChecksumType")
        )
    }
}
