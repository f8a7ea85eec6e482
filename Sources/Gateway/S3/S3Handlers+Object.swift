import Crypto
import Foundation
import Logging
import HTTPTypes
import Hummingbird
import Metadata
import NIOCore
import PolicyEngine
import S3Protocol
import SigV4

extension S3Handlers {
    // MARK: PutObject

    func putObject(_ bucketName: String, _ key: String) async throws -> Response {
        let bucket = try await requireBucket(bucketName)
        let tags = try header("x-amz-tagging").map { try Tagging(headerValue: $0) } ?? Tagging()
        let declaredLength = try self.declaredLength()
        let (body, chunked) = try decodedBody()
        let declared = S3ChecksumAlgorithm.declared(in: headerList)
        let version = try await storeObject(
            bucket: bucket, key: key, tags: tags.tags.map { ObjectTag($0.key, $0.value) },
            headers: objectHeaders(), userMetadata: try userMetadata(),
            body: body, expectedSize: declaredLength, checksum: declared?.algorithm, operation: "PutObject",
            precondition: try writePrecondition()
        ) { outcome in
            try verifyBody(outcome, declaredChecksum: declared?.value, chunked: chunked)
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(version.etag)\""
        for (name, value) in version.checksums.values { if let field = HTTPField.Name(name) { headers[field] = value } }
        if version.versionId != nullVersionID || bucket.versioning == .suspended {
            headers[.amzVersionID] = version.versionId
        }
        return Self.empty(headers: headers)
    }

    /// The shared write path of PutObject and CopyObject: plan, intent, fan-out with quorum,
    /// digest checks, one commit. A conditional write (`precondition`) is checked before the
    /// body is stored, and again, authoritatively, in the commit.
    func storeObject(
        bucket: Bucket, key: String, tags: [ObjectTag], headers: ObjectHeaders, userMetadata: [String: String],
        body: some AsyncSequence<ByteBuffer, any Error>, expectedSize: Int64?, checksum: S3ChecksumAlgorithm? = nil,
        operation: String, precondition: WritePrecondition = .none, check: (WriteCoordinator.Outcome) throws -> Void = { _ in }
    ) async throws -> ObjectVersion {
        let plan = try await allowedPlan(bucket: bucket.name, key: key, tags: tags, operation: operation)
        try await checkWritePrecondition(precondition, bucket: bucket.name, key: key)
        // Object Lock headers are checked before any byte is streamed.
        let requestedLock = try requestedObjectLock(bucket)
        let now = Date()
        let storageId = GatewayState.newStorageId(now: now)
        let versionId = Self.versionId(plan: plan, bucket: bucket, storageId: storageId)
        let backendKey = WriteIntent.backendKey(bucket: bucket.name, key: key, storageId: storageId)
        let coordinator = WriteCoordinator(state: state)
        let intent = WriteIntent(storageId: storageId, bucket: bucket.name, key: key,
                                 zones: coordinator.intentZones(for: plan), backendKey: backendKey, createdAt: now)
        // The latest of the client's retention, the bucket default and the policy's floor.
        let retention = Self.strongestRetention([
            requestedLock.retention, Self.defaultRetention(bucket, now: now), Self.policyFloor(plan, createdAt: now),
        ])
        // The intent is recorded while the writers open; a failed write abandons it itself.
        let outcome = try await coordinator.write(
            body: body, plan: plan, backendKey: backendKey, intent: intent, expectedSize: expectedSize, checksum: checksum,
            lock: BackendObjectLock(retention: retention, legalHold: requestedLock.legalHold),
            sha256: declaresPayloadHash, logger: logger)
        do {
            try check(outcome)
        } catch {
            // The copies of a body that failed its digest check are removed.
            for zone in outcome.written { try? await state.backends[zone]?.delete(key: backendKey) }
            try? await store.abandonIntent(storageId: storageId)
            throw error
        }
        let etag = Array(outcome.md5).hexString
        let version = ObjectVersion(
            storageId: storageId, versionId: versionId, bucket: bucket.name, key: key, size: outcome.size,
            etag: etag, headers: headers, userMetadata: userMetadata, tags: tags,
            checksums: ObjectChecksums(outcome.checksum.map { [$0.algorithm.headerName: Data($0.value).base64EncodedString()] } ?? [:],
                                       type: outcome.checksum == nil ? nil : .fullObject),
            createdAt: now,
            placement: PlacementInfo(
                policySetHash: plan.policySetHash, residencyPolicies: plan.residencyPolicies,
                replicationPolicy: plan.replicationPolicy?.metadata.name, plannedZones: plan.zones.map(\.code),
                requiredCopies: plan.copies, writeQuorum: plan.writeQuorum,
                replicationDeadline: plan.replicationDeadlineSeconds.map { now.addingTimeInterval(TimeInterval($0)) }),
            retention: retention, legalHold: requestedLock.legalHold)
        let replicas = outcome.written.map { CommitReplica(zone: $0, status: .complete, backendKey: backendKey, etag: etag) }
            + outcome.missing.map { CommitReplica(zone: $0, status: .pending, backendKey: backendKey) }
        let result: CommitResult
        do {
            result = try await store.commit(VersionCommit(
                version: version, replicas: replicas, precondition: precondition,
                log: log(operation, bucket: bucket.name, key: key, versionId: versionId, status: 200,
                         zones: outcome.written, bytes: outcome.size)))
        } catch let error as MetadataError where error.code == .preconditionFailed {
            // Another write of the key committed meanwhile: this one does not stand.
            for zone in outcome.written { try? await state.backends[zone]?.delete(key: backendKey) }
            try? await store.abandonIntent(storageId: storageId)
            throw S3Error.preconditionFailed(condition: precondition.headerName)
        } catch let error as MetadataError where error.isReclaimedWrite {
            // The reconciler gave this write up while it was still streaming: nothing committed.
            for zone in outcome.written { try? await state.backends[zone]?.delete(key: backendKey) }
            throw S3Error(.serviceUnavailable, message: "The write took too long and was abandoned; retry it.")
        }
        if !outcome.missing.isEmpty { state.metrics.recordWriteBelowPlannedCopies() }
        return result.version
    }

    /// The placement plan of an object, or AccessDenied naming the policy that refuses it.
    func allowedPlan(bucket: String, key: String, tags: [ObjectTag], operation: String) async throws -> PlacementPlan {
        let object = ObjectRef(bucket: bucket, key: key, tags: tags.map { .init(key: $0.key, value: $0.value) })
        let plan = policies.plan(for: object)
        guard plan.allowed else {
            let policy = plan.replicationPolicy?.metadata.name ?? plan.residencyPolicies.first ?? "none"
            state.metrics.recordRefusal(operation: operation)
            _ = try? await store.appendLog(log(operation, bucket: bucket, key: key, status: 403,
                                               detail: "refused by policy: " + plan.reasons.joined(separator: "; ")))
            throw S3Error(.accessDenied, message: "Refused by data-sovereignty policy (\(policy)): " + plan.reasons.joined(separator: "; "))
        }
        return plan
    }

    static func versionId(plan: PlacementPlan, bucket: Bucket, storageId: String) -> String {
        switch plan.versioning {
        case .enabled?: storageId
        case .suspended?: nullVersionID
        case .bucket?, nil: bucket.versioning == .enabled ? storageId : nullVersionID
        }
    }

    /// Content-MD5, x-amz-content-sha256 and the declared S3 checksum (a header, or the
    /// aws-chunked trailer that arrived after the body).
    func verifyBody(_ outcome: WriteCoordinator.Outcome, declaredChecksum: String?, chunked: ChunkedBodyDecoder?) throws {
        try verifyDigests(outcome)
        guard let (algorithm, computed) = outcome.checksum,
              let value = declaredChecksum ?? chunked?.trailer(algorithm.headerName) else { return }
        do throws(SigV4Error) {
            try algorithm.verify(declaredBase64: value, computed: computed)
        } catch {
            // InvalidRequest for a value that is not a checksum at all, BadDigest for a mismatch;
            // an S3Error, so that the copies already written are removed.
            throw S3Error(error)
        }
    }

    /// Whether `x-amz-content-sha256` carries the body's hash, which ``verifyDigests(_:)`` then
    /// checks: only then does the write compute the SHA-256 of the body.
    var declaresPayloadHash: Bool {
        if case .sha256 = auth.payload { return true }
        return false
    }

    func verifyDigests(_ outcome: WriteCoordinator.Outcome) throws {
        if let md5 = header("content-md5") {
            guard let expected = Data(base64Encoded: md5), expected.count == 16 else { throw S3Error(.invalidDigest) }
            if Array(expected) != Array(outcome.md5) {
                throw S3Error.badDigest(expected: md5, calculated: Data(outcome.md5).base64EncodedString())
            }
        }
        if case .sha256(let declared) = auth.payload, !(outcome.sha256.map { Hex.matches(declared, $0) } ?? false) {
            throw S3Error(.xAmzContentSHA256Mismatch, message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
    }

    /// The length the body will have: `x-amz-decoded-content-length` for aws-chunked bodies (whose
    /// Content-Length counts the framing too), Content-Length otherwise.
    func declaredLength() throws -> Int64? {
        let name = auth.payload.isStreaming ? "x-amz-decoded-content-length" : "content-length"
        guard let text = header(name) else { return nil }
        guard let n = Int64(text), n >= 0 else {
            throw S3Error.invalidArgument("Invalid \(name)", name: name, value: text)
        }
        if n > 5 * 1024 * 1024 * 1024 { throw S3Error.entityTooLarge(proposedSize: n, maxSizeAllowed: 5 * 1024 * 1024 * 1024) }
        return n
    }

    /// The request body with any aws-chunked framing removed (signatures checked as it streams).
    func decodedBody() throws -> (AsyncThrowingStream<ByteBuffer, any Error>, ChunkedBodyDecoder?) {
        if auth.payload.isStreaming {
            let decoder = try ChunkedBodyDecoder(verified: auth, headers: headerList)
            return (decoder.decode(request.body), decoder)
        }
        let body = request.body
        let box = IteratorBox()
        return (AsyncThrowingStream(unfolding: { try await box.next(body) }), nil)
    }

    func objectHeaders() -> ObjectHeaders {
        ObjectHeaders(contentType: header("content-type") ?? "binary/octet-stream", cacheControl: header("cache-control"),
                      contentDisposition: header("content-disposition"), contentEncoding: storedContentEncoding(),
                      contentLanguage: header("content-language"), expires: header("expires"))
    }

    /// Content-Encoding without the `aws-chunked` transfer framing, which is not the object's.
    func storedContentEncoding() -> String? {
        guard let value = header("content-encoding") else { return nil }
        let codings = value.split(separator: ",").map { $0.trimmingOWS() }.filter { $0 != "aws-chunked" && !$0.isEmpty }
        return codings.isEmpty ? nil : codings.joined(separator: ", ")
    }

    func userMetadata() throws -> [String: String] {
        var result: [String: String] = [:]
        var size = 0
        for field in request.headers where field.name.canonicalName.hasPrefix("x-amz-meta-") {
            let name = String(field.name.canonicalName.dropFirst("x-amz-meta-".count))
            result[name] = field.value
            size += name.utf8.count + field.value.utf8.count
        }
        if size > 2048 { throw S3Error.metadataTooLarge(size: size, maxSizeAllowed: 2048) }
        return result
    }

    // MARK: GetObject / HeadObject

    func resolveVersion(_ bucket: String, _ key: String) async throws -> ObjectVersion {
        _ = try await requireBucket(bucket)
        let versionId = call.value("versionId")
        let found = if let versionId {
            try await store.version(bucket: bucket, key: key, versionId: versionId)
        } else {
            try await store.latestVersion(bucket: bucket, key: key)
        }
        return try readable(found, key: key, versionId: versionId)
    }

    /// ``resolveVersion(_:_:)`` with the version's replicas, read in one statement.
    func resolveVersionWithReplicas(_ bucket: String, _ key: String) async throws -> VersionWithReplicas {
        _ = try await requireBucket(bucket)
        let versionId = call.value("versionId")
        let found = try await store.versionWithReplicas(bucket: bucket, key: key, versionId: versionId)
        return VersionWithReplicas(version: try readable(found?.version, key: key, versionId: versionId),
                                   replicas: found?.replicas ?? [])
    }

    /// The version a read asked for, or the S3 error for a missing one or a delete marker.
    private func readable(_ found: ObjectVersion?, key: String, versionId: String?) throws -> ObjectVersion {
        guard let v = found else {
            if let versionId { throw S3Error.noSuchVersion(key: key, versionId: versionId) }
            throw S3Error.noSuchKey(key)
        }
        if v.isDeleteMarker {
            guard versionId != nil else { throw DeleteMarkerError(error: S3Error.noSuchKey(key), versionId: v.versionId) }
            var error = S3Error(.methodNotAllowed, message: "The specified method is not allowed against this resource.")
            error.details.append(.init(name: "DeleteMarker", value: "true"))
            throw DeleteMarkerError(error: error, versionId: v.versionId)
        }
        return v
    }

    func getObject(_ bucket: String, _ key: String, head: Bool) async throws -> Response {
        let found: VersionWithReplicas
        do {
            found = try await resolveVersionWithReplicas(bucket, key)
        } catch let marker as DeleteMarkerError {
            var response = S3Responder.errorResponse(marker.error, requestID: requestID, resource: call.rawPath, head: head)
            response.headers[.amzDeleteMarker] = "true"
            response.headers[.amzVersionID] = marker.versionId
            return response
        }
        let (version, replicas) = (found.version, found.replicas)
        var headers = responseHeaders(for: version)
        ReplicationReport(version: version, replicas: replicas).apply(to: &headers)
        let conditions = ConditionalHeaders(ifMatch: header("if-match"), ifNoneMatch: header("if-none-match"),
                                            ifModifiedSince: header("if-modified-since"),
                                            ifUnmodifiedSince: header("if-unmodified-since"))
        if !conditions.isEmpty, let error = conditions.evaluate(eTag: "\"\(version.etag)\"", lastModified: version.createdAt).error {
            if error.code == .notModified {
                return Response(status: .notModified, headers: headers)
            }
            throw error
        }
        var status = HTTPResponse.Status.ok
        var range: ClosedRange<Int64>?
        if let rangeHeader = header("range"), let parsed = ByteRange(rangeHeader: rangeHeader) {
            let resolved = try parsed.resolve(objectSize: version.size)
            range = resolved.first...resolved.last
            status = .partialContent
            headers[.contentRange] = resolved.contentRange
            headers[.contentLength] = String(resolved.length)
        } else {
            headers[.contentLength] = String(version.size)
            if header("x-amz-checksum-mode")?.uppercased() == "ENABLED" { addChecksums(of: version, to: &headers) }
        }
        applyOverrides(&headers)
        if head || version.size == 0 {
            return Response(status: status, headers: headers)
        }
        let (stream, zone) = try await ReadPath(state: state).openReporting(version, replicas: replicas, range: range, logger: logger)
        audit?.servedZone = zone
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? version.size
        if length <= Self.wholeReadLimit {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: try await Self.whole(stream, length: length)))
        }
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: stream))
    }

    /// Bodies up to this size are read whole before the answer starts (``whole(_:length:)``).
    static let wholeReadLimit: Int64 = 64 * 1024

    /// A small body, read whole from its replica. Hummingbird writes the head, the body and the
    /// end of an answer whose body is one buffer in one write; a streamed body's head, each of
    /// its buffers and its end go out each with their own flush: for a 4 KiB object, two or
    /// three writes to the client's socket (and as many wake-ups of the client) instead of one.
    /// A read that fails (the ``ResumingRead`` found no replica to go on from) is then answered
    /// with `503 ServiceUnavailable` instead of a connection closed part-way through the body.
    static func whole(_ stream: BackendReadStream, length: Int64) async throws -> ByteBuffer {
        var body: ByteBuffer?
        do {
            for try await buffer in stream {
                if body == nil {
                    body = buffer
                    body?.reserveCapacity(Int(length))
                } else {
                    body?.writeImmutableBuffer(buffer)
                }
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(.serviceUnavailable, message: "No replica of this object is readable right now.")
        }
        let whole = body ?? ByteBuffer()
        guard whole.readableBytes == length else {
            throw S3Error(.serviceUnavailable, message: "No replica of this object is readable right now.")
        }
        return whole
    }

    func responseHeaders(for v: ObjectVersion) -> HTTPFields {
        var h = HTTPFields()
        h[.eTag] = "\"\(v.etag)\""
        h[.lastModified] = HTTPDate.format(v.createdAt)
        h[.acceptRanges] = "bytes"
        h[.contentType] = v.headers.contentType ?? "binary/octet-stream"
        if let x = v.headers.cacheControl { h[.cacheControl] = x }
        if let x = v.headers.contentDisposition { h[.contentDisposition] = x }
        if let x = v.headers.contentEncoding { h[.contentEncoding] = x }
        if let x = v.headers.contentLanguage { h[.contentLanguage] = x }
        if let x = v.headers.expires { h[.expires] = x }
        if v.versionId != nullVersionID { h[.amzVersionID] = v.versionId }
        for (name, value) in v.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-amz-meta-" + name) { h[field] = value }
        }
        if !v.tags.isEmpty { h[.init("x-amz-tagging-count")!] = String(v.tags.count) }
        if let r = v.retention {
            h[.init("x-amz-object-lock-mode")!] = r.mode.rawValue
            h[.init("x-amz-object-lock-retain-until-date")!] = ISO8601Timestamp.format(r.retainUntil)
        }
        if v.legalHold { h[.init("x-amz-object-lock-legal-hold")!] = "ON" }
        return h
    }

    /// The stored checksums, returned as S3 does when the client asks with
    /// `x-amz-checksum-mode: ENABLED` and reads the whole object (a range has no object checksum).
    func addChecksums(of version: ObjectVersion, to headers: inout HTTPFields) {
        for (name, value) in version.checksums.values.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if let type = version.checksums.type, !version.checksums.values.isEmpty {
            headers[.init("x-amz-checksum-type")!] = type.rawValue
        }
    }

    /// `response-content-type` and friends (signed requests only, as S3).
    func applyOverrides(_ headers: inout HTTPFields) {
        let overrides: [(String, HTTPField.Name)] = [
            ("response-content-type", .contentType), ("response-content-language", .contentLanguage),
            ("response-expires", .expires), ("response-cache-control", .cacheControl),
            ("response-content-disposition", .contentDisposition), ("response-content-encoding", .contentEncoding),
        ]
        for (param, field) in overrides { if let v = call.value(param) { headers[field] = v } }
    }

    // MARK: DeleteObject(s)

    func deleteObject(_ bucketName: String, _ key: String) async throws -> Response {
        let result = try await deleteOne(bucketName, key, versionId: call.value("versionId"))
        var headers = HTTPFields()
        if let v = result.versionId { headers[.amzVersionID] = v }
        if result.deleteMarker { headers[.amzDeleteMarker] = "true" }
        return Self.empty(.noContent, headers: headers)
    }

    struct DeleteOutcome {
        var versionId: String?
        var deleteMarker: Bool
    }

    func deleteOne(_ bucketName: String, _ key: String, versionId: String?) async throws -> DeleteOutcome {
        let bucket = try await requireBucket(bucketName)
        let bypass = principal.isAdmin && header("x-amz-bypass-governance-retention")?.lowercased() == "true"
        if let versionId {
            do {
                let deleted = try await store.deleteVersion(DeleteVersionRequest(
                    bucket: bucketName, key: key, versionId: versionId, now: Date(), bypassGovernance: bypass,
                    log: log("DeleteObject", bucket: bucketName, key: key, versionId: versionId, status: 204)))
                await removeReplicas(deleted.deleteJobs)
                return DeleteOutcome(versionId: versionId, deleteMarker: deleted.version.isDeleteMarker)
            } catch let error as MetadataError where error.code == .notFound {
                return DeleteOutcome(versionId: versionId, deleteMarker: false)
            } catch let error as MetadataError where error.code == .objectLocked {
                throw S3Error(.accessDenied, message: "Access Denied because object protected by object lock.")
            }
        }
        let latest = try await store.latestVersion(bucket: bucketName, key: key)
        let object = ObjectRef(bucket: bucketName, key: key, tags: (latest?.tags ?? []).map { .init(key: $0.key, value: $0.value) })
        let plan = policies.plan(for: object)
        let mode = plan.versioning ?? .bucket
        let versioned = mode == .enabled || (mode == .bucket && bucket.versioning != .unversioned)
        if !versioned {
            // Unversioned: the null version goes for good.
            guard let latest, latest.versionId == nullVersionID else { return DeleteOutcome(versionId: nil, deleteMarker: false) }
            do {
                let deleted = try await store.deleteVersion(DeleteVersionRequest(
                    bucket: bucketName, key: key, versionId: nullVersionID, now: Date(), bypassGovernance: bypass,
                    log: log("DeleteObject", bucket: bucketName, key: key, status: 204)))
                await removeReplicas(deleted.deleteJobs)
            } catch let error as MetadataError where error.code == .objectLocked {
                throw S3Error(.accessDenied, message: "Access Denied because object protected by object lock.")
            }
            return DeleteOutcome(versionId: nil, deleteMarker: false)
        }
        let storageId = GatewayState.newStorageId()
        let markerId = (mode == .enabled || bucket.versioning == .enabled) ? storageId : nullVersionID
        if markerId == nullVersionID, let latest, latest.versionId == nullVersionID, latest.isLocked(at: Date(), bypassGovernance: bypass) {
            throw S3Error(.accessDenied, message: "Access Denied because object protected by object lock.")
        }
        let marker = ObjectVersion.deleteMarker(storageId: storageId, versionId: markerId, bucket: bucketName, key: key, createdAt: Date())
        let result = try await store.commit(VersionCommit(
            version: marker, log: log("DeleteObject", bucket: bucketName, key: key, versionId: markerId, status: 204,
                                      detail: "delete marker")))
        await removeReplicas(result.deleteJobs)
        return DeleteOutcome(versionId: markerId, deleteMarker: true)
    }

    /// Data deletes follow the metadata commit; the jobs stay queued if a backend is down.
    func removeReplicas(_ jobs: [SyncJob]) async {
        for job in jobs {
            guard let backend = state.backends[job.zone] else { continue }
            do {
                try await backend.delete(key: job.backendKey)
                try await store.completeJob(id: job.id, etag: nil, now: Date())
            } catch {
                logger.warning("replica delete deferred", metadata: ["zone": "\(job.zone)", "error": "\(error)"])
            }
        }
    }

    func deleteObjects(_ bucketName: String) async throws -> Response {
        _ = try await requireBucket(bucketName)
        let request = try DeleteObjectsRequest.decode(try await smallBody(limit: 2 << 20, requireDigest: true))
        var deleted: [DeleteResult.Deleted] = []
        var errors: [DeleteResult.Failure] = []
        for entry in request.objects {
            do {
                try validateKey(entry.key)
                let r = try await deleteOne(bucketName, entry.key, versionId: entry.versionId)
                deleted.append(.init(key: entry.key, versionId: entry.versionId,
                                     deleteMarker: r.deleteMarker ? true : nil,
                                     deleteMarkerVersionId: r.deleteMarker && entry.versionId == nil ? r.versionId : nil))
            } catch let error as S3Error {
                errors.append(.init(key: entry.key, versionId: entry.versionId, error: error))
            }
        }
        return Self.xml(DeleteResult(deleted: deleted, errors: errors, quiet: request.quiet))
    }

    // MARK: Tagging

    func getObjectTagging(_ bucket: String, _ key: String) async throws -> Response {
        let v = try await resolveVersion(bucket, key)
        var response = Self.xml(Tagging(v.tags.map { .init(key: $0.key, value: $0.value) }))
        if v.versionId != nullVersionID { response.headers[.amzVersionID] = v.versionId }
        return response
    }

    func putObjectTagging(_ bucket: String, _ key: String) async throws -> Response {
        let v = try await resolveVersion(bucket, key)
        let tagging = try Tagging.decode(try await smallBody())
        try tagging.validate(maxTags: Tagging.maxObjectTags)
        let newTags = tagging.tags.map { ObjectTag($0.key, $0.value) }
        try await retag(v, to: newTags, operation: "PutObjectTagging")
        var headers = HTTPFields()
        if v.versionId != nullVersionID { headers[.amzVersionID] = v.versionId }
        return Self.empty(headers: headers)
    }

    func deleteObjectTagging(_ bucket: String, _ key: String) async throws -> Response {
        let v = try await resolveVersion(bucket, key)
        // Removing the tags is a retag too: without them other policies may apply.
        try await retag(v, to: [], operation: "DeleteObjectTagging")
        var headers = HTTPFields()
        if v.versionId != nullVersionID { headers[.amzVersionID] = v.versionId }
        return Self.empty(.noContent, headers: headers)
    }

    /// Gives version `v` the tags `tags`, and records it in the operations log. Tags decide
    /// placement, so a retag under which no policy allows the object, or whose policies would
    /// not allow a zone its copies are in, is refused (and the refusal recorded), as a write
    /// that the policies do not allow is.
    func retag(_ v: ObjectVersion, to tags: [ObjectTag], operation: String) async throws {
        let plan = policies.plan(for: ObjectRef(bucket: v.bucket, key: v.key, tags: tags.map { .init(key: $0.key, value: $0.value) }))
        let eligible = Set(plan.eligibleZones.map(\.code))
        let replicas = try await store.replicas(storageId: v.storageId)
        let outside = replicas.map(\.zone).filter { !eligible.contains($0) }
        if !plan.allowed || !outside.isEmpty {
            let reasons = plan.allowed ? ["copies in \(outside.joined(separator: ", ")), which the policies for these tags do not allow"] : plan.reasons
            state.metrics.recordRefusal(operation: operation)
            _ = try? await store.appendLog(log(operation, bucket: v.bucket, key: v.key, versionId: v.versionId, status: 403,
                                               zones: replicas.map(\.zone), detail: "refused by policy: " + reasons.joined(separator: "; ")))
            throw S3Error(.accessDenied, message: "Refused by data-sovereignty policy: with these tags the object's existing replicas would be outside the zones its policies allow.")
        }
        _ = try await store.updateTags(bucket: v.bucket, key: v.key, versionId: v.versionId, tags: tags)
        _ = try? await store.appendLog(log(operation, bucket: v.bucket, key: v.key, versionId: v.versionId, status: 200,
                                           zones: replicas.map(\.zone),
                                           detail: tags.isEmpty ? "no tags" : tags.map { "\($0.key)=\($0.value)" }.joined(separator: "&")))
    }

    // MARK: CopyObject

    func copyObject(_ bucketName: String, _ key: String) async throws -> Response {
        let bucket = try await requireBucket(bucketName)
        guard let sourceHeader = header("x-amz-copy-source") else { throw S3Error(.invalidArgument) }
        var source = sourceHeader.hasPrefix("/") ? String(sourceHeader.dropFirst()) : sourceHeader
        var sourceVersionId: String?
        if let q = source.firstIndex(of: "?") {
            let query = source[source.index(after: q)...]
            source = String(source[..<q])
            for pair in query.split(separator: "&") where pair.hasPrefix("versionId=") {
                sourceVersionId = String(pair.dropFirst("versionId=".count))
            }
        }
        guard let slash = source.firstIndex(of: "/"),
              let srcBucket = S3URLEncoding.decode(source[..<slash]),
              let srcKey = S3URLEncoding.decode(source[source.index(after: slash)...]) else {
            throw S3Error(.invalidArgument, message: "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        _ = try await requireBucket(srcBucket)
        let src: ObjectVersion
        if let sourceVersionId {
            guard let v = try await store.version(bucket: srcBucket, key: srcKey, versionId: sourceVersionId), !v.isDeleteMarker else {
                throw S3Error.noSuchVersion(key: srcKey, versionId: sourceVersionId)
            }
            src = v
        } else {
            guard let v = try await store.latestVersion(bucket: srcBucket, key: srcKey), !v.isDeleteMarker else {
                throw S3Error.noSuchKey(srcKey)
            }
            src = v
        }
        let conditions = ConditionalHeaders(ifMatch: header("x-amz-copy-source-if-match"),
                                            ifNoneMatch: header("x-amz-copy-source-if-none-match"),
                                            ifModifiedSince: header("x-amz-copy-source-if-modified-since"),
                                            ifUnmodifiedSince: header("x-amz-copy-source-if-unmodified-since"))
        if !conditions.isEmpty, let error = conditions.evaluateCopySource(eTag: "\"\(src.etag)\"", lastModified: src.createdAt).error {
            throw error
        }
        let replace = header("x-amz-metadata-directive")?.uppercased() == "REPLACE"
        if !replace && srcBucket == bucketName && srcKey == key && sourceVersionId == nil {
            throw S3Error(.invalidRequest, message: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        let tags = header("x-amz-tagging-directive")?.uppercased() == "REPLACE"
            ? try (header("x-amz-tagging").map { try Tagging(headerValue: $0) } ?? Tagging()).tags.map { ObjectTag($0.key, $0.value) }
            : src.tags
        let body = try await ReadPath(state: state).open(src, range: nil, logger: logger)
        // Placed by the destination's plan.
        let version = try await storeObject(
            bucket: bucket, key: key, tags: tags,
            headers: replace ? objectHeaders() : src.headers, userMetadata: replace ? try userMetadata() : src.userMetadata,
            body: body, expectedSize: src.size, operation: "CopyObject", precondition: try writePrecondition())
        var response = Self.xml(CopyObjectResult(lastModified: version.createdAt, eTag: "\"\(version.etag)\""))
        if version.versionId != nullVersionID { response.headers[.amzVersionID] = version.versionId }
        if src.versionId != nullVersionID { response.headers[.amzCopySourceVersionID] = src.versionId }
        return response
    }
}

/// Pulls a request body one buffer at a time.
final class IteratorBox: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator?

    func next(_ body: RequestBody) async throws -> ByteBuffer? {
        if iterator == nil { iterator = body.makeAsyncIterator() }
        do {
            return try await iterator!.next()
        } catch {
            throw S3Error.bodyEndedEarly(error)
        }
    }
}

extension S3Error {
    /// A request body whose reading failed (the client closed the connection or the HTTP parser
    /// gave up mid-body) did not deliver the bytes its Content-Length announced: `IncompleteBody`,
    /// as S3 answers, rather than an internal error. An `S3Error`, so partial copies are removed.
    static func bodyEndedEarly(_ error: any Error) -> S3Error {
        if let s3 = error as? S3Error { return s3 }
        if let sigV4 = error as? SigV4Error { return S3Error(sigV4) }
        return S3Error(.incompleteBody, message: "The request body ended before the declared length was received.")
    }
}

struct DeleteMarkerError: Error {
    var error: S3Error
    var versionId: String
}
