import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metadata
import NIOCore
import PolicyEngine
import S3Protocol
import SigV4

/// Multipart uploads, as one backend multipart upload per zone (see
/// `WriteCoordinator+Multipart`): CreateMultipartUpload starts an upload in each zone the plan
/// chooses and records their ids; each part goes to all of them (with the write quorum) and
/// records the zones' part ETags; completion lets every zone holding all parts join them, and
/// the zones that could not become `replicate` jobs, as for a PUT whose zone failed.
extension S3Handlers {
    static let minPartSize: Int64 = 5 * 1024 * 1024

    // MARK: CreateMultipartUpload

    func createMultipartUpload(_ bucketName: String, _ key: String) async throws -> Response {
        let bucket = try await requireBucket(bucketName)
        let tags = try (header("x-amz-tagging").map { try Tagging(headerValue: $0) } ?? Tagging()).tags.map { ObjectTag($0.key, $0.value) }
        let plan = try await allowedPlan(bucket: bucketName, key: key, tags: tags, operation: "CreateMultipartUpload")
        let lock = try requestedObjectLock(bucket)
        var checksum: S3ChecksumAlgorithm?
        if let name = header("x-amz-checksum-algorithm") {
            guard let algorithm = S3ChecksumAlgorithm(algorithmName: name) else {
                throw S3Error.invalidArgument("Checksum algorithm provided is unsupported.", name: "x-amz-checksum-algorithm", value: name)
            }
            checksum = algorithm
        }
        let now = Date()
        let storageId = GatewayState.newStorageId(now: now)
        let uploadId = GatewayState.newStorageId(now: now) + GatewayState.newStorageId(now: now).suffix(13)
        var upload = MultipartUpload(
            uploadId: uploadId, bucket: bucketName, key: key, storageId: storageId,
            backendKey: WriteIntent.backendKey(bucket: bucketName, key: key, storageId: storageId),
            initiatedAt: now, initiator: principal.accessKey, headers: objectHeaders(), userMetadata: try userMetadata(),
            tags: tags, checksumAlgorithm: checksum?.rawValue, checksumType: checksum == nil ? nil : .composite,
            placement: placementInfo(plan, now: now), retention: lock.retention, legalHold: lock.legalHold)
        try await startBackendUploads(&upload, plan: plan, now: now)
        _ = try? await store.appendLog(log("CreateMultipartUpload", bucket: bucketName, key: key, status: 200,
                                           zones: upload.backendUploads.keys.sorted(), detail: "upload \(uploadId)"))
        var response = Self.xml(InitiateMultipartUploadResult(
            bucket: bucketName, key: key, uploadId: uploadId, checksumAlgorithm: checksum?.rawValue,
            checksumType: checksum == nil ? nil : ChecksumType.composite.rawValue))
        if let checksum { response.headers[.init("x-amz-checksum-algorithm")!] = checksum.rawValue }
        return response
    }

    /// Starts the backend uploads and records the upload with their ids. A write intent for
    /// the upload's storage id comes first, so a crash before the upload is recorded leaves
    /// something the reconciler finds (it aborts the backend uploads of the key); recording the
    /// upload removes the intent in the same transaction.
    func startBackendUploads(_ upload: inout MultipartUpload, plan: PlacementPlan, now: Date) async throws {
        let coordinator = WriteCoordinator(state: state)
        try await store.recordIntent(WriteIntent(storageId: upload.storageId, bucket: upload.bucket, key: upload.key,
                                                 zones: coordinator.intentZones(for: plan),
                                                 backendKey: upload.backendKey, createdAt: now))
        do {
            upload.backendUploads = try await coordinator.createUploads(plan: plan, backendKey: upload.backendKey, logger: logger)
        } catch {
            try? await store.abandonIntent(storageId: upload.storageId)
            throw error
        }
        do {
            try await store.createUpload(upload)
        } catch {
            await coordinator.abortUploads(upload.backendUploads, backendKey: upload.backendKey)
            if (error as? MetadataError)?.isReclaimedWrite == true {
                throw S3Error(.serviceUnavailable, message: "Starting the upload took too long and was abandoned; retry it.")
            }
            try? await store.abandonIntent(storageId: upload.storageId)
            throw error
        }
    }

    func placementInfo(_ plan: PlacementPlan, now: Date) -> PlacementInfo {
        PlacementInfo(
            policySetHash: plan.policySetHash, residencyPolicies: plan.residencyPolicies,
            replicationPolicy: plan.replicationPolicy?.metadata.name, plannedZones: plan.zones.map(\.code),
            requiredCopies: plan.copies, writeQuorum: plan.writeQuorum,
            replicationDeadline: plan.replicationDeadlineSeconds.map { now.addingTimeInterval(TimeInterval($0)) })
    }

