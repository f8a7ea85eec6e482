import CYAML

/// Reads YAML through libyaml's event API into `YAMLNode` trees, applying the strict profile:
/// duplicate keys, anchors, aliases and explicit tags are errors, nesting is limited to 64
/// levels and files to 4 MiB. Errors are collected as diagnostics with `file:line:col`.
public struct YAMLLoader: Sendable {
    public static let maxDepth = 64
    public static let maxFileSize = 4 * 1024 * 1024

    public var maxDepth: Int
    public var maxFileSize: Int

    public init(maxDepth: Int = YAMLLoader.maxDepth, maxFileSize: Int = YAMLLoader.maxFileSize) {
        self.maxDepth = maxDepth
        self.maxFileSize = maxFileSize
    }

    public struct Result: Sendable {
        public var documents: [YAMLDocument]
        public var diagnostics: [Diagnostic]
    }

    /// Parses `text` (the contents of `file`, used only for locations).
    public func load(_ text: String, file: String) -> Result {
        load(Array(text.utf8), file: file)
    }

    public func load(_ bytes: [UInt8], file: String) -> Result {
        if bytes.count > maxFileSize {
            return Result(documents: [], diagnostics: [
                .error(.fileTooLarge, at: SourceLocation(file: file, line: 1, column: 1),
                       "file is \(bytes.count) bytes; the limit is \(maxFileSize) bytes (4 MiB)")
            ])
        }
        var builder = TreeBuilder(file: file, maxDepth: maxDepth)
        bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                builder.diagnostics.append(.error(.yamlSyntax, at: nil, "libyaml could not be initialised"))
                return
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    builder.syntaxError(parser)
                    return
                }
                let done = event.type == YAML_STREAM_END_EVENT
                let keepGoing = builder.handle(&event)
                yaml_event_delete(&event)
                if done || !keepGoing { return }
            }
        }
        return Result(documents: builder.documents, diagnostics: builder.diagnostics)
    }
}

/// Turns the event stream into trees. Returns false from `handle` to stop reading.
private struct TreeBuilder {
    enum Frame {
        case mapping(YAMLMapping, pendingKey: YAMLScalar?, seen: [String: SourceLocation])
        case sequence(YAMLSequence)
    }

    let file: String
    let maxDepth: Int
    var documents: [YAMLDocument] = []
    var diagnostics: [Diagnostic] = []
    var stack: [Frame] = []
    var documentStart: SourceLocation?
    var root: YAMLNode?

    init(file: String, maxDepth: Int) {
        self.file = file
        self.maxDepth = maxDepth
    }

    func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    mutating func syntaxError(_ parser: yaml_parser_t) {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) }
        let mark = parser.problem_mark
        var message = problem
        if let context { message = "\(problem) \(context)" }
        diagnostics.append(.error(.yamlSyntax, at: location(mark), message))
    }

    mutating func handle(_ event: inout yaml_event_t) -> Bool {
        let start = location(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documentStart = start
            root = nil
        case YAML_DOCUMENT_END_EVENT:
            documents.append(YAMLDocument(root: root, location: documentStart ?? start, index: documents.count))
        case YAML_ALIAS_EVENT:
            diagnostics.append(.error(.aliasNotAllowed, at: start,
                "aliases are not allowed: a policy is read by auditors exactly as written",
                hints: ["write the value out in full where it is used"]))
            return false
        case YAML_SCALAR_EVENT:
            let scalarEvent = event.data.scalar
            if !checkAnchorAndTag(anchor: scalarEvent.anchor, tag: scalarEvent.tag, at: start, implicit: scalarEvent.plain_implicit != 0 || scalarEvent.quoted_implicit != 0) {
                return false
            }
            let value = scalarEvent.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: scalarEvent.length), as: UTF8.self)
            } ?? ""
            let style: YAMLScalar.Style = switch scalarEvent.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .plain
            }
            return add(.scalar(YAMLScalar(value: value, style: style, location: start)))
        case YAML_SEQUENCE_START_EVENT:
            let e = event.data.sequence_start
            if !checkAnchorAndTag(anchor: e.anchor, tag: e.tag, at: start, implicit: e.implicit != 0) { return false }
            return open(.sequence(YAMLSequence(items: [], location: start)), at: start)
        case YAML_MAPPING_START_EVENT:
            let e = event.data.mapping_start
            if !checkAnchorAndTag(anchor: e.anchor, tag: e.tag, at: start, implicit: e.implicit != 0) { return false }
            return open(.mapping(YAMLMapping(entries: [], location: start), pendingKey: nil, seen: [:]), at: start)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return true }
            switch frame {
            case .sequence(let s): return add(.sequence(s))
            case .mapping(let m, _, _): return add(.mapping(m))
            }
        default:
            break
        }
        return true
    }

    mutating func checkAnchorAndTag(
        anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?,
        at start: SourceLocation, implicit: Bool
    ) -> Bool {
        if let anchor {
            let name = String(cString: anchor)
            diagnostics.append(.error(.aliasNotAllowed, at: start,
                "anchor '&\(name)' is not allowed: anchors and aliases hide what a policy says",
                hints: ["remove the anchor and write every value out in full"]))
            return false
        }
        if let tag, !implicit {
            let name = String(cString: tag)
            diagnostics.append(.error(.tagNotAllowed, at: start,
                "explicit tag '\(name)' is not allowed in policy files",
                hints: ["remove the tag; quote the value if it must be a string"]))
        }
        return true
    }

    mutating func open(_ frame: Frame, at start: SourceLocation) -> Bool {
        if case .mapping(_, nil, _)? = stack.last {
            diagnostics.append(.error(.complexKey, at: start, "mapping keys must be plain strings"))
            return false
        }
        if stack.count >= maxDepth {
            diagnostics.append(.error(.nestingTooDeep, at: start,
                "nesting is deeper than \(maxDepth) levels"))
            return false
        }
        stack.append(frame)
        return true
    }

    /// Adds a finished node to its parent (or makes it the document root).
    mutating func add(_ node: YAMLNode) -> Bool {
        guard let top = stack.popLast() else {
            root = node
            return true
        }
        switch top {
        case .sequence(var s):
            s.items.append(node)
            stack.append(.sequence(s))
        case .mapping(var m, let pendingKey, var seen):
            if let key = pendingKey {
                if let first = seen[key.value] {
                    diagnostics.append(.error(.duplicateKey, at: key.location,
                        "duplicate key '\(key.value)' (first defined at \(first.line):\(first.column))",
                        related: [.init(location: first, message: "first definition")]))
                } else {
                    seen[key.value] = key.location
                    m.entries.append(.init(key: key, value: node))
                }
                stack.append(.mapping(m, pendingKey: nil, seen: seen))
            } else {
                guard case .scalar(let key) = node else {
                    stack.append(.mapping(m, pendingKey: nil, seen: seen))
                    return true
                }
                stack.append(.mapping(m, pendingKey: key, seen: seen))
            }
        }
        return true
    }
}
