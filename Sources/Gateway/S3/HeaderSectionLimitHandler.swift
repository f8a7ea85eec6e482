import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import S3Protocol

/// Answers a request whose header section is over S3's limit with the error S3 sends,
/// `400 RequestHeaderSectionTooLarge` with `<MaxSizeAllowed>8192</MaxSizeAllowed>`, instead of
/// the HTTP server's bare 400.
///
/// The HTTP decoder is configured with the limit (``maxSize`` for the request line and every
/// header name and value together): past it, it stops with `HTTPParserError.headerOverflow`
/// before buffering more. The decoder cannot go on after an error, so this handler answers,
/// closes its side of the connection and drops whatever the client still sends (the rest of
/// the oversized head, a body) until the client closes or ``lingerTime`` has passed; closing
/// at once would make the kernel reset the connection while the client is still sending, and
/// the client would then never read the answer.
///
/// When the oversized head follows a request whose response is still being written (the
/// client may send its next request as soon as it has read the last byte of a response, before
/// the server's end of that response has passed this handler), the refusal waits for that
/// response to end and follows it.
final class HeaderSectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The most bytes of request line and header fields S3 accepts.
    static let maxSize = 8192
    /// How long the dropped remainder of a refused request is read before the connection closes.
    static let lingerTime: TimeAmount = .seconds(5)

    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    private var refused = false
    /// Refused while a response was still going out: answered once it has ended.
    private var refusalWaits = false

    /// The HTTP decoder limits that make the decoder stop at ``maxSize``.
    static var decoderConfiguration: HTTP1Channel.Configuration.DecoderConfiguration {
        .init(maxHeaderFieldSize: maxSize, maxHeaderListSize: maxSize, maxHeaderFieldCount: 1000)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        if case .head = unwrapInboundIn(data) { unanswered += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        unanswered = max(0, unanswered - 1)
        context.write(data, promise: promise)
        if refusalWaits && unanswered == 0 {
            refusalWaits = false
            refuse(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client finished sending after the refusal: nothing more to drop.
        if refused, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if refused { return }  // the decoder reports every later read as an error: dropped
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        refused = true
        if unanswered > 0 {
            refusalWaits = true
        } else {
            refuse(context: context)
        }
    }

    /// Sends the S3 error, then closes the output and, after ``lingerTime``, the connection.
    private func refuse(context: ChannelHandlerContext) {
        let requestID = GatewayState.newStorageId(uppercase: true)
        let body = S3Error(.requestHeaderSectionTooLarge)
            .adding("MaxSizeAllowed", String(Self.maxSize))
            .xmlByteBuffer(requestId: requestID, hostId: requestID, allocator: context.channel.allocator)
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(body.readableBytes)
        headers[.connection] = "close"
        headers[.amzRequestID] = requestID
        headers[.amzID2] = requestID
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
        }
    }
}
