/// An owner or initiator as S3 renders it: `<ID>` and optional `<DisplayName>`.
public struct S3Owner: Sendable, Hashable {
    /// The canonical user id.
    public var id: String
    /// The display name, omitted when nil.
    public var displayName: String?

    /// Creates an owner.
    public init(id: String, displayName: String? = nil) {
        self.id = id
        self.displayName = displayName
    }

    /// Writes `<elementName><ID>…</ID><DisplayName>…</DisplayName></elementName>`.
    public func write(to writer: inout XMLWriter, elementName: String = "Owner") {
        writer.open(elementName)
        writer.element("ID", id)
        writer.element("DisplayName", ifPresent: displayName)
        writer.close(elementName)
    }
}
