// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the parsers that read untrusted input, kept out of the main package so
// that its build is unaffected. Build and run them with `make fuzz` (scripts/fuzz.sh); see
// ../FUZZING.md. Each executable exports `LLVMFuzzerTestOneInput` and has no `main`: it must be
// built with `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library`.
let package = Package(
    name: "GatewayFuzzers",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "sovereign-s3-gateway", path: ".."),
    ],
    targets: [
        // The YAML loader, the policy parser and the compiler (against the project's catalog).
        .executableTarget(
            name: "fuzz-policy",
            dependencies: [.product(name: "PolicyEngine", package: "sovereign-s3-gateway")]
        ),
        // The aws-chunked decoder (three streaming modes) and SigV4 header / presigned-query parsing.
        .executableTarget(
            name: "fuzz-sigv4",
            dependencies: [.product(name: "SigV4", package: "sovereign-s3-gateway")]
        ),
        // The XML parser and every request-body decoder built on it.
        .executableTarget(
            name: "fuzz-s3xml",
            dependencies: [.product(name: "S3Protocol", package: "sovereign-s3-gateway")]
        ),
    ]
)
