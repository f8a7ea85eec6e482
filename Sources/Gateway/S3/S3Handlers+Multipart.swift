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

/// Multipart uploads. Each part is written (with the write quorum) to the upload's planned
/// zones under its own write-once key `<bucket>/<key>/<storageId>.parts/<uploadId>/<n>-<random>`;
/// a part's `backendETags` maps each zone holding it to that key. Completion streams the parts
/// in order through the write coordinator into the version's key (or, where a zone holds every
/// part, lets the zone join them itself: S3 backends copy server-side), commits, then removes the parts.
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
        let upload = MultipartUpload(
            uploadId: uploadId, bucket: bucketName, key: key, storageId: storageId,
            backendKey: GatewayState.backendKey(bucket: bucketName, key: key, storageId: storageId),
            initiatedAt: now, initiator: principal.accessKey, headers: objectHeaders(), userMetadata: try userMetadata(),
            tags: tags, checksumAlgorithm: checksum?.rawValue, checksumType: checksum == nil ? nil : .composite,
            placement: placementInfo(plan, now: now), retention: lock.retention, legalHold: lock.legalHold)
        try await store.createUpload(upload)
        _ = try? await store.appendLog(log("CreateMultipartUpload", bucket: bucketName, key: key, status: 200,
                                           zones: plan.zones.map(\.code), detail: "upload \(uploadId)"))
        var response = Self.xml(InitiateMultipartUploadResult(
            bucket: bucketName, key: key, uploadId: uploadId, checksumAlgorithm: checksum?.rawValue,
            checksumType: checksum == nil ? nil : ChecksumType.composite.rawValue))
        if let checksum { response.headers[.init("x-amz-checksum-algorithm")!] = checksum.rawValue }
        return response
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
        if src.versionId != nullVersionID { response.headers[.init("x-amz-copy-source-version-id")!] = src.versionId }
        return response
    }

    /// Writes one part to the upload's zones (with the write quorum) and records it; the part it
    /// replaces, if any, is removed from the backends afterwards.
    func storePart(
        _ upload: MultipartUpload, _ number: Int, body: some AsyncSequence<ByteBuffer, any Error>, expectedSize: Int64?,
        checksum: S3ChecksumAlgorithm?, check: (WriteCoordinator.Outcome) throws -> Void = { _ in }
    ) async throws -> MultipartPart {
        let plan = try await allowedPlan(bucket: upload.bucket, key: upload.key, tags: upload.tags, operation: "UploadPart")
        let now = Date()
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let partKey = "\(upload.backendKey).parts/\(upload.uploadId)/\(number)-\(random)"
        // A crash mid-write leaves an intent the reconciler cleans up.
        let intentId = "\(upload.storageId).part.\(number)-\(random)"
        try await store.recordIntent(WriteIntent(storageId: intentId, bucket: upload.bucket, key: upload.key,
                                                 zones: WriteCoordinator(state: state).intentZones(for: plan),
                                                 backendKey: partKey, createdAt: now))
        let outcome: WriteCoordinator.Outcome
        do {
            outcome = try await WriteCoordinator(state: state).write(
                body: body, plan: plan, backendKey: partKey, expectedSize: expectedSize, checksum: checksum, logger: logger)
            try check(outcome)
        } catch {
            if let s3 = error as? S3Error, s3.code != .serviceUnavailable {
                for zone in plan.zones.map(\.code) { try? await state.backends[zone]?.delete(key: partKey) }
            }
            try? await store.abandonIntent(storageId: intentId)
            throw error
        }
        let part = MultipartPart(
            uploadId: upload.uploadId, partNumber: number, size: outcome.size, etag: Array(outcome.md5).hexString,
            checksums: outcome.checksum.map { [$0.algorithm.headerName: Data($0.value).base64EncodedString()] } ?? [:],
            backendETags: Dictionary(uniqueKeysWithValues: outcome.written.map { ($0, partKey) }), createdAt: now)
        let previous: MultipartPart?
        do {
            previous = try await store.putPart(part)
        } catch let error as MetadataError where error.code == .notFound {
            await deletePartObjects([part], of: upload)
            try? await store.abandonIntent(storageId: intentId)
            throw S3Error.noSuchUpload(upload.uploadId)
        }
        try? await store.abandonIntent(storageId: intentId)
        if let previous { await deletePartObjects([previous], of: upload) }
        return part
    }

    /// Removes part objects after the metadata no longer names them; a delete that fails
    /// becomes a `delete` sync job, so no part is left behind when a zone is down.
    func deletePartObjects(_ parts: [MultipartPart], of upload: MultipartUpload) async {
        var deferred: [NewSyncJob] = []
        for part in parts {
            for (zone, key) in part.backendETags {
                do {
                    try await state.backends[zone]?.delete(key: key)
                } catch {
                    logger.warning("part delete deferred", metadata: ["zone": "\(zone)", "key": "\(key)", "error": "\(error)"])
                    // Its own storage id: the job must not touch the version's replica rows.
                    deferred.append(NewSyncJob(kind: .delete, storageId: "\(upload.storageId).part.\(part.partNumber)",
                                               zone: zone, bucket: upload.bucket, key: upload.key, backendKey: key,
                                               notBefore: Date()))
                }
            }
        }
        if !deferred.isEmpty {
            do {
                _ = try await store.enqueueJobs(deferred, now: Date())
            } catch {
                logger.warning("part delete jobs could not be queued", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Streams a part's bytes from the first healthy zone that holds it, in plan order.
    func openPart(_ part: MultipartPart, order: [String]) async throws -> BackendReadStream {
        let zones = part.backendETags.keys.sorted { (order.firstIndex(of: $0) ?? Int.max, $0) < (order.firstIndex(of: $1) ?? Int.max, $1) }
        for zone in zones where state.isHealthy(zone) {
            guard let backend = state.backends[zone], let key = part.backendETags[zone] else { continue }
            do {
                return try await backend.read(key: key, range: nil)
            } catch {
                logger.warning("part read failed, trying the next zone", metadata: ["zone": "\(zone)", "error": "\(error)"])
            }
        }
        throw S3Error(.serviceUnavailable, message: "No copy of part \(part.partNumber) is readable right now.")
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
        let now = Date()
        let total = parts.reduce(Int64(0)) { $0 + $1.size }
        try await store.recordIntent(WriteIntent(storageId: upload.storageId, bucket: bucketName, key: key,
                                                 zones: WriteCoordinator(state: state).intentZones(for: plan),
                                                 backendKey: upload.backendKey, createdAt: now))
        let order = upload.placement.plannedZones
        let reader = ConcatenatedParts(parts: parts) { part in try await self.openPart(part, order: order) }
        let retention = Self.strongestRetention([
            upload.retention, Self.defaultRetention(bucket, now: now), Self.policyFloor(plan, createdAt: now),
        ])
        let coordinator = WriteCoordinator(state: state)
        let lock = BackendObjectLock(retention: retention, legalHold: upload.legalHold)
        // Zones holding every part join them themselves; otherwise the parts stream through.
        let outcome: WriteCoordinator.Placed
        if let assembled = await coordinator.assemble(parts: parts.map { ($0.backendETags, $0.size) }, plan: plan,
                                                      backendKey: upload.backendKey, lock: lock, logger: logger) {
            outcome = assembled
        } else {
            do {
                let streamed = try await coordinator.write(
                    body: AsyncThrowingStream(unfolding: { try await reader.next() }), plan: plan,
                    backendKey: upload.backendKey, expectedSize: total, checksum: nil, lock: lock, logger: logger)
                let md5 = Array(streamed.md5).hexString
                outcome = .init(written: streamed.written, missing: streamed.missing,
                                etags: Dictionary(uniqueKeysWithValues: streamed.written.map { ($0, md5) }))
            } catch {
                if let s3 = error as? S3Error, s3.code != .serviceUnavailable {
                    for zone in plan.zones.map(\.code) { try? await state.backends[zone]?.delete(key: upload.backendKey) }
                }
                try? await store.abandonIntent(storageId: upload.storageId)
                throw error
            }
        }
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
        let replicas = outcome.written.map { CommitReplica(zone: $0, status: .complete, backendKey: upload.backendKey, etag: outcome.etags[$0]) }
            + outcome.missing.map { CommitReplica(zone: $0, status: .pending, backendKey: upload.backendKey) }
        let result: CommitResult
        do {
            result = try await store.completeUpload(id: upload.uploadId, commit: VersionCommit(
                version: version, replicas: replicas,
                log: log("CompleteMultipartUpload", bucket: bucketName, key: key, versionId: versionId, status: 200,
                         zones: outcome.written, bytes: total, detail: "upload \(upload.uploadId), \(parts.count) parts")))
        } catch let error as MetadataError where error.code == .notFound {
            for zone in outcome.written { try? await state.backends[zone]?.delete(key: upload.backendKey) }
            try? await store.abandonIntent(storageId: upload.storageId)
            throw S3Error.noSuchUpload(upload.uploadId)
        } catch let error as MetadataError where error.isReclaimedWrite {
            // The reconciler gave this write up while it was still streaming: nothing committed.
            for zone in outcome.written { try? await state.backends[zone]?.delete(key: upload.backendKey) }
            throw S3Error(.serviceUnavailable, message: "The write took too long and was abandoned; retry it.")
        }
        // Every part of the upload (listed or not) is gone from the metadata: remove the data.
        await deletePartObjects(Array(stored.values), of: upload)
        await removeReplicas(result.deleteJobs)
        let location = "/\(bucketName)/\(S3URLEncoding.encode(key, preserveSlash: true))"
        var response = Self.xml(CompleteMultipartUploadResult(
            location: location, bucket: bucketName, key: key, eTag: "\"\(etag)\"",
            checksums: Self.s3Checksums(checksums)))
        if result.version.versionId != nullVersionID || bucket.versioning == .suspended {
            response.headers[.init("x-amz-version-id")!] = result.version.versionId
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

    func abortMultipartUpload(_ bucket: String, _ key: String) async throws -> Response {
        let upload = try await requireUpload(bucket, key)
        let aborted: AbortedUpload
        do {
            aborted = try await store.abortUpload(id: upload.uploadId)
        } catch let error as MetadataError where error.code == .notFound {
            throw S3Error.noSuchUpload(upload.uploadId)
        }
        await deletePartObjects(aborted.parts, of: upload)
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

/// The parts' bytes one after the other, each part opened only when the previous one is done.
final class ConcatenatedParts: @unchecked Sendable {
    // Pulled by one task at a time (the write coordinator's loop).
    private var remaining: [MultipartPart]
    private var current: BackendReadStream.AsyncIterator?
    private let open: @Sendable (MultipartPart) async throws -> BackendReadStream

    init(parts: [MultipartPart], open: @escaping @Sendable (MultipartPart) async throws -> BackendReadStream) {
        remaining = parts
        self.open = open
    }

    func next() async throws -> ByteBuffer? {
        while true {
            if current != nil {
                if let buffer = try await current!.next() {
                    if buffer.readableBytes > 0 { return buffer }
                    continue
                }
                current = nil
            }
            guard !remaining.isEmpty else { return nil }
            let part = remaining.removeFirst()
            if part.size == 0 { continue }
            current = try await open(part).makeAsyncIterator()
        }
    }
}
