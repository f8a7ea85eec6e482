import Logging
import Testing

@testable import Gateway

@Suite("Gateway log lines")
struct GatewayLogHandlerTests {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "quota exceeded" }
    }

    func event(_ metadata: Logger.Metadata?, error: (any Error)? = nil) -> LogEvent {
        LogEvent(level: .notice, message: "s3 request", error: error, metadata: metadata, source: "Gateway",
                 file: "S3Responder.swift", function: "respond", line: 1)
    }

    @Test func metadataIsSortedAndTheStatementsOwnWins() {
        var handler = GatewayLogHandler(label: "gateway", metadataProvider: nil)
        handler[metadataKey: "request.id"] = "R1"
        handler[metadataKey: "hb.request.id"] = "H1"
        let line = handler.line(for: event(["http.status": "200", "request.id": "R2"]), time: "2026-11-27T07:19:29+0000")
        #expect(line == "2026-11-27T07:19:29+0000 notice gateway: hb.request.id=H1 http.status=200 request.id=R2 [Gateway] s3 request\n")
    }

    @Test func anErrorAndTheProvidersMetadataAreWritten() {
        let provider = Logger.MetadataProvider { ["trace.id": "T9"] }
        let handler = GatewayLogHandler(label: "", metadataProvider: provider)
        let line = handler.line(for: event(nil, error: Refused()), time: "T")
        #expect(line.hasPrefix("T notice: error.message=quota exceeded error.type="))
        #expect(line.hasSuffix("GatewayLogHandlerTests.Refused trace.id=T9 [Gateway] s3 request\n"))
    }

    @Test func theTimestampIsStreamLogHandlersFormat() {
        let stamp = GatewayLogHandler.timestamp()
        // 2026-11-27T07:19:29+0000
        #expect(stamp.utf8.count == 24)
        #expect(Array(stamp.utf8)[10] == UInt8(ascii: "T"))
        #expect(stamp.last?.isNumber == true)
    }
}

@Suite("S3 request metrics")
struct S3RequestMetricsTests {
    @Test func handlesAreKeptPerMethodAndStatusAndUnknownMethodsShareOne() {
        let metrics = S3RequestMetrics()
        metrics.record(method: "GET", status: 200, duration: .milliseconds(1))
        metrics.record(method: "GET", status: 200, duration: .milliseconds(2))
        metrics.record(method: "PUT", status: 200, duration: .milliseconds(1))
        #expect(metrics.pairs == 2)
        for i in 0..<100 { metrics.record(method: "X-METHOD-\(i)", status: 405, duration: .zero) }
        #expect(metrics.pairs == 3)
    }
}
