import ArgumentParser
import Histogram
import NIOConcurrencyHelpers

/// What the workers do.
enum Operation: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// PUT of new keys.
    case put
    /// GET of objects preloaded before the timed part.
    case get
    /// GETs of preloaded objects and PUTs of new keys, in the ratio `--read-fraction`.
    case mixed
}

/// The figures of one phase (or of several merged): latencies per operation in microseconds.
struct Tally: Sendable {
    var latencies: [Operation: Histogram<UInt64>] = [:]
    var errors = 0
    var bytes = 0
    var seconds = 0.0
    var firstError: String?

    var requests: Int { latencies.values.reduce(0) { $0 + Int($1.totalCount) } }

    static func histogram() -> Histogram<UInt64> {
        // 1 µs to 1 hour at 3 significant digits.
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func record(_ operation: Operation, microseconds: UInt64) {
        _ = latencies[operation, default: Self.histogram()].record(max(1, microseconds))
    }

    /// Adds the counts of another phase run at the same time (the other workers).
    mutating func merge(_ other: Tally) {
        for (operation, histogram) in other.latencies { latencies[operation, default: Self.histogram()].add(histogram) }
        errors += other.errors
        bytes += other.bytes
        firstError = firstError ?? other.firstError
    }

    /// Adds a later phase (another round): its time adds up too.
    mutating func append(_ other: Tally) {
        merge(other)
        seconds += other.seconds
    }

    /// All operations in one histogram.
    var combined: Histogram<UInt64> {
        var all = Self.histogram()
        for histogram in latencies.values { all.add(histogram) }
        return all
    }
}

/// Runs one workload against one target: preload, then phases of concurrent workers.
struct Workload: Sendable {
    let client: S3Client
    let bucket: String
    let operation: Operation
    let body: RequestBody
    let concurrency: Int
    /// Keys GETs choose from (`obj-0` ... `obj-(n-1)` under the prefix).
    let objects: Int
    let readFraction: Double
    let keyPrefix: String

    var needsObjects: Bool { operation != .put }

    func objectKey(_ i: Int) -> String { "\(keyPrefix)obj-\(i)" }

    /// PUTs the objects that GETs read, `concurrency` at a time.
    func preload() async throws {
        let next = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(concurrency, objects) {
                group.addTask {
                    while true {
                        let i = next.withLockedValue { n in defer { n += 1 }; return n }
                        guard i < objects else { return }
                        _ = try await client.put(bucket: bucket, key: objectKey(i), body: body)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Runs `concurrency` workers until `duration` has passed or `count` requests were started.
    /// `phase` names the PUT keys, so that no two phases write the same key.
    func run(duration: Duration?, count: Int?, phase: String) async -> Tally {
        let started = NIOLockedValueBox(0)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = duration.map { start.advanced(by: $0) }
        // FNV-1a of the phase name: the same phase makes the same choices in every run.
        let seed = phase.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        var total = await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var tally = Tally()
                    var random = SplitMix64(seed: seed &+ UInt64(worker) &* 0x1000_0001)
                    var sequence = 0
                    while true {
                        if let deadline, clock.now >= deadline { break }
                        if let count {
                            let n = started.withLockedValue { n in defer { n += 1 }; return n }
                            if n >= count { break }
                        }
                        let op: Operation = switch operation {
                        case .mixed: Double(random.next() % 1_000_000) / 1_000_000 < readFraction ? .get : .put
                        default: operation
                        }
                        let begin = clock.now
                        do {
                            switch op {
                            case .get:
                                let i = Int(random.next() % UInt64(objects))
                                tally.bytes += try await client.get(bucket: bucket, key: objectKey(i), expectedSize: body.size)
                            default:
                                let key = "\(keyPrefix)\(client.target.name)/\(phase)-w\(worker)-\(sequence)"
                                sequence += 1
                                tally.bytes += try await client.put(bucket: bucket, key: key, body: body)
                            }
                            tally.record(op, microseconds: begin.duration(to: clock.now).microseconds)
                        } catch {
                            tally.errors += 1
                            if tally.firstError == nil { tally.firstError = "\(error)" }
                        }
                    }
                    return tally
                }
            }
            var total = Tally()
            for await tally in group { total.merge(tally) }
            return total
        }
        total.seconds = start.duration(to: clock.now).seconds
        return total
    }
}
