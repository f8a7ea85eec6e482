/// The parsed policy files of a directory: typed documents plus everything found wrong so far.
public struct PolicySet: Sendable {
    public struct SourceFile: Sendable {
        public var path: String
        public var contents: [UInt8]
        /// The file's name in the policy-set hash: its path below the directory it was found in
        /// (`team-a/residency.yaml`), so that the same files hash the same wherever the
        /// directory is; nil names it by the last two components of `path`.
        public var hashName: String?
        /// Set when the file was parsed: every document in it is a `PolicyTest` (or empty), so
        /// nothing in it is enforced.
        public internal(set) var holdsOnlyTests = false

        /// A policy file as read from `path` (used in diagnostics and in the policy-set hash).
        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    public var residencyPolicies: [ResidencyPolicy]
    public var replicationPolicies: [ReplicationPolicy]
    public var countryGroups: [CountryGroup]
    public var tests: [PolicyTest]
    public var files: [SourceFile]
    public var diagnostics: [Diagnostic]
    /// Files whose YAML could not be read (syntax, strict-profile or size errors), and
    /// directories that were not read (too deep): none of their documents is in the set.
    public var unparsedFiles: [String] = []

    /// Reads every `*.yaml`/`*.yml` file below each directory path (sorted by path) and each file
    /// path as given. Throws only when a path cannot be read at all.
    public static func load(paths: [String], loader: YAMLLoader = YAMLLoader()) throws(FileReader.Failure) -> PolicySet {
        var files: [(path: String, hashName: String?)] = []
        var tooDeep: [Diagnostic] = []
        var unread: [String] = []
        for path in paths {
            if FileReader.isDirectory(path) {
                var skipped: [String] = []
                let root = path.hasSuffix("/") ? path : path + "/"
                files += try FileReader.files(under: path, suffixes: [".yaml", ".yml"], tooDeep: &skipped).map { file in
                    (file, file.hasPrefix(root) ? String(file.dropFirst(root.count)) : nil)
                }
                for directory in skipped {
                    unread.append(directory)
                    tooDeep.append(.error(.directoryTooDeep, at: nil,
                        "directory \(directory) is more than \(FileReader.maxDirectoryDepth) levels below \(path): its files were not read",
                        hints: ["move the policy files up, or remove a symbolic link that loops back to a parent directory"]))
                }
            } else if FileReader.exists(path) {
                files.append((path, nil))
            } else {
                throw FileReader.Failure(path: path, reason: "no such file or directory")
            }
        }
        var sources: [SourceFile] = []
        for file in files {
            var source = SourceFile(path: file.path, contents: try FileReader.read(file.path, limit: 64 * 1024 * 1024))
            source.hashName = file.hashName
            sources.append(source)
        }
        var set = parse(sources, loader: loader)
        set.diagnostics = tooDeep + set.diagnostics
        set.unparsedFiles = unread + set.unparsedFiles
        return set
    }

    /// Parses in-memory sources (the order given is kept).
    public static func parse(_ sources: [SourceFile], loader: YAMLLoader = YAMLLoader()) -> PolicySet {
        var parser = PolicyParser()
        var diagnostics: [Diagnostic] = []
        var unparsed: [String] = []
        var sources = sources
        for (i, source) in sources.enumerated() {
            let result = loader.load(source.contents, file: source.path)
            diagnostics += result.diagnostics
            // A file with YAML errors is not interpreted further: its tree may be partial.
            if result.diagnostics.hasErrors {
                unparsed.append(source.path)
                continue
            }
            for document in result.documents { parser.parse(document) }
            sources[i].holdsOnlyTests = result.documents.allSatisfy(Self.isTestOrEmpty)
        }
        diagnostics += parser.diagnostics
        var set = PolicySet(
            residencyPolicies: parser.residency, replicationPolicies: parser.replication,
            countryGroups: parser.groups, tests: parser.tests, files: sources, diagnostics: diagnostics,
            unparsedFiles: unparsed)
        set.checkUniqueNames()
        return set
    }

    /// A document without content, or one whose `kind` is `PolicyTest`.
    private static func isTestOrEmpty(_ document: YAMLDocument) -> Bool {
        guard let root = document.root else { return true }
        switch root {
        case .scalar(let s): return s.isNull
        case .sequence: return false
        case .mapping(let m):
            guard case .scalar(let kind)? = m["kind"] else { return false }
            return kind.value == PolicyKind.policyTest.rawValue
        }
    }

    public static func parse(text: String, file: String = "policy.yaml") -> PolicySet {
        parse([SourceFile(path: file, contents: Array(text.utf8))])
    }

    private mutating func checkUniqueNames() {
        func check(_ kind: PolicyKind, _ metadata: [PolicyMetadata]) {
            var seen: [String: SourceLocation] = [:]
            for m in metadata {
                if let first = seen[m.name] {
                    diagnostics.append(.error(.duplicateName, at: m.location,
                        "\(kind.rawValue) '\(m.name)' is defined twice (first at \(first))",
                        related: [.init(location: first, message: "first definition")]))
                } else {
                    seen[m.name] = m.location
                }
            }
        }
        check(.residencyPolicy, residencyPolicies.map(\.metadata))
        check(.replicationPolicy, replicationPolicies.map(\.metadata))
        check(.countryGroup, countryGroups.map(\.metadata))
        check(.policyTest, tests.map(\.metadata))
    }
}
