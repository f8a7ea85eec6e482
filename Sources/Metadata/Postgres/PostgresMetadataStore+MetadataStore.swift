// Every operation but the lifecycle comes from ``SQLMetadataStore``.
extension PostgresMetadataStore: MetadataStore {}
