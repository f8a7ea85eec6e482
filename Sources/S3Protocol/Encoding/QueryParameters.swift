/// The parameters of a request's query string, decoded, in order.
///
/// Value-less names such as `?uploads` or `?versioning` are kept with a nil ``Parameter/value``.
/// Names and values are percent-decoded with `+` read as a space, as S3 does for query strings.
public struct QueryParameters: Sendable, Hashable {
    /// One `name[=value]` pair.
    public struct Parameter: Sendable, Hashable {
        /// The decoded name.
        public var name: String
        /// The decoded value; nil when the pair had no `=`.
        public var value: String?

        /// Creates a parameter.
        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// All parameters in query-string order (empty pairs from `&&` are skipped).
    public var parameters: [Parameter]

    /// Creates a parameter list.
    public init(_ parameters: [Parameter] = []) {
        self.parameters = parameters
    }

    /// Parses a raw query string (without the leading `?`).
    ///
    /// - Throws: `InvalidURI` when an escape is malformed or a name or value is not valid UTF-8.
    public init(parsing query: some StringProtocol) throws(S3Error) {
        var parameters: [Parameter] = []
        // Split on bytes, not Characters: a combining mark after `&` or `=` must not hide the separator.
        for pair in String(query).utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let pairString = Substring(pair)
            let name: Substring
            let rawValue: Substring?
            if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                name = pairString[..<eq]
                rawValue = pairString[pair.index(after: eq)...]
            } else {
                name = pairString
                rawValue = nil
            }
            guard let decodedName = S3URLEncoding.decode(name, plusAsSpace: true) else {
                throw S3Error(.invalidURI)
            }
            var decodedValue: String?
            if let rawValue {
                guard let value = S3URLEncoding.decode(rawValue, plusAsSpace: true) else {
                    throw S3Error(.invalidURI)
                }
                decodedValue = value
            }
            parameters.append(Parameter(name: decodedName, value: decodedValue))
        }
        self.parameters = parameters
    }

    /// The first value for `name`: `""` for a value-less parameter, nil when absent.
    public subscript(_ name: String) -> String? {
        guard let parameter = parameters.first(where: { $0.name == name }) else { return nil }
        return parameter.value ?? ""
    }

    /// Whether `name` appears, with or without a value.
    public func contains(_ name: String) -> Bool {
        parameters.contains { $0.name == name }
    }

    /// Every value for `name`, in order (`""` for value-less occurrences).
    public func values(_ name: String) -> [String] {
        parameters.filter { $0.name == name }.map { $0.value ?? "" }
    }
}
