import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import S3Protocol
import SigV4

/// The provider's own multipart upload API (CreateMultipartUpload, UploadPart,
/// CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads).
///
/// Object Lock: the lock is put on the completed object with PutObjectRetention /
/// PutObjectLegalHold, as for a PUT, not with `x-amz-object-lock-*` headers on
/// CreateMultipartUpload: S3 then demands a Content-MD5 (or a checksum) on every UploadPart,
/// which a streamed part cannot know before its last byte. The version's final retention is
/// also only known at completion (bucket default and policy floor are measured then).
extension S3Backend {
    func createMultipartUpload(key: String) async throws -> String {
        // Retried only when the provider asked to slow down (it then started nothing): a second
        // attempt after another failure could leave the first upload behind unrecorded.
        let body = try await retrying(when: { $0.cause == .throttled }) {
            let response = try await send(request(.POST, key: key, query: [("uploads", "")],
                                                  headers: [("content-type", "application/octet-stream")]),
                                          timeout: requestTimeout)
            guard response.status.code == 200 else { throw await failure(response, "CreateMultipartUpload \(key)") }
            return String(buffer: try await response.body.collect(upTo: 64 * 1024))
        }
        guard let uploadId = Self.xmlValue("UploadId", in: body), !uploadId.isEmpty else {
            throw BackendError(code: .io, message: "\(zone): CreateMultipartUpload \(key): no UploadId")
        }
        return uploadId
    }

    func makePartWriter(key: String, uploadId: String, partNumber: Int, expectedSize: Int64?) async throws
        -> any BackendPartWriter {
        streamingPut(key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], expectedSize: expectedSize)
    }

    func completeMultipartUpload(key: String, uploadId: String, parts: [BackendPart], size: Int64,
                                 lock: BackendObjectLock?) async throws -> String? {
        let lock = try await lock.asyncFilter { _ in try await bucketHasObjectLock() }
        let xml = "<CompleteMultipartUpload>" + parts.map {
            "<Part><PartNumber>\($0.number)</PartNumber><ETag>\"\($0.etag)\"</ETag></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        // Sent again after a pause when the provider asks to slow down (it then did nothing).
        let (response, answer) = try await retrying(when: { $0.cause == .throttled }) { () async throws -> (HTTPClientResponse, String) in
            var complete = request(.POST, key: key, query: [("uploadId", uploadId)],
                                   headers: [("content-type", "application/xml")], payload: .sha256(of: body))
            complete.body = .bytes(ByteBuffer(bytes: body))
            // S3 answers at once and sends its body (whitespace, then the result) only when the
            // upload is assembled: the request holds its connection until then.
            let (response, client) = try await sendHeld(complete, timeout: transferTimeout)
            let collected: ByteBuffer
            do {
                collected = try await response.body.collect(upTo: 64 * 1024)
                load.leave(client)
            } catch {
                load.leave(client)
                throw error
            }
            let answer = String(buffer: collected)
            let code = S3ErrorBody.code(in: answer)
            // S3 may also send the error in a 200 answer, once it has started assembling.
            if let throttled = throttling(status: response.status.code == 200 && answer.contains("<Error>") ? 503 : response.status.code,
                                          code: code, headers: response.headers,
                                          message: "\(zone): CompleteMultipartUpload \(key): HTTP \(response.status.code) \(code ?? "")") {
                throw throttled
            }
            return (response, answer)
        }
        var etag: String?
        if response.status.code == 404, S3ErrorBody.code(in: answer) == "NoSuchUpload" {
            // Completed before (its answer was lost) or aborted.
            guard try await self.size(of: key) == size else {
                throw BackendError(code: .notFound, message: "\(zone): CompleteMultipartUpload \(key): NoSuchUpload")
            }
        } else {
            // S3 may answer 200 and report the failure in the body.
            guard response.status.code == 200, !answer.contains("<Error>") else {
                throw BackendError(code: response.status.code >= 500 || S3ErrorBody.code(in: answer) == "InternalError" ? .unavailable : .io,
                                   message: "\(zone): CompleteMultipartUpload \(key): HTTP \(response.status.code) \(S3ErrorBody.code(in: answer) ?? "")")
            }
            etag = Self.xmlValue("ETag", in: answer)?.trimmingQuotes()
        }
        if let lock { try await apply(lock, to: key) }
        // Some providers answer with an empty ETag; HEAD has the right one.
        if let etag, !etag.isEmpty { return etag }
        return try await self.etag(of: key)
    }

    func abortMultipartUpload(key: String, uploadId: String) async throws {
        try await retrying {
            let response = try await send(request(.DELETE, key: key, query: [("uploadId", uploadId)]), timeout: requestTimeout)
            if (200..<300).contains(response.status.code) || response.status.code == 404 {
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return
            }
            throw await failure(response, "AbortMultipartUpload \(key)")
        }
    }

    func abortMultipartUploads(key: String) async throws {
        for uploadId in try await uploadIds(of: key) {
            try await abortMultipartUpload(key: key, uploadId: uploadId)
        }
    }

    /// The ids of the unfinished uploads of exactly `key` (ListMultipartUploads).
    func uploadIds(of key: String) async throws -> [String] {
        var ids: [String] = []
        var keyMarker: String?
        var uploadIdMarker: String?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", key), ("max-uploads", "1000")]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadIdMarker { query.append(("upload-id-marker", uploadIdMarker)) }
            let page = try await retrying { () throws -> S3XMLElement in
                let response = try await send(request(.GET, key: nil, query: query), timeout: requestTimeout)
                guard response.status.code == 200 else { throw await failure(response, "GET ?uploads \(key)") }
                let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
                return try S3XMLParser(limits: .init(maxBytes: 16 * 1024 * 1024)).parse(Array(buffer: body))
            }
            for entry in page.children where entry.name == "Upload" {
                if entry.child("Key")?.text == key, let id = entry.child("UploadId")?.text { ids.append(id) }
            }
            guard page.child("IsTruncated")?.trimmedText == "true" else { break }
            keyMarker = page.child("NextKeyMarker")?.text
            uploadIdMarker = page.child("NextUploadIdMarker")?.text
        } while keyMarker != nil
        return ids
    }
}

extension S3Writer: BackendPartWriter {
    /// The ETag header of the UploadPart answer.
    func etag() async throws -> String {
        guard let etag = try await upload.value, !etag.isEmpty else {
            throw BackendError(code: .io, message: "\(zone): the upload of a part of \(key) was answered without an ETag")
        }
        return etag
    }
}
