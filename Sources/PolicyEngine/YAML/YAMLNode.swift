/// A YAML node as the strict loader produced it: every node knows where it was written.
public indirect enum YAMLNode: Sendable {
    case scalar(YAMLScalar)
    case mapping(YAMLMapping)
    case sequence(YAMLSequence)

    public var location: SourceLocation {
        switch self {
        case .scalar(let s): s.location
        case .mapping(let m): m.location
        case .sequence(let s): s.location
        }
    }

    /// A short name of the node's kind for messages ("a mapping", "a list", "a string").
    public var kindDescription: String {
        switch self {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

public struct YAMLScalar: Sendable {
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
    public var value: String
    public var style: Style
    public var location: SourceLocation

    /// A plain `null`, `~` or empty scalar.
    public var isNull: Bool {
        style == .plain && (value.isEmpty || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }
}

public struct YAMLMapping: Sendable {
    public struct Entry: Sendable {
        public var key: YAMLScalar
        public var value: YAMLNode
    }
    public var entries: [Entry]
    public var location: SourceLocation

    public subscript(key: String) -> YAMLNode? {
        entries.first { $0.key.value == key }?.value
    }
}

public struct YAMLSequence: Sendable {
    public var items: [YAMLNode]
    public var location: SourceLocation
}

/// One `---`-separated document of a file.
public struct YAMLDocument: Sendable {
    public var root: YAMLNode?
    public var location: SourceLocation
    /// 0-based index of the document within its file.
    public var index: Int
}
