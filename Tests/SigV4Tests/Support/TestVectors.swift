import Foundation
import SigV4
import Testing

/// One test-suite case: `<name>.req` (the request), `.creq` (canonical request),
/// `.sts` (string to sign) and, for header-signed cases, `.authz` (Authorization).
struct TestVector: CustomTestStringConvertible, Sendable {
    let suite: String
    let name: String
    let request: VectorRequest
    let canonicalRequest: String
    let stringToSign: String
    let authorization: String?

    var testDescription: String { "\(suite)/\(name)" }

    /// Every case of the suite in `Vectors/<suite>`.
    static func load(suite: String) -> [TestVector] {
        guard
            let directory = Bundle.module.url(forResource: "Vectors", withExtension: nil)?.appendingPathComponent(
                suite),
            let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        let names = Set(files.filter { $0.hasSuffix(".req") }.map { String($0.dropLast(4)) }).sorted()
        return names.compactMap { name in
            func read(_ ext: String) -> String? {
                try? String(contentsOf: directory.appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
            }
            guard let req = read("req"), let creq = read("creq"), let sts = read("sts") else { return nil }
            return TestVector(
                suite: suite, name: name, request: VectorRequest(parsing: req), canonicalRequest: creq,
                stringToSign: sts, authorization: read("authz"))
        }
    }
}

/// A request in the test suite's `.req` format: request line, `Name:value` header
/// lines, a blank line and the body.
struct VectorRequest: Sendable {
    let method: String
    let target: String
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    init(parsing text: String) {
        let parts = text.components(separatedBy: "\n\n")
        let head = parts[0]
        body = Array(parts.dropFirst().joined(separator: "\n\n").utf8)
        var lines = head.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ") ?? requestLine.endIndex
        method = String(requestLine[..<firstSpace])
        let rest = requestLine[firstSpace...].dropFirst()
        target = rest.hasSuffix(" HTTP/1.1") ? String(rest.dropLast(9)) : String(rest)
        headers = lines.map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (String(line[..<colon]), String(line[colon...].dropFirst()))
        }
    }

    /// The value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var path: String { String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
    var query: String {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : ""
    }
}

/// The credentials and dates of the two suites.
enum Fixtures {
    /// The aws-sig-v4-test-suite credentials (service `service`, us-east-1, 20150830T123600Z).
    static let suiteCredentials = SigV4Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = date("20150830T123600Z")

    /// The S3 documentation credentials (service `s3`, us-east-1, 20130524T000000Z).
    static let s3Credentials = SigV4Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = date("20130524T000000Z")

    static func date(_ amzDate: String) -> Date {
        // Independent of the library's own parser.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let digits = Array(amzDate.utf8).map { Int($0) - 48 }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + digits[$1] } }
        let components = DateComponents(
            year: number(0..<4), month: number(4..<6), day: number(6..<8),
            hour: number(9..<11), minute: number(11..<13), second: number(13..<15))
        return calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
    }
}
