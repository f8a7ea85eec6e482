import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// Until start-up has prepared the metadata store, S3 requests get 503 and the background
/// services wait (on a new PostgreSQL database their statements would find no tables).
@Suite("Start-up gate")
struct StartupTests {
    @Test func s3RequestsAre503UntilStartUpHasRun() async throws {
        let gw = try await TestGateway.make(prepared: false)
        defer { gw.cleanUp() }
        try await gw.withClient { client in
            let early = try await gw.send(client, .put, "/early")
            #expect(early.status == .serviceUnavailable)
            #expect(early.errorCode == "ServiceUnavailable")
            #expect(early.header("x-amz-request-id") != nil)

            try await gw.withManagementClient { admin in
                let health = try await PolicyReloadTests.call(admin, .get, "/health")
                #expect(health.status == .serviceUnavailable)
                #expect(health.object["status"] as? String == "starting")
            }

            try await GatewayApp.prepare(gw.state)
            #expect(try await gw.send(client, .put, "/early").status == .ok)
            try await gw.withManagementClient { admin in
                let health = try await PolicyReloadTests.call(admin, .get, "/health")
                #expect(health.object["status"] as? String == "healthy")
            }
        }
    }

    @Test func backgroundServicesWaitForStartUp() async throws {
        let gw = try await TestGateway.make(prepared: false)
        defer { gw.cleanUp() }
        let waiter = Task { () -> Bool in
            await gw.state.startup.wait()
            return gw.state.startup.isOpen
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(!gw.state.startup.isOpen)
        try await GatewayApp.prepare(gw.state)
        #expect(await waiter.value)
        // Once open, waiting returns at once.
        await gw.state.startup.wait()
    }

    @Test func aCancelledWaitReturnsWhileTheGateIsClosed() async throws {
        let gate = StartupGate()
        let waiter = Task { () -> Bool in
            await gate.wait()
            return Task.isCancelled
        }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(await waiter.value)
        #expect(!gate.isOpen)
        // Cancelled before it waits: returns at once too.
        let late = Task { () -> Bool in
            withUnsafeCurrentTask { $0?.cancel() }
            await gate.wait()
            return true
        }
        #expect(await late.value)
    }
}
