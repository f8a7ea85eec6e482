import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import SigV4

/// `s3-load`: one workload against several S3 endpoints in one run, so that the gateway and
/// the backend it fronts are measured on the same machine at the same moment.
///
/// The targets take turns: each round runs every target once (warm-up, then the measured
/// part), in alternating order, so slow drifts of a shared machine (other processes, CPU
/// frequency, page cache) hit every target alike and cancel out of the ratio.
@main
struct S3Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-load",
        abstract: "Drives PUT, GET or mixed S3 workloads and compares endpoints.",
        discussion: """
            Example: the gateway against the backend it writes to, 4 KiB PUTs at concurrency 16:
              s3-load --target gateway=http://127.0.0.1:8080 --target direct=http://127.0.0.1:5001 \\
                --bucket bench --create-bucket --op put --size 4KiB --concurrency 16 --duration 10s --rounds 3

            Prints a table per target (ops/s, MiB/s, latency percentiles from an HdrHistogram) and, for \
            every target but the baseline (the last one unless --baseline says), the ratio of its \
            throughput to the baseline's and its added latency (its percentile minus the baseline's). \
            Exits with status 1 if any request failed.
            """
    )

    @Option(name: .customLong("target"), help: "An endpoint as NAME=URL (repeat for several).")
    var targets: [Target] = []

    @Option(name: .customLong("endpoint"), help: "An endpoint URL, named after its position (repeat for several).")
    var endpoints: [String] = []

    @Option(help: "The target the others are compared with (default: the last).")
    var baseline: String?

    @Option(help: "Access key (env AWS_ACCESS_KEY_ID).")
    var accessKey: String = ProcessInfo.processInfo.environment["AWS_ACCESS_KEY_ID"] ?? "local-identity"

    @Option(help: "Secret key (env AWS_SECRET_ACCESS_KEY).")
    var secretKey: String = ProcessInfo.processInfo.environment["AWS_SECRET_ACCESS_KEY"] ?? "local-credential"

    @Option(help: "Region to sign for.")
    var region: String = "us-east-1"

    @Option(help: "Bucket (the same name on every target).")
    var bucket: String = "s3-load"

    @Flag(help: "Create the bucket on every target first.")
    var createBucket = false

    @Option(help: "put, get or mixed.")
    var op: Operation = .put

    @Option(help: "Object size, e.g. 4KiB, 1MiB, 1GiB.")
    var size = ByteSize(bytes: 4096)

    @Option(help: "Requests in flight per target.")
    var concurrency = 16

    @Option(help: "Measured time per target and round, e.g. 10s.")
    var duration = Seconds(.seconds(10))

    @Option(help: "Requests per target and round instead of a duration.")
    var count: Int?

    @Option(help: "Unmeasured time before each measured part, e.g. 2s (0 for none).")
    var warmup = Seconds(.seconds(1))

    @Option(help: "Rounds: every target runs once per round, in alternating order.")
    var rounds = 1

    @Option(help: "Objects preloaded for GETs (get and mixed).")
    var objects = 64

    @Option(help: "Share of GETs in a mixed run.")
    var readFraction = 0.5

    @Option(help: "Key prefix; default s3-load/<time>/.")
    var keyPrefix: String?

    @Flag(help: "Send UNSIGNED-PAYLOAD instead of the body's SHA-256 (always so above 64 MiB).")
    var unsignedPayload = false

    @Option(help: "Deadline of one request, e.g. 120s.")
    var timeout = Seconds(.seconds(600))

    @Flag(help: "Print the result as JSON instead of the table.")
    var json = false

    func validate() throws {
        guard !targets.isEmpty || !endpoints.isEmpty else { throw ValidationError("give at least one --target NAME=URL or --endpoint URL") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard size.bytes >= 1 else { throw ValidationError("--size must be at least 1 byte") }
        guard count.map({ $0 >= 1 }) ?? true else { throw ValidationError("--count must be at least 1") }
        guard objects >= 1 else { throw ValidationError("--objects must be at least 1") }
        guard (0...1).contains(readFraction) else { throw ValidationError("--read-fraction must be between 0 and 1") }
        let names = allTargets().map(\.name)
        guard Set(names).count == names.count else { throw ValidationError("two targets have the same name") }
        if let baseline, !names.contains(baseline) { throw ValidationError("--baseline \(baseline) is not a target") }
    }

    func allTargets() -> [Target] {
        targets + endpoints.enumerated().compactMap { Target(name: "endpoint\($0.offset + 1)", url: $0.element) }
    }

    func run() async throws {
        let all = allTargets()
        guard all.count == targets.count + endpoints.count else { throw ValidationError("an --endpoint is not an http(s) URL") }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(Int64(timeout.duration.seconds)))
        configuration.httpVersion = .http1Only
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            try await measure(all, http: http)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func measure(_ all: [Target], http: HTTPClient) async throws {
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyID: accessKey, secretAccessKey: secretKey), region: region)
        let body = RequestBody(size: size.bytes, signPayload: !unsignedPayload)
        let prefix = keyPrefix ?? "s3-load/\(Int(Date().timeIntervalSince1970))/"
        let requestTimeout = TimeAmount.nanoseconds(Int64(timeout.duration.seconds * 1e9))
        let workloads = all.map { target in
            Workload(client: S3Client(target: target, signer: signer, http: http, timeout: requestTimeout),
                     bucket: bucket, operation: op, body: body, concurrency: concurrency,
                     objects: objects, readFraction: readFraction, keyPrefix: prefix)
        }
        for w in workloads {
            if createBucket { try await w.client.createBucket(bucket) }
            if w.needsObjects {
                log("preloading \(objects) object(s) of \(size) on \(w.client.target.name)")
                try await w.preload()
            }
        }
        var tallies = Array(repeating: [Tally](), count: workloads.count)
        for round in 1...rounds {
            let order = round % 2 == 1 ? Array(workloads.indices) : workloads.indices.reversed()
            for i in order {
                let w = workloads[i]
                if warmup.duration > .zero {
                    _ = await w.run(duration: warmup.duration, count: nil, phase: "warm\(round)")
                }
                let tally = await w.run(duration: count == nil ? duration.duration : nil, count: count, phase: "r\(round)")
                log("round \(round) \(w.client.target.name): \(tally.requests) ok, \(tally.errors) failed, "
                    + Report.number(Double(tally.requests) / max(tally.seconds, 1e-9), 1) + " ops/s")
                tallies[i].append(tally)
            }
        }
        let report = Report(command: self, results: Array(zip(all, tallies)))
        print(json ? report.json : report.text)
        if report.targets.contains(where: { $0.errors > 0 }) { throw ExitCode(1) }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data(("s3-load: " + message + "\n").utf8))
    }
}
