/// The body of `CompleteMultipartUpload`: `<CompleteMultipartUpload><Part>…</Part>…`.
public struct CompleteMultipartUploadRequest: Sendable, Hashable {
    /// One part to assemble.
    public struct Part: Sendable, Hashable {
        /// The part number, 1...10000.
        public var partNumber: Int
        /// The entity tag as sent (trimmed; usually with double quotes).
        public var eTag: String
        /// Checksums the client sent for the part.
        public var checksums: S3Checksums

        /// Creates a part.
        public init(partNumber: Int, eTag: String, checksums: S3Checksums = S3Checksums()) {
            self.partNumber = partNumber
            self.eTag = eTag
            self.checksums = checksums
        }

        /// ``eTag`` without surrounding double quotes, for comparison with stored part ETags.
        public var unquotedETag: String {
            var value = Substring(eTag)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = value.dropFirst().dropLast()
            }
            return String(value)
        }
    }

    /// The parts, in strictly ascending part-number order.
    public var parts: [Part]

    /// Creates a request.
    public init(parts: [Part]) {
        self.parts = parts
    }

    /// Highest part number S3 allows.
    public static let maxPartNumber = 10_000
}

extension CompleteMultipartUploadRequest: S3XMLDecodable {
    public static var rootElementName: String { "CompleteMultipartUpload" }

    /// Room for 10 000 parts with every checksum: 8 MiB and 200 000 elements.
    public static var parserLimits: S3XMLParser.Limits {
        S3XMLParser.Limits(maxBytes: 8 << 20, maxDepth: 32, maxElements: 200_000)
    }

    /// S3 answers an empty CompleteMultipartUpload body like a document without parts.
    public static var emptyBodyError: S3Error { S3Error.malformedXML }

    /// Decodes the body.
    ///
    /// - An empty body, no parts, a part without `PartNumber` or `ETag`, or a non-numeric part number: `MalformedXML`.
    /// - A part number outside 1...10000: `InvalidArgument` (ArgumentName `partNumber`).
    /// - Part numbers not strictly ascending (duplicates included): `InvalidPartOrder`.
    public init(xml root: S3XMLElement) throws(S3Error) {
        try Self.checkRoot(root)
        var parts: [Part] = []
        for element in root.children where element.name == "Part" {
            guard let numberText = try element.trimmedLeafValue("PartNumber"),
                  let eTag = try element.trimmedLeafValue("ETag"),
                  let number = Int(numberText)
            else { throw S3Error.malformedXML }
            guard (1...Self.maxPartNumber).contains(number) else {
                throw S3Error.invalidArgument(
                    "Part number must be an integer between 1 and \(Self.maxPartNumber), inclusive",
                    name: "partNumber",
                    value: numberText
                )
            }
            if let previous = parts.last, previous.partNumber >= number {
                throw S3Error(.invalidPartOrder)
            }
            parts.append(Part(partNumber: number, eTag: eTag, checksums: try S3Checksums(xml: element)))
        }
        guard !parts.isEmpty else { throw S3Error.malformedXML }
        self.init(parts: parts)
    }
}
