import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// The few S3 calls a load run makes, path-style, SigV4-signed in headers by the project's
/// signer (the same code the gateway uses towards its backends).
struct S3Client: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let target: Target
    let signer: SigV4Signer
    let http: HTTPClient
    let timeout: TimeAmount

    /// PUT of one object; returns the bytes sent.
    func put(bucket: String, key: String, body: RequestBody) async throws -> Int {
        var request = signed(.PUT, path: "/\(bucket)/\(key)", payload: body.payload,
                             headers: [("content-type", "application/octet-stream")])
        request.body = body.httpBody()
        let response = try await http.execute(request, timeout: timeout)
        try await expectSuccess(response, "PUT /\(bucket)/\(key)")
        _ = try await response.body.collect(upTo: 1 << 20)
        return body.size
    }

    /// GET of one object, reading and discarding the body; returns the bytes received.
    func get(bucket: String, key: String, expectedSize: Int) async throws -> Int {
        let request = signed(.GET, path: "/\(bucket)/\(key)", payload: .sha256(SigV4PayloadMode.emptySHA256))
        let response = try await http.execute(request, timeout: timeout)
        try await expectSuccess(response, "GET /\(bucket)/\(key)")
        var received = 0
        for try await buffer in response.body { received += buffer.readableBytes }
        guard received == expectedSize else {
            throw Failure(description: "GET /\(bucket)/\(key): \(received) bytes, expected \(expectedSize)")
        }
        return received
    }

    /// Creates the bucket; one that exists already (owned by us) is fine.
    func createBucket(_ bucket: String) async throws {
        let request = signed(.PUT, path: "/\(bucket)", payload: .sha256(SigV4PayloadMode.emptySHA256))
        let response = try await http.execute(request, timeout: timeout)
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        if (200..<300).contains(response.status.code) || body.contains("BucketAlreadyOwnedByYou") { return }
        throw Failure(description: "\(target.name): PUT /\(bucket): HTTP \(response.status.code) \(body.prefix(300))")
    }

    private func signed(_ method: HTTPMethod, path: String, payload: SigV4PayloadMode,
                        headers: [(name: String, value: String)] = []) -> HTTPClientRequest {
        let signing = SigV4SigningRequest(method: method.rawValue, host: target.host, rawPath: path, headers: headers)
        let signature = signer.sign(signing, payload: payload)
        var request = HTTPClientRequest(url: target.origin + signing.target)
        request.method = method
        request.headers.add(name: "Host", value: target.host)
        for (name, value) in signature.headers { request.headers.add(name: name, value: value) }
        return request
    }

    private func expectSuccess(_ response: HTTPClientResponse, _ what: String) async throws {
        guard !(200..<300).contains(response.status.code) else { return }
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
        throw Failure(description: "\(target.name): \(what): HTTP \(response.status.code) \(body.prefix(300))")
    }
}
