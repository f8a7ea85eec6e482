// Every operation but the lifecycle comes from ``SQLMetadataStore``.
extension SQLiteMetadataStore: MetadataStore {
    public func ping() async throws { try await core.ping() }
}
