import Foundation

/// The additional checksum algorithms of S3 (`x-amz-checksum-*` headers).
public enum S3ChecksumAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// CRC-32 (IEEE), 4 bytes.
    case crc32 = "CRC32"
    /// CRC-32C (Castagnoli), 4 bytes.
    case crc32c = "CRC32C"
    /// CRC-64/NVME, 8 bytes.
    case crc64nvme = "CRC64NVME"
    /// SHA-1, 20 bytes.
    case sha1 = "SHA1"
    /// SHA-256, 32 bytes.
    case sha256 = "SHA256"

    /// Parses an algorithm name as sent in `x-amz-checksum-algorithm` or
    /// `x-amz-sdk-checksum-algorithm` (case-insensitive).
    public init?(algorithmName: some StringProtocol) {
        let upper = algorithmName.trimmingOWS().uppercased()
        guard let algorithm = Self(rawValue: upper) else { return nil }
        self = algorithm
    }

    /// Parses a checksum header name such as `x-amz-checksum-crc32c` (case-insensitive).
    public init?(headerName: some StringProtocol) {
        let lower = HeaderList.lowercase(headerName.trimmingOWS())
        guard lower.hasPrefix("x-amz-checksum-"), let algorithm = Self(algorithmName: lower.dropFirst(15)) else {
            return nil
        }
        self = algorithm
    }

    /// The header carrying this checksum, e.g. `x-amz-checksum-crc32`.
    public var headerName: String { "x-amz-checksum-\(rawValue.lowercased())" }

    /// The length of the raw checksum in bytes.
    public var digestByteCount: Int {
        switch self {
        case .crc32, .crc32c: return 4
        case .crc64nvme: return 8
        case .sha1: return 20
        case .sha256: return 32
        }
    }

    /// Whether the checksum of a multipart object may be a full-object checksum
    /// (only the CRCs can be combined from the parts').
    public var supportsFullObjectChecksum: Bool {
        switch self {
        case .crc32, .crc32c, .crc64nvme: return true
        case .sha1, .sha256: return false
        }
    }

    /// A new streaming hasher for this algorithm.
    public func makeHasher() -> S3ChecksumHasher { S3ChecksumHasher(self) }

    /// Decodes a base64 checksum value as sent in this algorithm's header or trailer.
    ///
    /// - Throws: `InvalidRequest` ("Value for x-amz-checksum-... header is invalid.")
    ///   if it is not base64 of the right length.
    public func decode(base64 value: String) throws(SigV4Error) -> [UInt8] {
        guard let data = Data(base64Encoded: value.trimmingOWS()), data.count == digestByteCount
        else {
            throw SigV4Error(.invalidRequest, "Value for \(headerName) header is invalid.")
        }
        return Array(data)
    }

    /// Compares a declared base64 checksum with the computed one.
    ///
    /// - Throws: `InvalidRequest` for a malformed value, `BadDigest` for a mismatch.
    public func verify(declaredBase64 declared: String, computed: [UInt8]) throws(SigV4Error) {
        guard try decode(base64: declared) == computed else {
            throw SigV4Error(
                .badDigest, "The \(rawValue) you specified did not match the calculated checksum.",
                details: [
                    .init("ClientComputed\(rawValue)", declared),
                    .init("ServerComputed\(rawValue)", Data(computed).base64EncodedString()),
                ])
        }
    }

    /// The checksum a request declares, in priority order: an `x-amz-checksum-*`
    /// header (with its value), then `x-amz-trailer` naming one (value to come in the
    /// trailer), then `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm`
    /// (algorithm only). `nil` when none is declared.
    public static func declared(
        in headers: [(name: String, value: String)]
    ) -> (algorithm: S3ChecksumAlgorithm, value: String?)? {
        for header in headers {
            if let algorithm = S3ChecksumAlgorithm(headerName: header.name) {
                return (algorithm, header.value.trimmingOWS())
            }
        }
        for trailer in HeaderList.all("x-amz-trailer", in: headers) {
            for name in trailer.split(separator: ",") {
                if let algorithm = S3ChecksumAlgorithm(headerName: name) { return (algorithm, nil) }
            }
        }
        for name in ["x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"] {
            if let value = HeaderList.first(name, in: headers),
                let algorithm = S3ChecksumAlgorithm(algorithmName: value)
            {
                return (algorithm, nil)
            }
        }
        return nil
    }
}
