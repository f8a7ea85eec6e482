import Crypto
import Foundation
import NIOCore

/// A streaming hasher for any S3 checksum algorithm, or MD5 for ETags.
///
/// ```swift
/// var crc = S3ChecksumHasher(.crc32c)
/// var md5 = S3ChecksumHasher.md5()
/// for piece in pieces { crc.update(piece); md5.update(piece) }
/// let header = crc.finalizeBase64()   // "sOO8/Q=="
/// let etag = md5.finalizeHex()
/// ```
public struct S3ChecksumHasher: @unchecked Sendable {
    // @unchecked: swift-crypto's hash functions are copy-on-write value types
    // without shared mutable state, but are not annotated Sendable.

    private enum Storage {
        case crc32(CRC32)
        case crc32c(CRC32C)
        case crc64nvme(CRC64NVME)
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
        case md5(Insecure.MD5)
        /// Held only while a hash is mutated, so the hash's storage stays uniquely referenced.
        case updating
    }

    private var storage: Storage

    /// The algorithm, or `nil` for MD5.
    public let algorithm: S3ChecksumAlgorithm?

    /// A hasher for `algorithm`.
    public init(_ algorithm: S3ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32: storage = .crc32(CRC32())
        case .crc32c: storage = .crc32c(CRC32C())
        case .crc64nvme: storage = .crc64nvme(CRC64NVME())
        case .sha1: storage = .sha1(Insecure.SHA1())
        case .sha256: storage = .sha256(SHA256())
        }
    }

    private init(md5: Void) {
        algorithm = nil
        storage = .md5(Insecure.MD5())
    }

    /// An MD5 hasher, for `Content-MD5` and ETags.
    public static func md5() -> S3ChecksumHasher { S3ChecksumHasher(md5: ()) }

    /// Feeds `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch storage {
        case .crc32(var crc):
            crc.update(bytes)
            storage = .crc32(crc)
        case .crc32c(var crc):
            crc.update(bytes)
            storage = .crc32c(crc)
        case .crc64nvme(var crc):
            crc.update(bytes)
            storage = .crc64nvme(crc)
        case .sha1(var hash):
            storage = .updating
            hash.update(bufferPointer: bytes)
            storage = .sha1(hash)
        case .sha256(var hash):
            storage = .updating
            hash.update(bufferPointer: bytes)
            storage = .sha256(hash)
        case .md5(var hash):
            storage = .updating
            hash.update(bufferPointer: bytes)
            storage = .md5(hash)
        case .updating:
            break
        }
    }

    /// Feeds the readable bytes of `buffer`.
    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    /// Feeds `bytes`.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        if bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The raw checksum of the bytes fed so far (big-endian for CRCs). The hasher
    /// can keep being fed afterwards.
    public func finalize() -> [UInt8] {
        switch storage {
        case .crc32(let crc): return crc.bytes
        case .crc32c(let crc): return crc.bytes
        case .crc64nvme(let crc): return crc.bytes
        case .sha1(let hash): return Array(hash.finalize())
        case .sha256(let hash): return Array(hash.finalize())
        case .md5(let hash): return Array(hash.finalize())
        case .updating: return []
        }
    }

    /// The checksum base64-encoded, as `x-amz-checksum-*` and `Content-MD5` carry it.
    public func finalizeBase64() -> String { Data(finalize()).base64EncodedString() }

    /// The checksum as lowercase hex (an MD5 ETag without quotes).
    public func finalizeHex() -> String { Hex.encode(finalize()) }
}
