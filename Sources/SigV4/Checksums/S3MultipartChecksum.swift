import Crypto
import Foundation

/// Checksums of multipart objects: composite checksums (checksum of the parts'
/// checksums, `-N` suffix), full-object CRCs combined from the parts', and
/// multipart ETags.
public enum S3MultipartChecksum {
    /// The composite checksum of a multipart upload: `base64(H(c1 || c2 || ... || cN))-N`,
    /// where `ci` are the raw checksums of the parts in part-number order.
    public static func composite(_ algorithm: S3ChecksumAlgorithm, partChecksums: [[UInt8]]) -> String {
        var hasher = S3ChecksumHasher(algorithm)
        for checksum in partChecksums { hasher.update(checksum) }
        return "\(hasher.finalizeBase64())-\(partChecksums.count)"
    }

    /// ``composite(_:partChecksums:)`` from the parts' base64 checksums.
    ///
    /// - Throws: `InvalidRequest` if a part checksum is not a valid value for `algorithm`.
    public static func composite(_ algorithm: S3ChecksumAlgorithm, partChecksumsBase64: [String]) throws(SigV4Error)
        -> String
    {
        var parts: [[UInt8]] = []
        parts.reserveCapacity(partChecksumsBase64.count)
        for value in partChecksumsBase64 { parts.append(try algorithm.decode(base64: value)) }
        return composite(algorithm, partChecksums: parts)
    }

    /// The full-object CRC of a multipart upload, combined from each part's raw CRC
    /// and length (S3's `FULL_OBJECT` checksum type). `nil` for SHA algorithms, which
    /// cannot be combined, or if a part's checksum has the wrong length.
    public static func fullObject(
        _ algorithm: S3ChecksumAlgorithm, parts: [(checksum: [UInt8], length: Int64)]
    ) -> [UInt8]? {
        switch algorithm {
        case .crc32, .crc32c:
            var combined: UInt32?
            for part in parts {
                guard part.checksum.count == 4 else { return nil }
                let crc = part.checksum.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                combined =
                    combined.map {
                        algorithm == .crc32
                            ? CRC32.combine($0, crc, secondLength: part.length)
                            : CRC32C.combine($0, crc, secondLength: part.length)
                    } ?? crc
            }
            let value = combined ?? (algorithm == .crc32 ? CRC32().value : CRC32C().value)
            return withUnsafeBytes(of: value.bigEndian, Array.init)
        case .crc64nvme:
            var combined: UInt64?
            for part in parts {
                guard part.checksum.count == 8 else { return nil }
                let crc = part.checksum.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                combined = combined.map { CRC64NVME.combine($0, crc, secondLength: part.length) } ?? crc
            }
            return withUnsafeBytes(of: (combined ?? CRC64NVME().value).bigEndian, Array.init)
        case .sha1, .sha256:
            return nil
        }
    }

    /// The ETag of a multipart object (without quotes): `hex(MD5(md5_1 || ... || md5_N))-N`.
    public static func multipartETag(partMD5s: [[UInt8]]) -> String {
        var md5 = Insecure.MD5()
        for digest in partMD5s { md5.update(data: digest) }
        return "\(Hex.encode(contiguous: md5.finalize()))-\(partMD5s.count)"
    }
}
