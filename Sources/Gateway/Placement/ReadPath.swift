import Logging
import Metadata
import NIOCore
import S3Protocol

/// Reads a version from the first healthy complete replica in plan order, failing over to the
/// next before the response starts, and going on from another replica when a read breaks off
/// part-way (``ResumingRead``).
struct ReadPath {
    let state: GatewayState

    /// `replicas` are the version's replica rows when the caller already has them.
    func open(_ version: ObjectVersion, replicas known: [Replica]? = nil, range: ClosedRange<Int64>?,
              logger: Logger) async throws -> BackendReadStream {
        try await openReporting(version, replicas: known, range: range, logger: logger).stream
    }

    /// ``open(_:replicas:range:logger:)``, also naming the zone that serves the read.
    func openReporting(_ version: ObjectVersion, replicas known: [Replica]? = nil, range: ClosedRange<Int64>?,
                       logger: Logger) async throws -> (stream: BackendReadStream, zone: String) {
        var replicas = known ?? []
        if known == nil { replicas = try await state.store.replicas(storageId: version.storageId) }
        // Each replica is tried once before any is tried again, with ``ObjectBackend/readOnce(key:range:waitForConnection:)``
        // while another one is left to ask: a zone that went down costs a refused connection,
        // one that stopped answering a short wait, and one whose connections are all busy
        // nothing, not their retries, timeouts and line. The replicas that failed as
        // unavailable are then tried with the backend's retries, waiting for a connection.
        var again: [(replica: Replica, backend: any ObjectBackend)] = []
        // Whether a provider asked to slow down: the client is then told to (`503 SlowDown`).
        var throttled = false
        let order = Self.readOrder(replicas, planned: version.placement.plannedZones, isHealthy: state.isHealthy)
            .filter { state.backends[$0.zone] != nil }
        for (n, replica) in order.enumerated() {
            guard let backend = state.backends[replica.zone] else { continue }
            let alone = n == order.count - 1 && again.isEmpty
            do {
                let stream = alone ? try await backend.read(key: replica.backendKey, range: range)
                    : try await backend.readOnce(key: replica.backendKey, range: range, waitForConnection: false)
                state.health.recordSuccess(replica.zone)
                return (resuming(stream, from: replica, of: version, range: range, others: order, logger: logger), replica.zone)
            } catch {
                state.health.recordFailure(replica.zone, error)
                if (error as? BackendError)?.cause == .throttled { throttled = true }
                // A busy zone is not news: gateway_backend_connection_waits_total counts it.
                logger.log(level: (error as? BackendError)?.cause == .connectionsBusy ? .debug : .warning,
                           "replica read failed, trying the next", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
                if !alone, (error as? BackendError)?.code == .unavailable { again.append((replica, backend)) }
            }
        }
        for (replica, backend) in again {
            do {
                let stream = try await backend.read(key: replica.backendKey, range: range)
                state.health.recordSuccess(replica.zone)
                return (resuming(stream, from: replica, of: version, range: range, others: order, logger: logger), replica.zone)
            } catch {
                state.health.recordFailure(replica.zone, error)
                if (error as? BackendError)?.cause == .throttled { throttled = true }
                logger.warning("replica read failed again", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
            }
        }
        if throttled {
            throw S3Error(.slowDown, message: "No replica of this object is readable right now: a provider asked to slow down, retry later.")
        }
        throw S3Error(.serviceUnavailable, message: "No replica of this object is readable right now.")
    }

    /// `stream` (`range` of `version`, from `replica`) as a ``ResumingRead``, which goes on from
    /// the version's other complete replicas if it breaks off, and otherwise fails rather than
    /// end short of its length.
    func resuming(_ stream: BackendReadStream, from replica: Replica, of version: ObjectVersion, range: ClosedRange<Int64>?,
                  others: [Replica], logger: Logger) -> BackendReadStream {
        let others = others.filter { $0.zone != replica.zone }
        guard let bounds = range ?? (version.size > 0 ? 0...(version.size - 1) : nil) else { return stream }
        let read = ResumingRead(state: state, stream: stream, replica: replica, bounds: bounds, others: others, logger: logger)
        return BackendReadStream { try await read.next() }
    }

    /// Complete replicas in plan order, those whose zone's breaker is closed first; zones with
    /// an open breaker come last, as a last resort rather than a refusal.
    static func readOrder(_ replicas: [Replica], planned: [String], isHealthy: (String) -> Bool) -> [Replica] {
        let rank = { (zone: String) in planned.firstIndex(of: zone) ?? Int.max }
        let complete = replicas.filter { $0.status == .complete }
            .sorted { (rank($0.zone), $0.zone) < (rank($1.zone), $1.zone) }
        let healthy = complete.filter { isHealthy($0.zone) }
        return healthy + complete.filter { replica in !healthy.contains { $0.zone == replica.zone } }
    }
}

/// A read that goes on from the version's other replicas when the one it reads breaks off
/// part-way (the provider went away, reset the connection, or ended the body early): the next
/// replica, in read order, is asked for the rest (a ranged read from the first byte not yet
/// delivered), each once. The copies hold the same bytes (one version, each copy checked by size
/// and MD5 when it was made), so the client gets the whole body, only later. With no replica
/// left to ask, the read fails (a body that ended early too): the response breaks off and the
/// client sees its connection closed. Before, it got a body cut short under a response that had
/// promised all of it.
///
/// A read that failed because the client stopped reading for longer than the provider's
/// connection may stay silent (``BackendError/Cause/readerPaused``) is not the zone's failure: it
/// goes on from the same replica first, then from the others, and single-copy objects resume
/// too.
///
/// Pulled by one consumer at a time (an iterator's `next` is never called concurrently), which
/// is what makes the unsynchronised state safe.
final class ResumingRead: @unchecked Sendable {
    private let state: GatewayState
    private let logger: Logger
    /// The bytes of the version read, inclusive.
    private let bounds: ClosedRange<Int64>
    private var current: BackendReadStream.AsyncIterator
    /// The replica `current` reads.
    private var replica: Replica
    private var zone: String { replica.zone }
    /// The replicas not asked yet, in read order.
    private var others: [Replica]
    private var delivered: Int64 = 0

    init(state: GatewayState, stream: BackendReadStream, replica: Replica, bounds: ClosedRange<Int64>, others: [Replica],
         logger: Logger) {
        self.state = state
        self.current = stream.makeAsyncIterator()
        self.replica = replica
        self.bounds = bounds
        self.others = others
        self.logger = logger
    }

    private var length: Int64 { bounds.upperBound - bounds.lowerBound + 1 }

    func next() async throws -> ByteBuffer? {
        while true {
            let failure: any Error
            do {
                if let chunk = try await current.next() {
                    delivered += Int64(chunk.readableBytes)
                    return chunk
                }
                if delivered >= length { return nil }
                failure = BackendError(code: .io, message: "\(zone): the body ended after \(delivered) of \(length) bytes")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // All of it delivered: the end is all that was missing.
                if delivered >= length { return nil }
                failure = error
            }
            try await goOn(after: failure)
        }
    }

    /// Makes the next replica that answers the current one, reading from the first byte not yet
    /// delivered; throws `failure` when none does. After a pause of the reader, the current
    /// replica is asked again first.
    private func goOn(after failure: any Error) async throws {
        let from = bounds.lowerBound + delivered
        // Counts only the provider's failures, not a pause of the client (``BackendError/Cause``).
        state.health.recordFailure(zone, failure)
        if (failure as? BackendError)?.cause == .readerPaused {
            logger.info("replica read timed out while the client was not reading; going on from the same replica",
                        metadata: ["zone": "\(zone)", "offset": "\(from)"])
            others.insert(replica, at: 0)
        } else {
            logger.warning(others.isEmpty ? "replica read broke off, and no other replica is left to go on from"
                                          : "replica read broke off; going on from the next replica",
                           metadata: ["zone": "\(zone)", "error": "\(failure)", "offset": "\(from)"])
        }
        // A replica whose zone has every connection busy is passed over while another is left
        // to ask, and asked again, waiting for a connection, once none of those served.
        var busy: [Replica] = []
        while !others.isEmpty || !busy.isEmpty {
            let replica = others.isEmpty ? busy.removeFirst() : others.removeFirst()
            let waiting = others.isEmpty
            guard let backend = state.backends[replica.zone] else { continue }
            do {
                let stream = try await backend.readOnce(key: replica.backendKey, range: from...bounds.upperBound,
                                                        waitForConnection: waiting)
                state.health.recordSuccess(replica.zone)
                (current, self.replica) = (stream.makeAsyncIterator(), replica)
                state.metrics.recordReadResumed(zone: replica.zone)
                return
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as BackendError where error.cause == .connectionsBusy && !waiting {
                busy.append(replica)
            } catch {
                state.health.recordFailure(replica.zone, error)
                logger.warning("replica read failed, trying the next", metadata: ["zone": "\(replica.zone)", "error": "\(error)"])
            }
        }
        throw failure
    }
}
