/// An error from a ``MetadataStore``.
///
/// `description` is safe to show to a client (it never contains SQL, connection strings or
/// server internals); `debugDescription` adds the underlying database error for logs.
public struct MetadataError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, coarse enough for a caller to map to an HTTP status.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case alreadyExists
            case notFound
            case notEmpty
            case conflict
            case preconditionFailed
            case objectLocked
            case invalidArgument
            case unavailable
            case internalError
        }

        let base: Base

        /// The thing being created exists already (bucket name, storage id, upload id).
        public static let alreadyExists = Code(base: .alreadyExists)
        /// The bucket, version, upload, job or intent does not exist.
        public static let notFound = Code(base: .notFound)
        /// The bucket still holds versions, delete markers or multipart uploads.
        public static let notEmpty = Code(base: .notEmpty)
        /// A concurrent change or a violated constraint prevented the change; retrying may help.
        public static let conflict = Code(base: .conflict)
        /// A write precondition (`If-None-Match: *`, `If-Match`) did not hold (HTTP 412).
        public static let preconditionFailed = Code(base: .preconditionFailed)
        /// Object Lock (retention or legal hold) forbids the change (S3 `AccessDenied`).
        public static let objectLocked = Code(base: .objectLocked)
        /// The request itself is malformed (bad marker, negative limit, ...).
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The database cannot be reached or is overloaded; the gateway answers 503.
        public static let unavailable = Code(base: .unavailable)
        /// Anything else: a bug or an unexpected database state.
        public static let `internal` = Code(base: .internalError)

        public var description: String { base.rawValue }
    }

    /// The error's code.
    public var code: Code
    /// A message that is safe to show to a client.
    public var message: String
    /// Details for logs only (the underlying database error), never shown to a client.
    public var details: String?

    /// The constraint class of an underlying database error, so that an operation can turn a
    /// generic violation into its own meaning (a foreign-key failure on insert is "bucket not
    /// found", on a bucket delete "bucket not empty").
    var violation: Violation?

    enum Violation: Sendable, Hashable {
        case unique
        case foreignKey
        case check
    }

    public init(_ code: Code, _ message: String, details: String? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.violation = nil
    }

    init(_ code: Code, _ message: String, details: String?, violation: Violation?) {
        self.code = code
        self.message = message
        self.details = details
        self.violation = violation
    }

    public var description: String { "\(code): \(message)" }

    public var debugDescription: String {
        if let details { return "\(code): \(message) [\(details)]" }
        return description
    }

    /// The message of the `.conflict` a commit throws when the reconciler reclaimed its write
    /// intent (see ``MetadataStore/reclaimIntent(storageId:now:)``).
    static let reclaimedWriteMessage = "the write took too long: its intent was reclaimed and its data is being removed"

    /// Whether this is the commit refusal of a reclaimed write intent: the writer must remove
    /// the copies it made, since the reconciler may have cleaned up before they were finished.
    public var isReclaimedWrite: Bool { code == .conflict && message == Self.reclaimedWriteMessage }

    static func notFound(_ message: String) -> Self { .init(.notFound, message) }
    static func invalid(_ message: String) -> Self { .init(.invalidArgument, message) }
}