    /// The upload named by `uploadId`, which must belong to this bucket and key.
    func requireUpload(_ bucket: String, _ key: String) async throws -> MultipartUpload {
        _ = try await requireBucket(bucket)
        guard let id = call.value("uploadId"), let upload = try await store.upload(id: id),
              upload.bucket == bucket, upload.key == key else {
            throw S3Error.noSuchUpload(call.value("uploadId") ?? "")
        }
        return upload
    }

    func partNumber() throws -> Int {
        let text = call.value("partNumber") ?? ""
        guard let n = Int(text), (1...10_000).contains(n) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: text)
        }
        return n
    }

    // MARK: UploadPart / UploadPartCopy

    func uploadPart(_ bucket: String, _ key: String) async throws -> Response {
        let number = try partNumber()
        let upload = try await requireUpload(bucket, key)
        if header("x-amz-copy-source") != nil { return try await uploadPartCopy(upload, number) }
        let declaredLength = try self.declaredLength()
        if let declaredLength, declaredLength > 5 * 1024 * 1024 * 1024 {
            throw S3Error.entityTooLarge(proposedSize: declaredLength, maxSizeAllowed: 5 * 1024 * 1024 * 1024)
        }
        let (body, chunked) = try decodedBody()
        let declared = S3ChecksumAlgorithm.declared(in: headerList)
        let algorithm = declared?.algorithm ?? upload.checksumAlgorithm.flatMap { S3ChecksumAlgorithm(algorithmName: $0) }
        let part = try await storePart(upload, number, body: body, expectedSize: declaredLength, checksum: algorithm) { outcome in
            try verifyBody(outcome, declaredChecksum: declared?.value, chunked: chunked)
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(part.etag)\""
        for (name, value) in part.checksums { if let field = HTTPField.Name(name) { headers[field] = value } }
        return Self.empty(headers: headers)
    }

    func uploadPartCopy(_ upload: MultipartUpload, _ number: Int) async throws -> Response {
        let source = try CopySource(headerValue: header("x-amz-copy-source") ?? "")
        _ = try await requireBucket(source.bucket)
        let src: ObjectVersion
        if let versionId = source.versionId {
            guard let v = try await store.version(bucket: source.bucket, key: source.key, versionId: versionId), !v.isDeleteMarker else {
                throw S3Error.noSuchVersion(key: source.key, versionId: versionId)
            }
            src = v
        } else {
            guard let v = try await store.latestVersion(bucket: source.bucket, key: source.key), !v.isDeleteMarker else {
                throw S3Error.noSuchKey(source.key)
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
        var range: ClosedRange<Int64>?
        if let text = header("x-amz-copy-source-range") {
            let resolved = try CopySourceRange(headerValue: text).resolve(sourceSize: src.size)
            range = resolved.first...resolved.last
        }
        let size = range.map { $0.upperBound - $0.lowerBound + 1 } ?? src.size
        if size > 5 * 1024 * 1024 * 1024 {
            throw S3Error.entityTooLarge(proposedSize: size, maxSizeAllowed: 5 * 1024 * 1024 * 1024)
        }
        let body: BackendReadStream = size == 0
            ? BackendReadStream { nil }
            : try await ReadPath(state: state).open(src, range: range, logger: logger)
        let algorithm = upload.checksumAlgorithm.flatMap { S3ChecksumAlgorithm(algorithmName: $0) }
        let part = try await storePart(upload, number, body: body, expectedSize: size, checksum: algorithm)
        var response = Self.xml(CopyPartResult(lastModified: part.createdAt, eTag: "\"\(part.etag)\""))
        if src.versionId != nullVersionID { response.headers[.amzCopySourceVersionID] = src.versionId }
        return response
    }

    /// Streams one part to the upload's backend uploads (with the write quorum) and records
    /// it with the zones' part ETags; a part with the same number is replaced in the backends
    /// by the upload itself. Not recorded when fewer than the quorum took it.
    func storePart(
        _ upload: MultipartUpload, _ number: Int, body: some AsyncSequence<ByteBuffer, any Error>, expectedSize: Int64?,
        checksum: S3ChecksumAlgorithm?, check: (WriteCoordinator.Outcome) throws -> Void = { _ in }
    ) async throws -> MultipartPart {
        let coordinator = WriteCoordinator(state: state)
        let now = Date()
        let (outcome, etags) = try await coordinator.writePart(
            body: body, uploads: upload.backendUploads, order: upload.placement.plannedZones, backendKey: upload.backendKey,
            partNumber: number, quorum: max(1, upload.placement.writeQuorum), expectedSize: expectedSize, checksum: checksum,
            check: check, logger: logger)
        let part = MultipartPart(
            uploadId: upload.uploadId, partNumber: number, size: outcome.size, etag: Array(outcome.md5).hexString,
            checksums: outcome.checksum.map { [$0.algorithm.headerName: Data($0.value).base64EncodedString()] } ?? [:],
            backendETags: etags, createdAt: now)
        do {
            _ = try await store.putPart(part)
        } catch let error as MetadataError where error.code == .notFound {
            // Aborted or completed meanwhile: a part that reached a backend upload after its
            // abort could keep it alive, so the abort is repeated.
            await coordinator.abortUploads(upload.backendUploads, backendKey: upload.backendKey)
            throw S3Error.noSuchUpload(upload.uploadId)
        }
        return part
    }

    func allParts(_ uploadId: String) async throws -> [MultipartPart] {
        var parts: [MultipartPart] = []
        var marker: Int?
        while true {
            let page: PartListing
            do {
                page = try await store.listParts(uploadId: uploadId, partNumberMarker: marker, maxParts: 1000)
            } catch let error as MetadataError where error.code == .notFound {
                throw S3Error.noSuchUpload(uploadId)
            }
            parts += page.parts
            guard page.isTruncated, let next = page.nextPartNumberMarker else { return parts }
            marker = next
        }
    }

    // MARK: CompleteMultipartUpload

    func completeMultipartUpload(_ bucketName: String, _ key: String) async throws -> Response {
        let upload = try await requireUpload(bucketName, key)
        let bucket = try await requireBucket(bucketName)
        let request = try CompleteMultipartUploadRequest.decode(try await smallBody(limit: 8 << 20))
        let stored = Dictionary(try await allParts(upload.uploadId).map { ($0.partNumber, $0) }, uniquingKeysWith: { a, _ in a })
        var parts: [MultipartPart] = []
        for (i, requested) in request.parts.enumerated() {
            if let previous = request.parts[..<i].last, previous.partNumber >= requested.partNumber {
                throw S3Error(.invalidPartOrder)
            }
            guard let part = stored[requested.partNumber], part.etag == requested.unquotedETag else {
                throw S3Error.invalidPart(partNumber: requested.partNumber, eTag: requested.eTag)
            }
            parts.append(part)
        }
        for part in parts.dropLast() where part.size < Self.minPartSize {
            throw S3Error.entityTooSmall(proposedSize: part.size, minSizeAllowed: Self.minPartSize)
        }
        let plan = try await allowedPlan(bucket: bucketName, key: key, tags: upload.tags, operation: "CompleteMultipartUpload")
        let precondition = try writePrecondition()
        try await checkWritePrecondition(precondition, bucket: bucketName, key: key)
        let now = Date()
        let total = parts.reduce(Int64(0)) { $0 + $1.size }
        let retention = Self.strongestRetention([
            upload.retention, Self.defaultRetention(bucket, now: now), Self.policyFloor(plan, createdAt: now),
        ])
        let coordinator = WriteCoordinator(state: state)
        // Only zones the current plan may still use join the object.
        let eligible = Set(plan.eligibleZones.map(\.code))
        let uploads = upload.backendUploads.filter { eligible.contains($0.key) }
        let quorum = plan.writeQuorum
        let holding = uploads.keys.filter { zone in parts.allSatisfy { $0.backendETags[zone] != nil } }
        guard holding.count >= quorum else {
            throw S3Error(.serviceUnavailable, message: "only \(holding.count) zones hold every part; the write quorum is \(quorum). Upload the parts again.")
        }
        // A zone that completes but is not counted (below the quorum) keeps its object: a retry
        // finds it there (the backend upload is gone, the object has the size), an abort removes it.
        let completed = await coordinator.completeUploads(uploads, parts: parts, backendKey: upload.backendKey, size: total,
                                                          lock: BackendObjectLock(retention: retention, legalHold: upload.legalHold),
                                                          logger: logger)
        guard completed.count >= quorum else {
            throw coordinator.quorumFailure("only \(completed.count) zones completed the upload; the write quorum is \(quorum). Retry it.")
        }
        let order = plan.zones.map(\.code) + upload.placement.plannedZones
        let written = completed.keys.sorted { (order.firstIndex(of: $0) ?? Int.max, $0) < (order.firstIndex(of: $1) ?? Int.max, $1) }
        // The copies still missing come from the replication worker, as for a PUT whose zone failed.
        let missing = Array((plan.zones.map(\.code) + upload.backendUploads.keys.sorted()).filter { !completed.keys.contains($0) }
            .uniqued().prefix(max(0, plan.copies - written.count)))
        let etag = S3MultipartChecksum.multipartETag(partMD5s: parts.map { Self.hexBytes($0.etag) })
        var checksums = ObjectChecksums()
        if let name = upload.checksumAlgorithm, let algorithm = S3ChecksumAlgorithm(algorithmName: name) {
            let values = parts.compactMap { $0.checksums[algorithm.headerName] }
            if values.count == parts.count, let composite = try? S3MultipartChecksum.composite(algorithm, partChecksumsBase64: values) {
                checksums = ObjectChecksums([algorithm.headerName: composite], type: .composite)
            }
        }
        let versionId = Self.versionId(plan: plan, bucket: bucket, storageId: upload.storageId)
        let version = ObjectVersion(
            storageId: upload.storageId, versionId: versionId, bucket: bucketName, key: key, size: total,
            etag: etag, headers: upload.headers, userMetadata: upload.userMetadata, tags: upload.tags,
            checksums: checksums, partsCount: parts.count, createdAt: now, placement: placementInfo(plan, now: now),
            retention: retention, legalHold: upload.legalHold)
        let replicas = written.map { CommitReplica(zone: $0, status: .complete, backendKey: upload.backendKey, etag: completed[$0] ?? nil) }
            + missing.map { CommitReplica(zone: $0, status: .pending, backendKey: upload.backendKey) }
        let result: CommitResult
        do {
            result = try await store.completeUpload(id: upload.uploadId, commit: VersionCommit(
                version: version, replicas: replicas, precondition: precondition,
                log: log("CompleteMultipartUpload", bucket: bucketName, key: key, versionId: versionId, status: 200,
                         zones: written, bytes: total, detail: "upload \(upload.uploadId), \(parts.count) parts")))
        } catch let error as MetadataError where error.code == .notFound {
            // Aborted meanwhile: the abort's jobs remove the completed objects.
            throw S3Error.noSuchUpload(upload.uploadId)
        } catch let error as MetadataError where error.code == .preconditionFailed {
            // Another write of the key committed after the check above, and the zones have
            // already assembled this object: the upload cannot be completed again, so it is
            // aborted, which removes those objects (as S3 asks the client to start over).
            if let aborted = try? await store.abortUpload(id: upload.uploadId) {
                await runAbortJobs(aborted.jobs, upload: aborted.upload)
            }
            throw S3Error.preconditionFailed(condition: precondition.headerName)
        }
        if !missing.isEmpty { state.metrics.recordWriteBelowPlannedCopies() }
        // The zones that did not complete still hold their backend uploads.
        await runAbortJobs(result.abortJobs, upload: upload)
        await removeReplicas(result.deleteJobs)
        let location = "/\(bucketName)/\(S3URLEncoding.encode(key, preserveSlash: true))"
        var response = Self.xml(CompleteMultipartUploadResult(
            location: location, bucket: bucketName, key: key, eTag: "\"\(etag)\"",
            checksums: Self.s3Checksums(checksums)))
        if result.version.versionId != nullVersionID || bucket.versioning == .suspended {
            response.headers[.amzVersionID] = result.version.versionId
        }
        return response
    }

    static func s3Checksums(_ c: ObjectChecksums) -> S3Checksums {
        S3Checksums(crc32: c.values["x-amz-checksum-crc32"], crc32c: c.values["x-amz-checksum-crc32c"],
                    crc64nvme: c.values["x-amz-checksum-crc64nvme"], sha1: c.values["x-amz-checksum-sha1"],
                    sha256: c.values["x-amz-checksum-sha256"], type: c.type?.rawValue)
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: 0
            }
        }
        while let hi = iterator.next(), let lo = iterator.next() { out.append(nibble(hi) << 4 | nibble(lo)) }
        return out
    }

    // MARK: AbortMultipartUpload

    /// Runs the `abortUpload` jobs a completion or an abort queued, at once; a job for a zone
    /// that is down, or that fails, stays queued for the replication worker.
    func runAbortJobs(_ jobs: [SyncJob], upload: MultipartUpload) async {
        let coordinator = WriteCoordinator(state: state)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs where state.isHealthy(job.zone) {
                group.addTask {
                    do {
                        try await coordinator.runAbortJob(job, uploadId: upload.backendUploads[job.zone])
                    } catch {
                        logger.warning("backend upload abort deferred", metadata: ["zone": "\(job.zone)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    func abortMultipartUpload(_ bucket: String, _ key: String) async throws -> Response {
        let upload = try await requireUpload(bucket, key)
        let aborted: AbortedUpload
        do {
            aborted = try await store.abortUpload(id: upload.uploadId)
        } catch let error as MetadataError where error.code == .notFound {
            throw S3Error.noSuchUpload(upload.uploadId)
        }
        await runAbortJobs(aborted.jobs, upload: aborted.upload)
        _ = try? await store.appendLog(log("AbortMultipartUpload", bucket: bucket, key: key, status: 204,
                                           detail: "upload \(upload.uploadId), \(aborted.parts.count) parts"))
        return Self.empty(.noContent)
    }

    // MARK: ListParts / ListMultipartUploads

    func listParts(_ bucket: String, _ key: String) async throws -> Response {
        let upload = try await requireUpload(bucket, key)
        var maxParts = 1000
        if let text = call.value("max-parts") {
            guard let n = Int(text), n >= 0 else {
                throw S3Error.invalidArgument("Provided max-parts not an integer or within integer range", name: "max-parts", value: text)
            }
            maxParts = min(n, 1000)
        }
        var marker: Int?
        if let text = call.value("part-number-marker") {
            guard let n = Int(text), n >= 0 else {
                throw S3Error.invalidArgument("Provided part-number-marker not an integer or within integer range",
                                              name: "part-number-marker", value: text)
            }
            marker = n
        }
        let listing: PartListing
        do {
            listing = try await store.listParts(uploadId: upload.uploadId, partNumberMarker: marker, maxParts: maxParts)
        } catch let error as MetadataError where error.code == .notFound {
            throw S3Error.noSuchUpload(upload.uploadId)
        }
        let owner = S3Owner(id: upload.initiator, displayName: upload.initiator)
        return Self.xml(ListPartsResult(
            bucket: bucket, key: key, uploadId: upload.uploadId, initiator: owner, owner: owner,
            partNumberMarker: marker ?? 0, nextPartNumberMarker: listing.nextPartNumberMarker, maxParts: maxParts,
            isTruncated: listing.isTruncated,
            parts: listing.parts.map { p in
                .init(partNumber: p.partNumber, lastModified: p.createdAt, eTag: "\"\(p.etag)\"", size: p.size,
                      checksums: Self.s3Checksums(ObjectChecksums(p.checksums)))
            },
            checksumAlgorithm: upload.checksumAlgorithm, checksumType: upload.checksumType?.rawValue))
    }

    func listMultipartUploads(_ name: String) async throws -> Response {
        _ = try await requireBucket(name)
        let prefix = call.value("prefix") ?? ""
        let delimiter = call.value("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        var maxUploads = 1000
        if let text = call.value("max-uploads") {
            guard let n = Int(text), n >= 0 else {
                throw S3Error.invalidArgument("Provided max-uploads not an integer or within integer range", name: "max-uploads", value: text)
            }
            maxUploads = min(n, 1000)
        }
        let keyMarker = call.value("key-marker").flatMap { $0.isEmpty ? nil : $0 }
        let uploadIdMarker = call.value("upload-id-marker").flatMap { $0.isEmpty ? nil : $0 }
        let listing = maxUploads == 0
            ? UploadListing(uploads: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: nil, nextUploadIdMarker: nil)
            : try await store.listUploads(ListUploadsRequest(bucket: name, prefix: prefix, delimiter: delimiter,
                                                             keyMarker: keyMarker, uploadIdMarker: uploadIdMarker,
                                                             maxUploads: maxUploads))
        return Self.xml(ListMultipartUploadsResult(
            bucket: name, keyMarker: keyMarker ?? "", uploadIdMarker: uploadIdMarker ?? "",
            nextKeyMarker: listing.nextKeyMarker, nextUploadIdMarker: listing.nextUploadIdMarker,
            delimiter: delimiter, prefix: prefix, maxUploads: maxUploads, isTruncated: listing.isTruncated,
            encodingTypeURL: try encodingTypeURL,
            uploads: listing.uploads.map { u in
                let owner = S3Owner(id: u.initiator, displayName: u.initiator)
                return .init(key: u.key, uploadId: u.uploadId, initiator: owner, owner: owner, initiated: u.initiatedAt,
                             checksumAlgorithm: u.checksumAlgorithm, checksumType: u.checksumType?.rawValue)
            },
            commonPrefixes: listing.commonPrefixes))
    }
}
