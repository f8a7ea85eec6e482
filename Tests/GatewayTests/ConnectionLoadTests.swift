import Synchronization
import Testing

@testable import Gateway

/// The line of requests for a provider host's connections (``ConnectionLoad``).
@Suite("Requests waiting for a busy provider's connections", .timeLimit(.minutes(1)))
struct ConnectionLoadTests {
    /// Polls until `condition` holds (a waiter has queued), for up to 30 s.
    func until(_ condition: () -> Bool) async throws {
        for _ in 0..<6_000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }

    @Test func aRequestTakesItsOwnClientThenTheLeastBusyOtherThenNone() {
        let load = ConnectionLoad(clients: 3, connectionsPerClient: 2)
        #expect(load.enter(1) == 1)
        #expect(load.enter(1) == 1)
        // Client 1 is full: the least busy of the others.
        #expect(load.enter(1) == 0)
        #expect(load.enter(1) == 2)
        #expect(load.enter(1) == 0)
        #expect(load.enter(1) == 2)
        #expect(load.enter(0) == nil)
        #expect((0..<3).map(load.inFlight) == [2, 2, 2])
        load.leave(2)
        #expect(load.enter(0) == 2)
    }

    @Test func withoutAKnownLimitNoRequestWaits() async throws {
        let load = ConnectionLoad(clients: 1, connectionsPerClient: nil, wait: .zero)
        for _ in 0..<100 { #expect(load.enter(0) == 0) }
        let (client, waited) = try await load.enterWaiting(0, busy: "busy")
        #expect(client == 0 && !waited)
        #expect(load.inFlight(0) == 101)
    }

    @Test func waitingRequestsAreHandedTheSlotsLeftInTheOrderTheyCame() async throws {
        let load = ConnectionLoad(clients: 2, connectionsPerClient: 1)
        #expect(load.enter(0) == 0)
        #expect(load.enter(0) == 1)
        let first = Task { try await load.enterWaiting(0, busy: "busy") }
        try await until { load.waiting == 1 }
        let second = Task { try await load.enterWaiting(0, busy: "busy") }
        try await until { load.waiting == 2 }
        // A request that comes now finds no free slot: it does not pass the two waiting.
        #expect(load.enter(1) == nil)
        load.leave(1)
        let handed = try await first.value
        #expect(handed.client == 1 && handed.waited)
        #expect(load.waiting == 1)
        #expect(load.inFlight(1) == 1)
        load.leave(0)
        #expect(try await second.value.client == 0)
        #expect(load.waiting == 0)
        load.leave(0)
        load.leave(1)
        #expect(load.inFlight(0) == 0 && load.inFlight(1) == 0)
    }

    /// A line that never empties (each slot left goes to the next waiter while more come).
    @Test func aLongLineIsServedInTheOrderItCame() async throws {
        let load = ConnectionLoad(clients: 1, connectionsPerClient: 1)
        #expect(load.enter(0) == 0)
        let served = Served()
        var waiters: [Task<Void, any Error>] = []
        for n in 0..<150 {
            waiters.append(Task {
                _ = try await load.enterWaiting(0, busy: "busy")
                served.order.withLock { $0.append(n) }
            })
            try await until { load.waiting == n + 1 - served.order.withLock { $0.count } }
            // Every third newcomer, the one in flight leaves: the line moves on while it grows.
            if n % 3 == 2 {
                load.leave(0)
                try await until { served.order.withLock { $0.count } == n / 3 + 1 }
            }
        }
        while load.waiting > 0 {
            let before = served.order.withLock { $0.count }
            load.leave(0)
            try await until { served.order.withLock { $0.count } == before + 1 }
        }
        for waiter in waiters { try await waiter.value }
        #expect(served.order.withLock { $0 } == Array(0..<150))
        #expect(load.inFlight(0) == 1)
    }

    final class Served: Sendable {
        let order = Mutex<[Int]>([])
    }

    @Test func aCancelledWaiterLeavesTheLine() async throws {
        let load = ConnectionLoad(clients: 1, connectionsPerClient: 1)
        #expect(load.enter(0) == 0)
        let cancelled = Task { try await load.enterWaiting(0, busy: "busy") }
        try await until { load.waiting == 1 }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(load.waiting == 0)
        // Its slot was never taken: leaving the one in flight frees the client.
        load.leave(0)
        #expect(load.inFlight(0) == 0)
        #expect(load.enter(0) == 0)
    }

    @Test func aTaskCancelledBeforeItWaitsDoesNotQueue() async throws {
        let load = ConnectionLoad(clients: 1, connectionsPerClient: 1)
        #expect(load.enter(0) == 0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await load.enterWaiting(0, busy: "busy")
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(load.waiting == 0)
        #expect(load.inFlight(0) == 1)
    }

    @Test func aRequestThatWaitedTooLongFailsAsBusyNotAsTheProvider() async throws {
        for wait in [Duration.zero, .milliseconds(200)] {
            let load = ConnectionLoad(clients: 1, connectionsPerClient: 1, wait: wait)
            #expect(load.enter(0) == 0)
            do {
                _ = try await load.enterWaiting(0, busy: "every connection to FI-HEL-ST-1 stayed busy")
                Issue.record("a request waited past \(wait) and was not failed")
            } catch let error as BackendError {
                #expect(error.cause == .connectionsBusy)
                #expect(error.code == .unavailable)
                #expect(error.message == "every connection to FI-HEL-ST-1 stayed busy")
                #expect(!BackendHealth.isBackendFailure(error))
            }
            #expect(load.waiting == 0)
            #expect(load.inFlight(0) == 1)
            // The slot still in flight goes to no one when it is left.
            load.leave(0)
            #expect(load.inFlight(0) == 0)
        }
    }
}
