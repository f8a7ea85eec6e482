/// The `DeleteObjects` response: `<DeleteResult>`.
///
/// In quiet mode only errors are rendered, as S3 does.
public struct DeleteResult: S3XMLEncodable, Hashable {
    /// A successfully deleted key (`<Deleted>`).
    public struct Deleted: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The version deleted, when a version was named.
        public var versionId: String?
        /// Whether a delete marker was involved (created, or the version deleted was one).
        public var deleteMarker: Bool?
        /// The version id of the delete marker created or deleted.
        public var deleteMarkerVersionId: String?

        /// Creates a deleted entry.
        public init(
            key: String,
            versionId: String? = nil,
            deleteMarker: Bool? = nil,
            deleteMarkerVersionId: String? = nil
        ) {
            self.key = key
            self.versionId = versionId
            self.deleteMarker = deleteMarker
            self.deleteMarkerVersionId = deleteMarkerVersionId
        }
    }

    /// A key that could not be deleted (`<Error>`).
    public struct Failure: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The version, when a version was named.
        public var versionId: String?
        /// The S3 error code, e.g. `AccessDenied`.
        public var code: String
        /// The error message.
        public var message: String

        /// Creates an error entry.
        public init(key: String, versionId: String? = nil, code: String, message: String) {
            self.key = key
            self.versionId = versionId
            self.code = code
            self.message = message
        }

        /// Creates an error entry from an ``S3Error``.
        public init(key: String, versionId: String? = nil, error: S3Error) {
            self.init(key: key, versionId: versionId, code: error.code.rawValue, message: error.message)
        }
    }

    /// Successfully deleted keys.
    public var deleted: [Deleted]
    /// Keys that failed.
    public var errors: [Failure]
    /// Quiet mode: omit `<Deleted>` entries.
    public var quiet: Bool

    /// Creates the response.
    public init(deleted: [Deleted] = [], errors: [Failure] = [], quiet: Bool = false) {
        self.deleted = deleted
        self.errors = errors
        self.quiet = quiet
    }

    public func write(to writer: inout XMLWriter) {
        writer.open("DeleteResult", namespace: S3XMLNamespace.uri)
        if !quiet {
            for entry in deleted {
                writer.open("Deleted")
                writer.element("Key", entry.key)
                writer.element("VersionId", ifPresent: entry.versionId)
                if let marker = entry.deleteMarker { writer.element("DeleteMarker", marker) }
                writer.element("DeleteMarkerVersionId", ifPresent: entry.deleteMarkerVersionId)
                writer.close("Deleted")
            }
        }
        for failure in errors {
            writer.open("Error")
            writer.element("Key", failure.key)
            writer.element("VersionId", ifPresent: failure.versionId)
            writer.element("Code", failure.code)
            writer.element("Message", failure.message)
            writer.close("Error")
        }
        writer.close("DeleteResult")
    }
}
