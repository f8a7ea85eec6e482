import Foundation
import HTTPTypes
import Hummingbird
import Metadata
import HummingbirdTesting
import NIOCore
import S3Protocol
import Synchronization
import Testing

@testable import Gateway

/// `GET /api/residency/report`: every copy of a bucket's versions with its place, and whether
/// the policies in force still allow it there.
@Suite("Residency report")
struct ResidencyReportTests {
    /// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\r\n" || c == "\n" {
                record.append(field)
                records.append(record)
                (record, field) = ([], "")
            } else {
                field.append(c)
            }
        }
        return records
    }

    func get(_ gw: TestGateway, _ uri: String) async throws -> (HTTPResponse.Status, String, String?) {
        let result = Mutex<(HTTPResponse.Status, String, String?)>((.ok, "", nil))
        try await gw.withManagementClient { client in
            try await client.execute(uri: uri, method: .get) { r in
                result.withLock { $0 = (r.status, r.body.text, r.headers[.contentType]) }
            }
        }
        return result.withLock { $0 }
    }

    @Test func everyCopyIsListedWithItsPlaceAndDriftIsShown() async throws {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try ReplicaVerifierTests.writeTwoCopies(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        let odd = "odd, \"quoted\" key.txt"
        try await gw.withClient { client in
            try await client.execute(uri: "/docs", method: .put, headers: gw.signed("PUT", "/docs")) { _ in }
            for key in ["a.txt", "b.txt", "b.txt", odd] {
                let target = "/docs/" + S3URLEncoding.encode(key, preserveSlash: true)
                try await client.execute(uri: target, method: .put, headers: gw.signed("PUT", target, body: Array(key.utf8)),
                                         body: ByteBuffer(string: key)) { r in
                    #expect(r.status == .ok, "\(r.body.text)")
                }
            }
        }
        let (status, csv, type) = try await get(gw, "/api/residency/report?bucket=docs")
        #expect(status == .ok)
        #expect(type?.hasPrefix("text/csv") == true)
        let records = Self.parseCSV(csv)
        let header = try #require(records.first)
        #expect(header.count == 16 && header[1] == "key" && header.last == "allowed_now")
        let rows = records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        // Four versions, two copies each, all in Finland and allowed.
        #expect(rows.count == 8)
        #expect(Set(rows.map { $0["key"] ?? "" }) == ["a.txt", "b.txt", odd])
        #expect(rows.filter { $0["key"] == "b.txt" }.map { $0["version_id"] ?? "" }.uniqued().count == 2)
        #expect(rows.allSatisfy { $0["country"] == "FI" && $0["city"] == "Helsinki" && $0["status"] == "complete" })
        #expect(rows.allSatisfy { $0["allowed_now"] == "true" && $0["residency_policies"] == "finland" })
        #expect(Set(rows.map { $0["zone"] ?? "" }) == ["FI-HEL-ST-1", "FI-HEL-UC-1"])

        // Without a bucket: every bucket, in name order.
        try await gw.withClient { client in
            try await client.execute(uri: "/archive", method: .put, headers: gw.signed("PUT", "/archive")) { _ in }
            try await client.execute(uri: "/archive/x", method: .put, headers: gw.signed("PUT", "/archive/x", body: [1]),
                                     body: ByteBuffer(bytes: [1])) { r in #expect(r.status == .ok) }
        }
        let all = Self.parseCSV(try await get(gw, "/api/residency/report").1).dropFirst()
        #expect(all.count == 10)
        #expect(all.map { $0[0] } == Array(repeating: "archive", count: 2) + Array(repeating: "docs", count: 8))
        let allSummary = try #require(try JSONSerialization.jsonObject(
            with: Data(try await get(gw, "/api/residency/report?format=json").1.utf8)) as? [String: Any])
        #expect((allSummary["buckets"] as? [[String: Any]])?.map { $0["bucket"] as? String } == ["archive", "docs"])
        #expect(allSummary["copies_outside_current_policies"] as? Int == 0)

        // The policy files change: only one zone is allowed. Before the reload, the report
        // judged by the files shows what the reload would make of the stored copies.
        try PolicyReloadTests.writePolicies(dir, zone: "FI-HEL-ST-1")
        let preview = Self.parseCSV(try await get(gw, "/api/residency/report?bucket=docs&against=files").1)
        #expect(preview.first?.last == "allowed_by_files")
        #expect(preview.dropFirst().filter { $0.last == "false" }.map { $0[9] } == Array(repeating: "FI-HEL-UC-1", count: 4))
        let previewSummary = try #require(try JSONSerialization.jsonObject(
            with: Data(try await get(gw, "/api/residency/report?bucket=docs&against=files&format=json").1.utf8)) as? [String: Any])
        #expect(previewSummary["judged_against"] as? String == "files")
        #expect(previewSummary["copies_outside_current_policies"] as? Int == 4)
        #expect(previewSummary["policy_set_hash"] as? String != gw.state.policyStore.current.hash)
        // The set in force still allows every copy.
        #expect(Self.parseCSV(try await get(gw, "/api/residency/report?bucket=docs").1).dropFirst().allSatisfy { $0.last == "true" })

        // After the reload the copies in the other zone are drift.
        #expect(await gw.state.reloadPolicies(trigger: "test").reloaded)
        let after = Self.parseCSV(try await get(gw, "/api/residency/report?bucket=docs&format=csv").1).dropFirst()
            .map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        #expect(after.filter { $0["allowed_now"] == "false" }.map { $0["zone"] ?? "" } == Array(repeating: "FI-HEL-UC-1", count: 4))

        let (jsonStatus, json, _) = try await get(gw, "/api/residency/report?bucket=docs&format=json")
        #expect(jsonStatus == .ok)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(summary["versions"] as? Int == 4 && summary["bucket"] as? String == "docs")
        #expect(summary["complete_copies"] as? Int == 8)
        #expect(summary["versions_below_planned_copies"] as? Int == 0)
        #expect(summary["complete_copies_by_country"] as? [String: Int] == ["FI": 8])
        #expect(summary["copies_outside_current_policies"] as? Int == 4)
        #expect((summary["copies_outside_current_policies_first"] as? [[String: Any]])?.count == 4)
        #expect(summary["policy_set_hash"] as? String == gw.state.policyStore.current.hash)
        // Tied to the sealed operations log: none sealed yet, then the chain's head.
        #expect(summary["operations_log_seal"] is NSNull)
        let head = try #require(try await LogSealer(state: gw.state, chain: LogChain(key: nil)).sealOnce().head)
        let sealed = try #require(try JSONSerialization.jsonObject(
            with: Data(try await get(gw, "/api/residency/report?bucket=docs&format=json").1.utf8)) as? [String: Any])
        let seal = try #require(sealed["operations_log_seal"] as? [String: Any])
        #expect(seal["sequence"] as? Int == Int(head.sequence) && seal["hash"] as? String == head.hash)

        // A prefix narrows the report.
        let prefixed = Self.parseCSV(try await get(gw, "/api/residency/report?bucket=docs&prefix=a").1)
        #expect(prefixed.count == 3)
    }

    @Test func badRequestsAreRefused() async throws {
        let dir = NSTemporaryDirectory() + "policies-" + UUID().uuidString
        try PolicyReloadTests.writePolicies(dir, zone: "FI-HEL-ST-1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gw = try await TestGateway.make(policies: dir)
        defer { gw.cleanUp() }
        #expect(try await get(gw, "/api/residency/report?bucket=nope").0 == .notFound)
        try await gw.withClient { client in
            try await client.execute(uri: "/logs", method: .put, headers: gw.signed("PUT", "/logs")) { _ in }
        }
        #expect(try await get(gw, "/api/residency/report?bucket=logs&format=xml").0 == .badRequest)
        let empty = try await get(gw, "/api/residency/report?bucket=logs")
        #expect(empty.0 == .ok && Self.parseCSV(empty.1).count == 1)
        #expect(try await get(gw, "/api/residency/report?bucket=logs&against=yesterday").0 == .badRequest)
        // Policy files that do not compile: 422 with their diagnostics, as a refused reload.
        try "apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nspec: [".write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        let broken = try await get(gw, "/api/residency/report?bucket=logs&against=files")
        #expect(broken.0 == .unprocessableContent)
        #expect(broken.1.contains("broken.yaml"))
    }

    @Test func csvFieldsAreQuotedOnlyWhenNeeded() {
        #expect(ResidencyRow.csvField("plain") == "plain")
        #expect(ResidencyRow.csvField("a,b") == "\"a,b\"")
        #expect(ResidencyRow.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ResidencyRow.csvField("two\nlines") == "\"two\nlines\"")
    }
}
