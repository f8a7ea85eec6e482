import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// The temporary files of local-disk writes: one folder per zone bucket.
@Suite("Local-disk temporary files")
struct LocalDiskCleanupTests {
    /// The temporary file used to sit next to the object with a suffix, which a key's last
    /// segment of some 240 bytes or more pushed over the 255-byte file-name limit: the write failed.
    @Test func keysWhoseLastSegmentFillsAFileNameAreStored() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await gw.createBucket(client, "docs")
            for length in [240, 255] {
                let path = "/docs/dir/" + String(repeating: "n", count: length)
                let body = Array("segment of \(length)".utf8)
                let put = try await gw.put(client, path, body)
                #expect(put.status == .ok, "\(length): \(put.body.text)")
                let r = try await gw.get(client, path)
                #expect(r.status == .ok && Array(r.body.readableBytesView) == body, "\(length)")
            }
        }
    }
}
