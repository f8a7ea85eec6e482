import PolicyEngine
import Testing

/// The checker runs over the object classes in the order the enumeration finds them and sorts
/// them by witness only when there is something to report; the findings must still name the
/// smallest witness and come in witness order, whatever the order found.
@Suite struct FindingOrderTests {
    /// The enumeration explores bucket names breadth-first, so it finds `zz` (2 bytes) long
    /// before `a-long-name`; by witness, `s3://a-long-name/…` comes first.
    static let text = documents(
        anywhere,
        replication("all", "match: {}\npriority: 5\ncopies: 1"),
        replication("short", "match: {buckets: [zz]}\npriority: 5\ncopies: 1"),
        replication("long", "match: {buckets: [a-long-name]}\npriority: 5\ncopies: 1"))

    @Test func findingsComeInWitnessOrderNotInTheOrderFound() throws {
        let result = compile(Self.text, catalog: miniCatalog())
        let ambiguous = result.diagnostics.with("ambiguous-replication")
        #expect(ambiguous.count == 2, "\(result.diagnostics.rendered)")
        #expect(ambiguous.first?.message.contains("'all' and 'long'") == true, "\(result.diagnostics.rendered)")
        #expect(ambiguous.first?.message.contains("objects such as s3://a-long-name/") == true)
        #expect(ambiguous.last?.message.contains("'all' and 'short'") == true)
        #expect(ambiguous.last?.message.contains("objects such as s3://zz/") == true)
    }

    @Test func aSetWithoutFindingsStaysValidAndPlans() throws {
        let text = documents(
            anywhere,
            replication("all", "match: {}\npriority: 5\ncopies: 1"),
            replication("short", "match: {buckets: [zz]}\npriority: 6\ncopies: 1"),
            replication("long", "match: {buckets: [a-long-name]}\npriority: 7\ncopies: 1"))
        let result = compile(text, catalog: miniCatalog())
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.rendered)")
        #expect(result.compiled.plan(for: object("zz", "k")).replicationPolicy?.metadata.name == "short")
        #expect(result.compiled.plan(for: object("a-long-name", "k")).replicationPolicy?.metadata.name == "long")
        #expect(result.compiled.plan(for: object("other", "k")).replicationPolicy?.metadata.name == "all")
    }
}
