/// Helpers the typed decoders use to read the tree strictly.
extension S3XMLElement {
    /// The text of an element that must not have child elements.
    func leafText() throws(S3Error) -> String {
        guard children.isEmpty else { throw S3Error.malformedXML }
        return text
    }

    /// The only child named `name`, nil when absent; more than one is `MalformedXML`.
    func singleChild(_ name: String) throws(S3Error) -> S3XMLElement? {
        var found: S3XMLElement?
        for child in children where child.name == name {
            guard found == nil else { throw S3Error.malformedXML }
            found = child
        }
        return found
    }

    /// The raw text of the single leaf child `name`, nil when absent.
    func leafValue(_ name: String) throws(S3Error) -> String? {
        try singleChild(name)?.leafText()
    }

    /// The whitespace-trimmed text of the single leaf child `name`, nil when absent.
    func trimmedLeafValue(_ name: String) throws(S3Error) -> String? {
        guard let child = try singleChild(name) else { return nil }
        guard child.children.isEmpty else { throw S3Error.malformedXML }
        return child.trimmedText
    }

    /// The trimmed text of the required single leaf child `name`.
    func requiredTrimmedLeafValue(_ name: String) throws(S3Error) -> String {
        guard let value = try trimmedLeafValue(name) else { throw S3Error.malformedXML }
        return value
    }

    /// A decimal integer child, nil when absent; anything but digits (with an optional sign) is `MalformedXML`.
    func integerValue(_ name: String) throws(S3Error) -> Int? {
        guard let text = try trimmedLeafValue(name) else { return nil }
        guard let value = Int(text) else { throw S3Error.malformedXML }
        return value
    }
}
