import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import Metrics
import NIOCore
import S3Protocol
import SigV4
import Synchronization

/// The S3 API: authenticates every request (SigV4 header or presigned URL), dispatches it to
/// its operation and renders S3 errors as XML with the request id.
struct S3Responder: HTTPResponder {
    typealias Context = BasicRequestContext

    let state: GatewayState
    /// `""` on the S3 port, `"/s3"` on the management port.
    let prefix: String
    let verifier = SigV4Verifier()
    let metrics = S3RequestMetrics()

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = GatewayState.newStorageId(uppercase: true)
        var logger = context.logger
        logger[metadataKey: "request.id"] = .string(requestID)
        let started = ContinuousClock.now
        var response: Response
        var call: S3Call?
        var principal: Principal?
        var failure: S3ErrorCode?
        let audit = state.configuration.auditReads ? ReadAudit() : nil
        do {
            guard state.startup.isOpen else {
                throw S3Error(.serviceUnavailable, message: "The gateway is starting; retry shortly.")
            }
            let parsed = try S3Call.parse(request, prefix: prefix, domain: state.configuration.domain)
            call = parsed
            let auth = try await authenticate(request, call: parsed)
            principal = auth.principal
            let handler = S3Handlers(state: state, policies: state.policies, call: parsed, request: request, principal: auth.principal,
                                     auth: auth.verified, headerList: auth.headers, requestID: requestID, logger: logger,
                                     audit: audit)
            response = try await handler.handle()
        } catch let error as S3Error {
            failure = error.code
            response = Self.errorResponse(error, requestID: requestID, resource: request.uri.path, head: request.method == .head)
        } catch let error as SigV4Error {
            let error = S3Error(error)
            failure = error.code
            response = Self.errorResponse(error, requestID: requestID, resource: request.uri.path, head: request.method == .head)
        } catch let error as MetadataError where error.code == .unavailable {
            logger.error("metadata store unavailable", metadata: ["error": "\(error)"])
            state.metrics.recordMetadataUnavailable()
            failure = .serviceUnavailable
            response = Self.errorResponse(S3Error(.serviceUnavailable, message: "The metadata store is unavailable; retry later."),
                                          requestID: requestID, resource: request.uri.path, head: request.method == .head)
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)"])
            failure = .internalError
            response = Self.errorResponse(S3Error(.internalError), requestID: requestID, resource: request.uri.path,
                                          head: request.method == .head)
        }
        if let audit, let call, let operation = call.readOperation {
            response = await audit.record(operation, call: call, principal: principal, response: response, failure: failure,
                                          requestID: requestID, duration: ContinuousClock.now - started, state: state,
                                          logger: logger)
        }
        response.headers[.amzRequestID] = requestID
        response.headers[.amzID2] = requestID
        metrics.record(method: request.method.rawValue, status: response.status.code, duration: ContinuousClock.now - started)
        logger.info("s3 request", metadata: [
            "http.method": "\(request.method)", "s3.bucket": "\(call?.bucket ?? "")", "s3.key": "\(call?.key ?? "")",
            "http.status": "\(response.status.code)",
            "duration.ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
        ])
        return response
    }

    /// SigV4 in the Authorization header or the query string; unsigned requests are refused.
    func authenticate(_ request: Request, call: S3Call) async throws
        -> (principal: Principal, verified: SigV4VerifiedRequest, headers: [(name: String, value: String)]) {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append(("host", authority))
        }
        let incoming = SigV4IncomingRequest(method: request.method.rawValue, rawPath: call.rawPath,
                                            rawQuery: call.rawQuery, headers: headers)
        let verified = try verifier.verify(incoming, now: Date()) { accessKey in
            state.credentials.principal(accessKey)?.secretKey
        }
        guard let principal = state.credentials.principal(verified.accessKeyID) else {
            throw S3Error(.invalidAccessKeyId)
        }
        return (principal, verified, headers)
    }

    static func errorResponse(_ error: S3Error, requestID: String, resource: String, head: Bool) -> Response {
        var error = error
        if error.resource == nil { error.resource = resource }
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        let status = HTTPResponse.Status(code: error.httpStatus)
        if head || error.code == .notModified {
            return Response(status: status, headers: headers)
        }
        let body = error.xmlBody(requestId: requestID, hostId: requestID)
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `gateway_s3_requests_total{method,status}` and `gateway_s3_request_duration_seconds{method}`.
/// The handles are made once per method and status and kept: making one asks the metrics
/// factory, which validates the name and looks it up in its registry under a lock, every time.
/// A method S3 does not use is counted as `OTHER`, so that clients cannot add labels at will.
final class S3RequestMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var status: Int
    }

    static let methods: Set<String> = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
    static let requestsName = "gateway_s3_requests_total"
    static let durationName = "gateway_s3_request_duration_seconds"

    private let handles = Mutex<[Key: (requests: Counter, duration: Metrics.Timer)]>([:])

    func record(method: String, status: Int, duration: Duration) {
        let method = Self.methods.contains(method) ? method : "OTHER"
        let key = Key(method: method, status: status)
        let (requests, timer) = handles.withLock { handles in
            if let made = handles[key] { return made }
            let made = (
                requests: Counter(label: Self.requestsName, dimensions: [("method", method), ("status", String(status))]),
                duration: Metrics.Timer(label: Self.durationName, dimensions: [("method", method)])
            )
            handles[key] = made
            return made
        }
        requests.increment()
        timer.record(duration: duration)
    }

    /// How many method and status pairs have handles.
    var pairs: Int { handles.withLock { $0.count } }
}
