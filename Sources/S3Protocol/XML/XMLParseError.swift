/// Why a request body was rejected by ``S3XMLParser``.
///
/// Every parse failure maps to S3's `MalformedXML` via ``s3Error``.
public struct XMLParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The body is larger than the configured limit.
        case tooLarge
        /// The body is empty or contains only whitespace.
        case emptyDocument
        /// The body is not valid UTF-8 or contains a character XML 1.0 forbids.
        case invalidCharacter
        /// The XML declaration is malformed or names an encoding other than UTF-8.
        case invalidDeclaration
        /// A DOCTYPE, entity, element or attribute-list declaration was found.
        case doctypeNotAllowed
        /// An entity reference other than the five predefined ones.
        case undefinedEntity
        /// A numeric character reference that is malformed or names a forbidden character.
        case invalidCharacterReference
        /// An element or attribute name is not a valid (namespace-aware) XML name.
        case invalidName
        /// An end tag does not match the open element.
        case mismatchedTag
        /// The input ended inside markup or with elements still open.
        case unexpectedEndOfInput
        /// A character that cannot appear at this point.
        case unexpectedCharacter
        /// An attribute appears twice on one element.
        case duplicateAttribute
        /// An element has more attributes than the parser allows (32).
        case attributeLimitExceeded
        /// A comment contains `--` or is not terminated.
        case invalidComment
        /// More than one root element, or non-whitespace text outside the root element.
        case contentOutsideRootElement
        /// Nesting exceeds the configured depth limit.
        case depthLimitExceeded
        /// The document has more elements than the configured limit.
        case elementLimitExceeded
    }

    /// The kind of failure.
    public var kind: Kind
    /// Byte offset in the input where the failure was detected.
    public var offset: Int

    /// Creates an error.
    public init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// The S3 error to return: `MalformedXML` (or `MissingRequestBodyError` for an empty document).
    public var s3Error: S3Error {
        kind == .emptyDocument ? S3Error(.missingRequestBodyError) : S3Error(.malformedXML)
    }

    public var description: String { "XMLParseError(\(kind) at byte \(offset))" }
}
