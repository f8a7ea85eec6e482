/// An S3 error response: a code, a message and the extra elements S3 adds for context.
///
/// ```swift
/// throw S3Error(.noSuchKey, resource: "/bucket/photos/cat.jpg").adding("Key", "photos/cat.jpg")
/// ```
///
/// Render it with ``xmlBody(requestId:hostId:)``; send it with ``httpStatus``.
public struct S3Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// One extra element of the `<Error>` document, such as `<BucketName>` or `<ArgumentName>`.
    public struct Detail: Sendable, Hashable {
        /// The element name, e.g. `BucketName`.
        public var name: String
        /// The element's text.
        public var value: String

        /// Creates a detail element.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The error code, which also fixes the HTTP status.
    public var code: S3ErrorCode
    /// The human-readable message; defaults to ``S3ErrorCode/defaultMessage``.
    public var message: String
    /// The `<Resource>` element, when set (e.g. `/bucket/key`).
    public var resource: String?
    /// A request id to render when ``xmlBody(requestId:hostId:)`` is not given one.
    public var requestId: String?
    /// Extra elements rendered after `<Message>`, in order.
    public var details: [Detail]

    /// Creates an error with `code`, using its default message unless `message` is given.
    public init(
        _ code: S3ErrorCode,
        message: String? = nil,
        resource: String? = nil,
        requestId: String? = nil,
        details: [Detail] = []
    ) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.resource = resource
        self.requestId = requestId
        self.details = details
    }

    /// The HTTP status code for this error.
    public var httpStatus: Int { code.httpStatus }

    /// Returns a copy with one more detail element appended.
    public func adding(_ name: String, _ value: String) -> S3Error {
        var copy = self
        copy.details.append(Detail(name: name, value: value))
        return copy
    }

    /// The value of the first detail element named `name`.
    public subscript(detail name: String) -> String? {
        details.first { $0.name == name }?.value
    }

    public var description: String {
        var text = "\(code.rawValue) (\(httpStatus)): \(message)"
        for detail in details {
            text += " \(detail.name)=\(detail.value)"
        }
        return text
    }
}
