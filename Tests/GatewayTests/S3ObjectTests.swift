import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PolicyEngine
import SigV4
import Testing

@testable import Gateway

@Suite("S3 API, router level")
struct S3ObjectTests {
    @Test func putGetHeadRoundTripWithVersioning() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let body = Array("hello sovereignty".utf8)
        try await gw.withClient { client in
            try await client.execute(uri: "/hr-data", method: .put, headers: gw.signed("PUT", "/hr-data")) { r in
                #expect(r.status == .ok)
            }
            var putHeaders = gw.signed("PUT", "/hr-data/personal/a.txt", body: body, headers: [("content-type", "text/plain"), ("x-amz-meta-owner", "dpo")])
            putHeaders[.contentType] = "text/plain"
            putHeaders[HTTPField.Name("x-amz-meta-owner")!] = "dpo"
            var versionId: String?
            try await client.execute(uri: "/hr-data/personal/a.txt", method: .put, headers: putHeaders, body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
                #expect(r.header("etag") == "\"3d8b3d0df70b1d4d2d9c6ecf9b7a3b83\"" || r.header("etag")?.count == 34)
                versionId = r.header("x-amz-version-id")
                #expect(versionId != nil)
            }
            try await client.execute(uri: "/hr-data/personal/a.txt", method: .get, headers: gw.signed("GET", "/hr-data/personal/a.txt")) { r in
                #expect(r.status == .ok)
                #expect(Array(r.body.readableBytesView) == body)
                #expect(r.header("content-type") == "text/plain")
                #expect(r.header("x-amz-meta-owner") == "dpo")
                #expect(r.header("x-amz-version-id") == versionId)
            }
            try await client.execute(uri: "/hr-data/personal/a.txt", method: .head, headers: gw.signed("HEAD", "/hr-data/personal/a.txt")) { r in
                #expect(r.status == .ok)
                #expect(r.header("content-length") == String(body.count))
                #expect(r.body.readableBytes == 0)
            }
            try await client.execute(uri: "/hr-data/personal/a.txt", method: .get,
                                     headers: gw.signed("GET", "/hr-data/personal/a.txt", headers: [("range", "bytes=6-16")]).adding(.range, "bytes=6-16")) { r in
                #expect(r.status == .partialContent)
                #expect(r.body.text == "sovereignty")
                #expect(r.header("content-range") == "bytes 6-16/\(body.count)")
            }
        }
    }

    @Test func personalDataLandsOnlyOnThePlannedZones() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        let body = Array(repeating: UInt8(ascii: "x"), count: 100_000)
        try await gw.withClient { client in
            try await client.execute(uri: "/hr-data", method: .put, headers: gw.signed("PUT", "/hr-data")) { _ in }
            var headers = gw.signed("PUT", "/hr-data/personal/big.bin", body: body, headers: [("x-amz-tagging", "classification=personal")])
            headers[HTTPField.Name("x-amz-tagging")!] = "classification=personal"
            try await client.execute(uri: "/hr-data/personal/big.bin", method: .put, headers: headers, body: ByteBuffer(bytes: body)) { r in
                #expect(r.status == .ok)
            }
        }
        // The example policies place personal data on UpCloud first, then Spacetime (two providers).
        let planned = gw.state.policies.plan(for: .init(bucket: "hr-data", key: "personal/big.bin", tags: ["classification": "personal"]))
        #expect(planned.zones.map(\.code) == ["FI-HEL-UC-1", "FI-HEL-ST-1"])
        #expect(gw.files(in: "FI-HEL-UC-1").count == 1)
        #expect(gw.files(in: "FI-HEL-ST-1").count == 1)
        #expect(gw.files(in: "FI-HEL-HZ-1").isEmpty)
        let stored = try Data(contentsOf: URL(fileURLWithPath: gw.directory + "/zones/FI-HEL-UC-1/2025-datatransfer/" + gw.files(in: "FI-HEL-UC-1")[0]))
        #expect(Array(stored) == body)
    }

    @Test func unsignedAndBadlySignedRequestsAreRefused() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "AccessDenied")
                #expect(r.header("x-amz-request-id") != nil)
            }
            let wrong = SigV4Credentials(accessKeyID: "test-key", secretAccessKey: "not-the-secret")
            try await client.execute(uri: "/", method: .get, headers: gw.signed("GET", "/", credentials: wrong)) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "SignatureDoesNotMatch")
            }
            let unknown = SigV4Credentials(accessKeyID: "nobody", secretAccessKey: "x")
            try await client.execute(uri: "/", method: .get, headers: gw.signed("GET", "/", credentials: unknown)) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "InvalidAccessKeyId")
            }
            let old = Date().addingTimeInterval(-3600)
            try await client.execute(uri: "/", method: .get, headers: gw.signed("GET", "/", date: old)) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "RequestTimeTooSkewed")
            }
        }
    }

    @Test func missingBucketsKeysAndVersionsGetS3Errors() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/nope/key", method: .get, headers: gw.signed("GET", "/nope/key")) { r in
                #expect(r.status == .notFound)
                #expect(r.errorCode == "NoSuchBucket")
            }
            try await client.execute(uri: "/logs", method: .put, headers: gw.signed("PUT", "/logs")) { _ in }
            try await client.execute(uri: "/logs/missing", method: .get, headers: gw.signed("GET", "/logs/missing")) { r in
                #expect(r.status == .notFound)
                #expect(r.errorCode == "NoSuchKey")
            }
            try await client.execute(uri: "/logs/missing?versionId=abc", method: .get, headers: gw.signed("GET", "/logs/missing?versionId=abc")) { r in
                #expect(r.status == .notFound)
                #expect(r.errorCode == "NoSuchVersion")
            }
            try await client.execute(uri: "/logs", method: .put, headers: gw.signed("PUT", "/logs")) { r in
                #expect(r.status == .conflict)
                #expect(r.errorCode == "BucketAlreadyOwnedByYou")
            }
            try await client.execute(uri: "/Bad_Bucket", method: .put, headers: gw.signed("PUT", "/Bad_Bucket")) { r in
                #expect(r.status == .badRequest)
                #expect(r.errorCode == "InvalidBucketName")
            }
        }
    }

    @Test func deleteCreatesMarkerAndVersionsStayListed() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/docs", method: .put, headers: gw.signed("PUT", "/docs")) { _ in }
            for text in ["one", "two"] {
                try await client.execute(uri: "/docs/a.txt", method: .put, headers: gw.signed("PUT", "/docs/a.txt", body: Array(text.utf8)),
                                         body: ByteBuffer(string: text)) { r in #expect(r.status == .ok) }
            }
            try await client.execute(uri: "/docs/a.txt", method: .delete, headers: gw.signed("DELETE", "/docs/a.txt")) { r in
                #expect(r.status == .noContent)
                #expect(r.header("x-amz-delete-marker") == "true")
            }
            try await client.execute(uri: "/docs/a.txt", method: .get, headers: gw.signed("GET", "/docs/a.txt")) { r in
                #expect(r.status == .notFound)
                #expect(r.header("x-amz-delete-marker") == "true")
            }
            try await client.execute(uri: "/docs?versions", method: .get, headers: gw.signed("GET", "/docs?versions=")) { r in
                #expect(r.status == .ok)
                let xml = r.body.text
                #expect(xml.components(separatedBy: "<Version>").count - 1 == 2)
                #expect(xml.components(separatedBy: "<DeleteMarker>").count - 1 == 1)
            }
            try await client.execute(uri: "/docs?list-type=2", method: .get, headers: gw.signed("GET", "/docs?list-type=2")) { r in
                #expect(r.status == .ok)
                #expect(!r.body.text.contains("<Key>a.txt</Key>"))
            }
            try await client.execute(uri: "/docs", method: .delete, headers: gw.signed("DELETE", "/docs")) { r in
                #expect(r.status == .conflict)
                #expect(r.errorCode == "BucketNotEmpty")
            }
        }
    }

    @Test func listingWithPrefixAndDelimiter() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/media", method: .put, headers: gw.signed("PUT", "/media")) { _ in }
            for key in ["a/1.txt", "a/2.txt", "b/1.txt", "c.txt"] {
                try await client.execute(uri: "/media/" + key, method: .put, headers: gw.signed("PUT", "/media/" + key, body: Array("x".utf8)),
                                         body: ByteBuffer(string: "x")) { r in #expect(r.status == .ok) }
            }
            try await client.execute(uri: "/media?delimiter=%2F&list-type=2", method: .get,
                                     headers: gw.signed("GET", "/media?delimiter=%2F&list-type=2")) { r in
                let xml = r.body.text
                #expect(xml.contains("<Prefix>a/</Prefix>"))
                #expect(xml.contains("<Prefix>b/</Prefix>"))
                #expect(xml.contains("<Key>c.txt</Key>"))
                #expect(xml.contains("<KeyCount>3</KeyCount>"))
            }
            try await client.execute(uri: "/media?list-type=2&max-keys=2", method: .get,
                                     headers: gw.signed("GET", "/media?list-type=2&max-keys=2")) { r in
                let xml = r.body.text
                #expect(xml.contains("<IsTruncated>true</IsTruncated>"))
                #expect(xml.contains("<NextContinuationToken>"))
            }
            try await client.execute(uri: "/media?prefix=a%2F", method: .get, headers: gw.signed("GET", "/media?prefix=a%2F")) { r in
                let xml = r.body.text
                #expect(xml.contains("<Key>a/1.txt</Key>") && xml.contains("<Key>a/2.txt</Key>") && !xml.contains("<Key>c.txt</Key>"))
            }
        }
    }

    @Test func policyRefusalIsAccessDeniedNamingThePolicy() async throws {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        apiVersion: sovereignty/v1
        kind: ResidencyPolicy
        metadata: { name: hr-only-finland }
        spec:
          match: { buckets: ["hr-*"] }
          allow: { countries: [FI] }
        ---
        apiVersion: sovereignty/v1
        kind: ReplicationPolicy
        metadata: { name: two-copies }
        spec:
          match: {}
          copies: 2
        """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/other", method: .put, headers: gw.signed("PUT", "/other")) { _ in }
            try await client.execute(uri: "/other/x", method: .put, headers: gw.signed("PUT", "/other/x", body: Array("x".utf8)),
                                     body: ByteBuffer(string: "x")) { r in
                #expect(r.status == .forbidden)
                #expect(r.errorCode == "AccessDenied")
                #expect(r.body.text.contains("no residency policy matches"))
            }
        }
        for zone in TestGateway.zones { #expect(gw.files(in: zone).isEmpty) }
    }

    @Test func writeBelowQuorumIsServiceUnavailableAndLeavesNothing() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/hr-data", method: .put, headers: gw.signed("PUT", "/hr-data")) { _ in }
            // Personal data needs two providers with a write quorum of 2: take two zones down.
            gw.state.setHealth("FI-HEL-UC-1", false)
            gw.state.setHealth("FI-HEL-ST-1", false)
            try await client.execute(uri: "/hr-data/personal/q.txt", method: .put,
                                     headers: gw.signed("PUT", "/hr-data/personal/q.txt", body: Array("x".utf8)),
                                     body: ByteBuffer(string: "x")) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.errorCode == "ServiceUnavailable")
            }
            try await client.execute(uri: "/hr-data/personal/q.txt", method: .head, headers: gw.signed("HEAD", "/hr-data/personal/q.txt")) { r in
                #expect(r.status == .notFound)
            }
        }
        for zone in TestGateway.zones { #expect(gw.files(in: zone).isEmpty) }
    }

    @Test func contentMD5MismatchIsBadDigestAndNothingIsStored() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/logs", method: .put, headers: gw.signed("PUT", "/logs")) { _ in }
            var headers = gw.signed("PUT", "/logs/a", body: Array("abc".utf8), headers: [("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")])
            headers[HTTPField.Name("content-md5")!] = "AAAAAAAAAAAAAAAAAAAAAA=="
            try await client.execute(uri: "/logs/a", method: .put, headers: headers, body: ByteBuffer(string: "abc")) { r in
                #expect(r.status == .badRequest)
                #expect(r.errorCode == "BadDigest")
            }
        }
        for zone in TestGateway.zones { #expect(gw.files(in: zone).isEmpty) }
    }

    @Test func deleteObjectsTaggingAndCopy() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/jobs", method: .put, headers: gw.signed("PUT", "/jobs")) { _ in }
            for key in ["k1", "k2"] {
                try await client.execute(uri: "/jobs/" + key, method: .put, headers: gw.signed("PUT", "/jobs/" + key, body: Array(key.utf8)),
                                         body: ByteBuffer(string: key)) { r in #expect(r.status == .ok) }
            }
            let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>"
            try await client.execute(uri: "/jobs/k1?tagging", method: .put, headers: gw.signed("PUT", "/jobs/k1?tagging=", body: Array(tagging.utf8)),
                                     body: ByteBuffer(string: tagging)) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/jobs/k1?tagging", method: .get, headers: gw.signed("GET", "/jobs/k1?tagging=")) { r in
                #expect(r.body.text.contains("<Key>team</Key>") && r.body.text.contains("<Value>blue</Value>"))
            }
            var copyHeaders = gw.signed("PUT", "/jobs/k3", headers: [("x-amz-copy-source", "/jobs/k1")])
            copyHeaders[HTTPField.Name("x-amz-copy-source")!] = "/jobs/k1"
            try await client.execute(uri: "/jobs/k3", method: .put, headers: copyHeaders) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("<CopyObjectResult"))
            }
            try await client.execute(uri: "/jobs/k3", method: .get, headers: gw.signed("GET", "/jobs/k3")) { r in
                #expect(r.body.text == "k1")
            }
            let delete = "<Delete><Object><Key>k1</Key></Object><Object><Key>k2</Key></Object></Delete>"
            try await client.execute(uri: "/jobs?delete", method: .post, headers: gw.signedWithContentMD5("POST", "/jobs?delete=", body: Array(delete.utf8)),
                                     body: ByteBuffer(string: delete)) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.components(separatedBy: "<Deleted>").count - 1 == 2)
            }
            try await client.execute(uri: "/jobs?list-type=2", method: .get, headers: gw.signed("GET", "/jobs?list-type=2")) { r in
                #expect(r.body.text.contains("<Key>k3</Key>") && !r.body.text.contains("<Key>k1</Key>"))
            }
        }
    }

    @Test func managementEndpoints() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withManagementClient { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("\"database\": \"ok\""))
            }
            try await client.execute(uri: "/api/plan?bucket=hr-data&key=personal/a.txt", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("\"allowed\": true"))
                #expect(r.body.text.contains("FI-HEL-UC-1"))
            }
            try await client.execute(uri: "/backends", method: .get) { r in
                #expect(r.body.text.contains("FI-HEL-ST-1"))
            }
            try await client.execute(uri: "/providers", method: .get) { r in
                #expect(r.body.text.contains("s3c.tns.cx"))
            }
        }
    }
}

extension HTTPFields {
    func adding(_ name: HTTPField.Name, _ value: String) -> HTTPFields {
        var copy = self
        copy[name] = value
        return copy
    }
}
