import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite("Unmodelled sub-resources")
struct SubresourceTests {
    @Test func bucketConfigurationsAnswerAsUnconfiguredAndACLsAreCanned() async throws {
        let gw = try await TestGateway.make()
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            try await client.execute(uri: "/cfg", method: .put, headers: gw.signed("PUT", "/cfg")) { _ in }
            for (name, code) in [("policy", "NoSuchBucketPolicy"), ("cors", "NoSuchCORSConfiguration"),
                                 ("lifecycle", "NoSuchLifecycleConfiguration"), ("tagging", "NoSuchTagSet")] {
                try await client.execute(uri: "/cfg?\(name)", method: .get, headers: gw.signed("GET", "/cfg?\(name)=")) { r in
                    #expect(r.status == .notFound, "\(name)")
                    #expect(r.errorCode == code)
                }
            }
            try await client.execute(uri: "/cfg?acl", method: .get, headers: gw.signed("GET", "/cfg?acl=")) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("<Permission>FULL_CONTROL</Permission>"))
            }
            try await client.execute(uri: "/cfg?acl", method: .put, headers: gw.signed("PUT", "/cfg?acl=")) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/cfg?logging", method: .get, headers: gw.signed("GET", "/cfg?logging=")) { r in
                #expect(r.status == .ok)
                #expect(r.body.text.contains("<BucketLoggingStatus"))
            }
        }
    }
}
