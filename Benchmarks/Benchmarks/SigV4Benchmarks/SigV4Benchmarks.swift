// Benchmarks of the SigV4 work the gateway does on every request: verifying a header-signed
// request as the aws CLI sends it, parsing its `Authorization` header alone, and signing the
// request the gateway sends to a backend. See ../../../BENCHMARKS.md for commands and figures.

import Benchmark
import Foundation
import SigV4

/// A 4 KiB PUT signed the way the aws CLI and boto3 sign one over plain HTTP.
struct SignedPut: Sendable {
    static let credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_764_000_000)
    let incoming: SigV4IncomingRequest
    let authorization: String
    let backendRequest: SigV4SigningRequest
    let payload: SigV4PayloadMode

    init() {
        let body = [UInt8](repeating: 0x61, count: 4096)
        payload = .sha256(of: body)
        let headers: [(name: String, value: String)] = [
            ("Content-Length", "4096"),
            ("Content-MD5", "pLYZXSQbCJ4LCCJHBBQBKA=="),
            ("Content-Type", "application/octet-stream"),
            ("User-Agent", "aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.6"),
            ("Expect", "100-continue"),
        ]
        let request = SigV4SigningRequest(
            method: "PUT", host: "127.0.0.1:9000", encodedPath: "/bench/objects/2025/11/report-000123.csv",
            headers: headers)
        let signer = SigV4Signer(credentials: Self.credentials, region: "eu-central-1", service: "s3")
        let signed = signer.sign(request, payload: payload, date: Self.date)
        authorization = signed.authorization
        incoming = SigV4IncomingRequest(
            method: "PUT", rawPath: "/bench/objects/2025/11/report-000123.csv",
            headers: [("Host", "127.0.0.1:9000")] + signed.headers.filter { $0.name.lowercased() != "host" })
        backendRequest = SigV4SigningRequest(
            method: "PUT", host: "s3.eu-central-1.example.com",
            encodedPath: "/bench/objects/2025/11/report-000123.csv.0f6c1e9a2b7d4c38a1e5f09b6d2c7e41",
            headers: [
                ("Content-Length", "4096"), ("Content-MD5", "pLYZXSQbCJ4LCCJHBBQBKA=="),
                ("Content-Type", "application/octet-stream"),
            ])
    }

    static let shared = SignedPut()
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 100,
        scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 100_000)
    let verifier = SigV4Verifier()
    let secret = SignedPut.credentials.secretAccessKey

    Benchmark("SigV4 verify (header-signed 4 KiB PUT)", configuration: configuration) { benchmark in
        let put = SignedPut.shared
        for _ in benchmark.scaledIterations {
            blackHole(try verifier.verify(put.incoming, now: SignedPut.date) { _ in secret })
        }
    }

    Benchmark("SigV4 parse Authorization header", configuration: configuration) { benchmark in
        let put = SignedPut.shared
        for _ in benchmark.scaledIterations {
            blackHole(try SigV4AuthorizationHeader(parsing: put.authorization))
        }
    }

    Benchmark("SigV4 sign (backend PUT)", configuration: configuration) { benchmark in
        let put = SignedPut.shared
        let signer = SigV4Signer(credentials: SignedPut.credentials, region: "eu-central-1", service: "s3")
        for _ in benchmark.scaledIterations {
            blackHole(signer.sign(put.backendRequest, payload: put.payload, date: SignedPut.date))
        }
    }
}
