import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import S3Protocol
import Synchronization

/// The audit of reads (`GATEWAY_AUDIT_READS`): every GET and HEAD of the S3 API, refused ones
/// included, becomes a row of the operations log before its answer goes out, as writes do.
/// Who read which object, which version, when, with what outcome, and from which zone (so
/// from which country) it was served. A read whose row cannot be written is refused with 503:
/// with the audit on, no read goes unrecorded.
final class ReadAudit: Sendable {
    private let zone = Mutex<String?>(nil)

    /// The zone the object's bytes come from, set by GetObject once a replica is open.
    var servedZone: String? {
        get { zone.withLock { $0 } }
        set { zone.withLock { $0 = newValue } }
    }

    /// Records the read and returns `response`, or a 503 when the row could not be written.
    /// `failure`: the S3 error the request ended with, if it did.
    func record(_ operation: String, call: S3Call, principal: Principal?, response: Response, failure: S3ErrorCode?,
                requestID: String, duration: Duration, state: GatewayState, logger: Logger) async -> Response {
        let status = response.status.code
        let entry = OperationLogEntry(
            time: Date(), requestId: requestID, principal: principal?.accessKey, operation: operation,
            bucket: call.bucket, key: call.key,
            versionId: response.headers[.amzVersionID] ?? call.value("versionId"),
            httpStatus: status, zones: servedZone.map { [$0] } ?? [],
            policySetHash: nil,
            bytes: status < 300 && call.method == .get ? Int64(response.headers[.contentLength] ?? "") ?? 0 : 0,
            durationMs: Int64(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000),
            detail: failure?.rawValue ?? (response.headers[.amzDeleteMarker] == "true" ? "DeleteMarker" : nil))
        do {
            _ = try await state.store.appendLog(entry)
            return response
        } catch {
            logger.error("read not recorded in the operations log; refused", metadata: [
                "s3.operation": "\(operation)", "error": "\(error)",
            ])
            return S3Responder.errorResponse(
                S3Error(.serviceUnavailable, message: "The read could not be recorded in the audit log; retry later."),
                requestID: requestID, resource: call.rawPath, head: call.method == .head)
        }
    }
}
