import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing
@testable import Gateway

/// The refusal of an oversized header section, on a channel without a server behind it.
@Suite("Header section limit")
struct HeaderSectionLimitTests {
    static func outbound(_ channel: EmbeddedChannel) throws -> [HTTPResponsePart] {
        var parts: [HTTPResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) { parts.append(part) }
        return parts
    }

    static func status(_ part: HTTPResponsePart?) -> Int? {
        if case .head(let head)? = part { return head.status.code }
        return nil
    }

    @Test func refusesAtOnceWhenNothingIsBeingAnswered() throws {
        let channel = EmbeddedChannel(handler: HeaderSectionLimitHandler())
        channel.pipeline.fireErrorCaught(HTTPParserError.headerOverflow)
        let parts = try Self.outbound(channel)
        #expect(Self.status(parts.first) == 400)
        guard case .body(let body)? = parts.dropFirst().first else { Issue.record("no body: \(parts)"); return }
        #expect(String(buffer: body).contains("<Code>RequestHeaderSectionTooLarge</Code>"))
        _ = try? channel.finish()
    }

    /// The client may send its next request as soon as it has read the previous response, before
    /// that response's end has passed the handler: the refusal follows the end, it does not
    /// replace the connection with a bare error.
    @Test func refusalWaitsForTheResponseBeingWritten() throws {
        let channel = EmbeddedChannel(handler: HeaderSectionLimitHandler())
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: "http", authority: "h", path: "/b/k")))
        _ = try channel.readInbound(as: HTTPRequestPart.self)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        _ = try channel.readInbound(as: HTTPRequestPart.self)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        channel.pipeline.fireErrorCaught(HTTPParserError.headerOverflow)
        // The error did not close the connection, and nothing but the response went out yet.
        #expect(channel.isActive)
        #expect(Self.status(try Self.outbound(channel).first) == 200)
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        let parts = try Self.outbound(channel)
        guard parts.count >= 3, case .body = parts[0], case .end = parts[1] else { Issue.record("\(parts)"); return }
        #expect(Self.status(parts[2]) == 400)
        _ = try? channel.finish()
    }
}
