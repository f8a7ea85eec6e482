// swift-tools-version:6.1
import PackageDescription

// Benchmarks of the policy engine, kept out of the main package so that its build stays lean.
// Run from this directory: `swift package --disable-sandbox benchmark` (see ../BENCHMARKS.md).
let package = Package(
    name: "PolicyEngineBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "sovereign-s3-gateway", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
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
    ]
)
