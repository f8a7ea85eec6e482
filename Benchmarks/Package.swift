// swift-tools-version:6.1
import PackageDescription

// Benchmarks kept out of the main package so that its build stays lean (see ../BENCHMARKS.md):
// the policy engine's and SigV4's (run from this directory: `swift package --disable-sandbox benchmark`)
// and `s3-load`, the S3 load tool behind `scripts/bench-gateway.sh`.
let package = Package(
    name: "PolicyEngineBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "sovereign-s3-gateway", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The deterministic workload (catalog CSV, policy YAML, objects), shared by both executables.
        .target(
            name: "PolicyWorkload",
            dependencies: [.product(name: "PolicyEngine", package: "sovereign-s3-gateway")]
        ),
        // `policy-workload write DIR` writes the workload for `scripts/bench-validate.sh`;
        // `check` compiles it and prints any diagnostics; `classes` counts its object classes;
        // `plan-loop` is a profiling target (perf, callgrind).
        .executableTarget(
            name: "policy-workload",
            dependencies: ["PolicyWorkload", .product(name: "PolicyEngine", package: "sovereign-s3-gateway")]
        ),
        .executableTarget(
            name: "PolicyEngineBenchmarks",
            dependencies: [
                "PolicyWorkload",
                .product(name: "PolicyEngine", package: "sovereign-s3-gateway"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PolicyEngineBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "SigV4Benchmarks",
            dependencies: [
                .product(name: "SigV4", package: "sovereign-s3-gateway"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SigV4Benchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        // `metadata-load`: the metadata store's PUT transactions (intent + commit) in-process,
        // with no HTTP or backend in the way: per-transaction latency and commits per second.
        .executableTarget(
            name: "metadata-load",
            dependencies: [
                .product(name: "Metadata", package: "sovereign-s3-gateway"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `s3-load`: drives PUT/GET/mixed workloads against S3 endpoints (the gateway and a
        // backend in one run) and reports ops/s, MiB/s, latency percentiles and their ratio.
        .executableTarget(
            name: "s3-load",
            dependencies: [
                .product(name: "SigV4", package: "sovereign-s3-gateway"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `proxy-floor`: an HTTP proxy on Hummingbird and async-http-client that does nothing
        // but pass requests to one S3 server: what those libraries alone add to a request
        // (scripts/bench-gateway.sh floor).
        .executableTarget(
            name: "proxy-floor",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `wan-proxy`: a TCP proxy with a one-way delay and a bandwidth per direction, put in
        // front of the backends to make them behave like providers elsewhere (see
        // scripts/bench-gateway.sh, WAN_DELAY_MS).
        .executableTarget(
            name: "wan-proxy",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
