import Foundation
import Hummingbird
import Metadata
import S3Protocol

extension S3Handlers {
    var maxKeys: Int {
        get throws {
            guard let text = call.value("max-keys") else { return 1000 }
            guard let n = Int(text), n >= 0 else {
                throw S3Error.invalidArgument("Provided max-keys not an integer or within integer range", name: "max-keys", value: text)
            }
            return min(n, 1000)
        }
    }

    var encodingTypeURL: Bool {
        get throws {
            guard let type = call.value("encoding-type") else { return false }
            guard type == "url" else {
                throw S3Error.invalidArgument("Invalid Encoding Method specified in Request", name: "encoding-type", value: type)
            }
            return true
        }
    }

    func listed(_ v: ObjectVersion) -> ListedObject {
        ListedObject(key: v.key, lastModified: v.createdAt, eTag: "\"\(v.etag)\"", size: v.size,
                     owner: S3Owner(id: principal.accessKey, displayName: principal.accessKey))
    }

    func listObjectsV2(_ name: String) async throws -> Response {
        _ = try await requireBucket(name)
        let prefix = call.value("prefix") ?? ""
        let delimiter = call.value("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        let token = call.value("continuation-token")
        var startAfter = call.value("start-after")
        if let token {
            guard let decoded = ContinuationToken.decode(token) else {
                throw S3Error.invalidArgument("The continuation token provided is incorrect", name: "continuation-token", value: token)
            }
            startAfter = decoded
        }
        let max = try maxKeys
        let listing = max == 0
            ? ObjectListing(objects: [], commonPrefixes: [], isTruncated: false, nextMarker: nil)
            : try await store.listObjects(ListObjectsRequest(bucket: name, prefix: prefix, delimiter: delimiter,
                                                               startAfter: startAfter, maxKeys: max))
        return Self.xml(ListObjectsV2Result(
            name: name, prefix: prefix, continuationToken: token,
            nextContinuationToken: listing.isTruncated ? listing.nextMarker.map(ContinuationToken.encode) : nil,
            maxKeys: max, delimiter: delimiter, encodingTypeURL: try encodingTypeURL, isTruncated: listing.isTruncated,
            startAfter: call.value("start-after"), contents: listing.objects.map(listed),
            commonPrefixes: listing.commonPrefixes))
    }

    func listObjectsV1(_ name: String) async throws -> Response {
        _ = try await requireBucket(name)
        let prefix = call.value("prefix") ?? ""
        let delimiter = call.value("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        let marker = call.value("marker") ?? ""
        let max = try maxKeys
        let listing = max == 0
            ? ObjectListing(objects: [], commonPrefixes: [], isTruncated: false, nextMarker: nil)
            : try await store.listObjects(ListObjectsRequest(bucket: name, prefix: prefix, delimiter: delimiter,
                                                               startAfter: marker.isEmpty ? nil : marker, maxKeys: max))
        return Self.xml(ListObjectsResult(
            name: name, prefix: prefix, marker: marker,
            nextMarker: listing.isTruncated && delimiter != nil ? listing.nextMarker : nil,
            maxKeys: max, delimiter: delimiter, encodingTypeURL: try encodingTypeURL,
            isTruncated: listing.isTruncated, contents: listing.objects.map(listed),
            commonPrefixes: listing.commonPrefixes))
    }

    func listObjectVersions(_ name: String) async throws -> Response {
        _ = try await requireBucket(name)
        let prefix = call.value("prefix") ?? ""
        let delimiter = call.value("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        let keyMarker = call.value("key-marker")
        let versionIdMarker = call.value("version-id-marker")
        let max = try maxKeys
        let listing = try await store.listVersions(ListVersionsRequest(
            bucket: name, prefix: prefix, delimiter: delimiter, keyMarker: keyMarker,
            versionIdMarker: versionIdMarker, maxKeys: max))
        let owner = S3Owner(id: principal.accessKey, displayName: principal.accessKey)
        let entries: [ListVersionsResult.Entry] = listing.versions.map { v in
            v.isDeleteMarker
                ? .deleteMarker(.init(key: v.key, versionId: v.versionId, isLatest: v.isLatest, lastModified: v.createdAt, owner: owner))
                : .version(.init(key: v.key, versionId: v.versionId, isLatest: v.isLatest, lastModified: v.createdAt,
                                 eTag: "\"\(v.etag)\"", size: v.size, owner: owner))
        }
        return Self.xml(ListVersionsResult(
            name: name, prefix: prefix, keyMarker: keyMarker ?? "", versionIdMarker: versionIdMarker ?? "",
            nextKeyMarker: listing.nextKeyMarker, nextVersionIdMarker: listing.nextVersionIdMarker,
            maxKeys: max, delimiter: delimiter, encodingTypeURL: try encodingTypeURL,
            isTruncated: listing.isTruncated, entries: entries, commonPrefixes: listing.commonPrefixes))
    }
}

/// ListObjectsV2 continuation tokens: the last key, base64url-encoded (opaque to clients).
enum ContinuationToken {
    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    static func decode(_ token: String) -> String? {
        let b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard let data = Data(base64Encoded: b64) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
