/// Canonical query strings: every name and value SigV4-encoded, pairs sorted
/// by encoded name and then encoded value, joined with `&`; a name without a
/// value signs as `name=`.
package enum CanonicalQuery {
    /// One query parameter, decoded.
    package struct Parameter: Equatable, Sendable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private struct EncodedPair {
        var name: [UInt8]
        var value: [UInt8]
    }

    /// Splits a raw query string (without `?`) into decoded parameters, in order.
    /// `+` decodes to a space, as S3 reads query strings.
    package static func parameters(of query: some StringProtocol) -> [Parameter] {
        Array(query.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { piece in
            let (name, value) = split(piece)
            return Parameter(
                name: String(decoding: URIEncoding.decode(name, plusAsSpace: true), as: UTF8.self),
                value: String(decoding: URIEncoding.decode(value, plusAsSpace: true), as: UTF8.self)
            )
        }
    }

    /// The canonical form of a query string as received on the wire, leaving out
    /// the parameters whose decoded name is in `excluding` (e.g. `X-Amz-Signature`).
    package static func canonicalize(encodedQuery query: some StringProtocol, excluding: Set<String> = []) -> String {
        var pairs = [EncodedPair]()
        for piece in Array(query.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let (name, value) = split(piece)
            let decodedName = URIEncoding.decode(name, plusAsSpace: true)
            if !excluding.isEmpty, excluding.contains(String(decoding: decodedName, as: UTF8.self)) { continue }
            var pair = EncodedPair(name: [], value: [])
            URIEncoding.encode(decodedName, keepSlash: false, into: &pair.name)
            URIEncoding.encode(URIEncoding.decode(value, plusAsSpace: true), keepSlash: false, into: &pair.value)
            pairs.append(pair)
        }
        return join(pairs)
    }

    /// The canonical form of unencoded `(name, value)` parameters.
    package static func canonicalize(parameters: [Parameter]) -> String {
        var pairs = [EncodedPair]()
        pairs.reserveCapacity(parameters.count)
        for parameter in parameters {
            var pair = EncodedPair(name: [], value: [])
            URIEncoding.encode(parameter.name.utf8, keepSlash: false, into: &pair.name)
            URIEncoding.encode(parameter.value.utf8, keepSlash: false, into: &pair.value)
            pairs.append(pair)
        }
        return join(pairs)
    }

    private static func split(_ piece: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { return (piece, []) }
        return (piece[piece.startIndex..<equals], piece[piece.index(after: equals)...])
    }

    private static func join(_ pairs: [EncodedPair]) -> String {
        let sorted = pairs.sorted { lhs, rhs in
            if lhs.name != rhs.name { return lhs.name.lexicographicallyPrecedes(rhs.name) }
            return lhs.value.lexicographicallyPrecedes(rhs.value)
        }
        var output = [UInt8]()
        output.reserveCapacity(sorted.reduce(0) { $0 + $1.name.count + $1.value.count + 2 })
        for (index, pair) in sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: "&")) }
            output.append(contentsOf: pair.name)
            output.append(UInt8(ascii: "="))
            output.append(contentsOf: pair.value)
        }
        return String(decoding: output, as: UTF8.self)
    }
}
