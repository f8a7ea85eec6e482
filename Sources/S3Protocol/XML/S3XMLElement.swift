/// An element of a parsed XML request body.
///
/// Named `S3XMLElement` rather than `XMLElement` to avoid clashing with Foundation's type on Apple platforms.
public struct S3XMLElement: Sendable, Hashable {
    /// An attribute as written; namespace declarations (`xmlns`, `xmlns:p`) are included.
    public struct Attribute: Sendable, Hashable {
        /// The qualified attribute name, e.g. `xmlns` or `xsi:type`.
        public var name: String
        /// The attribute value with references resolved.
        public var value: String

        /// Creates an attribute.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The local name (the part after any `prefix:`); decoders match on this.
    public var name: String
    /// The namespace prefix, if the element had one.
    public var prefix: String?
    /// Attributes in document order.
    public var attributes: [Attribute]
    /// Child elements in document order.
    public var children: [S3XMLElement]
    /// All character data directly inside this element (CDATA included), concatenated.
    public var text: String

    /// Creates an element.
    public init(
        name: String,
        prefix: String? = nil,
        attributes: [Attribute] = [],
        children: [S3XMLElement] = [],
        text: String = ""
    ) {
        self.name = name
        self.prefix = prefix
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child with local name `name`.
    public func child(_ name: String) -> S3XMLElement? {
        children.first { $0.name == name }
    }

    /// All children with local name `name`.
    public func children(named name: String) -> [S3XMLElement] {
        children.filter { $0.name == name }
    }

    /// The value of the attribute named `name` (qualified name as written).
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// ``text`` without leading and trailing XML whitespace (space, tab, CR, LF).
    public var trimmedText: String {
        let utf8 = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }),
              let last = utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }
}
