import Foundation
import Histogram

/// The printed and JSON forms of a run: one table per target, then one ratio line per target
/// against the baseline.
struct Report: Codable {
    struct Latency: Codable {
        var p50: Double
        var p90: Double
        var p99: Double
        var p999: Double
        var max: Double
        var mean: Double

        /// Milliseconds from a histogram of microseconds.
        init(_ h: Histogram<UInt64>) {
            func ms(_ us: UInt64) -> Double { Double(us) / 1000 }
            p50 = ms(h.valueAtPercentile(50))
            p90 = ms(h.valueAtPercentile(90))
            p99 = ms(h.valueAtPercentile(99))
            p999 = ms(h.valueAtPercentile(99.9))
            max = ms(h.max)
            mean = h.mean / 1000
        }
    }

    struct Row: Codable {
        var operation: String
        var requests: Int
        var opsPerSecond: Double
        var latencyMs: Latency
    }

    struct TargetResult: Codable {
        var name: String
        var url: String
        var requests: Int
        var errors: Int
        var firstError: String?
        var seconds: Double
        var opsPerSecond: Double
        var mibPerSecond: Double
        var latencyMs: Latency
        /// One row per operation (two in a mixed run).
        var operations: [Row]
        /// Ops/s of each round, in order.
        var roundOpsPerSecond: [Double]
    }

    struct Ratio: Codable {
        var target: String
        var baseline: String
        /// target ops/s ÷ baseline ops/s over the whole run.
        var opsPerSecond: Double
        var mibPerSecond: Double
        /// The same ratio per round (the targets alternate, so each round's pair shares the machine's state).
        var roundRatios: [Double]
        /// target latency − baseline latency at each percentile, in ms.
        var addedLatencyMs: [String: Double]
    }

    var operation: String
    var objectSize: Int
    var concurrency: Int
    var rounds: Int
    var durationSeconds: Double?
    var countPerRound: Int?
    var warmupSeconds: Double
    var payload: String
    var targets: [TargetResult]
    var ratios: [Ratio]

    init(command: S3Load, results: [(Target, [Tally])]) {
        operation = command.op.rawValue
        objectSize = command.size.bytes
        concurrency = command.concurrency
        rounds = command.rounds
        durationSeconds = command.count == nil ? command.duration.duration.seconds : nil
        countPerRound = command.count
        warmupSeconds = command.warmup.duration.seconds
        payload = command.unsignedPayload || command.size.bytes > RequestBody.bufferedLimit ? "UNSIGNED-PAYLOAD" : "sha256"
        targets = results.map { target, rounds in
            var total = Tally()
            for round in rounds { total.append(round) }
            let seconds = max(total.seconds, 1e-9)
            return TargetResult(
                name: target.name, url: target.origin, requests: total.requests, errors: total.errors,
                firstError: total.firstError, seconds: total.seconds,
                opsPerSecond: Double(total.requests) / seconds,
                mibPerSecond: Double(total.bytes) / seconds / 1_048_576,
                latencyMs: Latency(total.combined),
                operations: Operation.allCases.compactMap { op in
                    total.latencies[op].map { Row(operation: op.rawValue, requests: Int($0.totalCount),
                                                  opsPerSecond: Double($0.totalCount) / seconds, latencyMs: Latency($0)) }
                },
                roundOpsPerSecond: rounds.map { Double($0.requests) / max($0.seconds, 1e-9) })
        }
        let baselineName = command.baseline ?? results.last?.0.name
        ratios = []
        guard let baseline = targets.first(where: { $0.name == baselineName }) else { return }
        for t in targets where t.name != baseline.name {
            ratios.append(Ratio(
                target: t.name, baseline: baseline.name,
                opsPerSecond: t.opsPerSecond / max(baseline.opsPerSecond, 1e-9),
                mibPerSecond: t.mibPerSecond / max(baseline.mibPerSecond, 1e-9),
                roundRatios: zip(t.roundOpsPerSecond, baseline.roundOpsPerSecond).map { $0 / max($1, 1e-9) },
                addedLatencyMs: [
                    "p50": t.latencyMs.p50 - baseline.latencyMs.p50, "p90": t.latencyMs.p90 - baseline.latencyMs.p90,
                    "p99": t.latencyMs.p99 - baseline.latencyMs.p99, "p999": t.latencyMs.p999 - baseline.latencyMs.p999,
                    "mean": t.latencyMs.mean - baseline.latencyMs.mean,
                ]))
        }
    }

    var text: String {
        var lines: [String] = []
        let length = countPerRound.map { "\($0) requests" } ?? "\(Self.number(durationSeconds ?? 0, 1)) s"
        lines.append("s3-load: \(operation) of \(ByteSize(bytes: objectSize)), concurrency \(concurrency), "
                     + "\(rounds) round(s) × \(length) per target, warm-up \(Self.number(warmupSeconds, 1)) s, payload \(payload)")
        let header = ["target", "op", "requests", "errors", "ops/s", "MiB/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"]
        var table: [[String]] = [header]
        for t in targets {
            table.append([t.name, operation, "\(t.requests)", "\(t.errors)", Self.number(t.opsPerSecond, 1),
                          Self.number(t.mibPerSecond, 2)] + Self.latencyColumns(t.latencyMs))
            if t.operations.count > 1 {
                for row in t.operations {
                    table.append(["", row.operation, "\(row.requests)", "", Self.number(row.opsPerSecond, 1), ""]
                                 + Self.latencyColumns(row.latencyMs))
                }
            }
        }
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        for row in table {
            lines.append(row.enumerated().map { i, cell in
                i < 2 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  "))
        }
        for r in ratios {
            let rounds = r.roundRatios.count > 1
                ? " (rounds \(r.roundRatios.map { Self.number($0, 2) }.joined(separator: ", ")))" : ""
            let added = ["p50", "p90", "p99", "p999"].map { "\($0 == "p999" ? "p99.9" : $0) \(Self.signed(r.addedLatencyMs[$0] ?? 0)) ms" }
            lines.append("ratio \(r.target)/\(r.baseline): ops/s \(Self.number(r.opsPerSecond, 3))×\(rounds), "
                         + "MiB/s \(Self.number(r.mibPerSecond, 3))×; added latency " + added.joined(separator: ", "))
        }
        for t in targets where t.errors > 0 {
            lines.append("\(t.name): \(t.errors) request(s) failed; first: \(t.firstError ?? "?")")
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func latencyColumns(_ l: Latency) -> [String] {
        [l.p50, l.p90, l.p99, l.p999, l.max].map { number($0, 3) }
    }

    static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func signed(_ value: Double) -> String {
        (value >= 0 ? "+" : "") + String(format: "%.3f", value)
    }
}
