import ArgumentParser
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP proxy that puts a wide-area link between a client and a server on one machine: each
/// direction of each connection gets a one-way delay and, optionally, a bandwidth. The
/// gateway benchmarks put it in front of the backends (`WAN_DELAY_MS`, `WAN_RATE_MIB` in
/// `scripts/bench-gateway.sh`), for the direct baseline as for the gateway, so that the
/// backends behave like providers in other data centres rather than processes sharing the
/// gateway's two cores.
///
/// The link is modelled per direction: a read of `n` bytes arriving at `t` starts across the
/// link when the link is free (at `max(t, free)`), takes `n / rate` to send, and is written to
/// the other side `delay` after that. Reads stop while more than 8 MiB wait in a direction.
@main
struct WANProxy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wan-proxy",
        abstract: "Forwards TCP connections with a one-way delay and a bandwidth per direction.",
        discussion: "Prints `listening on PORT` once it accepts connections, then runs until killed."
    )

    @Option(help: "Port to listen on, on 127.0.0.1 (0: a free port).")
    var listen = 0

    @Option(help: "Where connections go: HOST:PORT.")
    var target: String

    @Option(name: .customLong("delay-ms"), help: "One-way delay of each direction, in milliseconds.")
    var delayMilliseconds: Double = 0

    @Option(name: .customLong("rate-mib"), help: "Bandwidth of each direction of each connection, MiB/s (0: unlimited).")
    var rateMiB: Double = 0

    func validate() throws {
        guard delayMilliseconds >= 0, rateMiB >= 0 else { throw ValidationError("--delay-ms and --rate-mib must not be negative") }
        guard Self.split(target) != nil else { throw ValidationError("--target must be HOST:PORT") }
    }

    static func split(_ target: String) -> (host: String, port: Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else { return nil }
        return (String(target[..<colon]), port)
    }

    func run() throws {
        let (host, port) = Self.split(target)!
        let link = Link(delay: .nanoseconds(Int64(delayMilliseconds * 1_000_000)), bytesPerSecond: rateMiB * 1024 * 1024)
        let server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.autoRead, value: false)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: host, port: port)
                    .flatMapThrowing { outbound in
                        // Both channels are on this event loop: each direction writes to the
                        // other channel from it.
                        try inbound.pipeline.syncOperations.addHandler(DelayedDirection(to: outbound, link: link))
                        try outbound.pipeline.syncOperations.addHandler(DelayedDirection(to: inbound, link: link))
                    }
                    .flatMapErrorThrowing { error in
                        inbound.close(promise: nil)
                        throw error
                    }
            }
            .bind(host: "127.0.0.1", port: listen).wait()
        print("listening on \(server.localAddress?.port ?? 0)")
        fflush(nil)  // all streams: the caller waits for this line in a file
        try server.closeFuture.wait()
    }
}

struct Link: Sendable {
    var delay: TimeAmount
    /// 0: unlimited.
    var bytesPerSecond: Double
}

/// One direction: what its channel reads is written to `peer` once it has crossed the link.
final class DelayedDirection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let highWater = 8 << 20

    private let peer: any Channel
    private let link: Link
    private var context: ChannelHandlerContext?
    /// What has crossed or is crossing the link, with when it arrives, in order.
    private var inFlight = CircularBuffer<(arrives: NIODeadline, bytes: ByteBuffer)>()
    /// Bytes read and not yet written to the peer's socket.
    private var waiting = 0
    /// When the link has sent everything before.
    private var linkFree = NIODeadline.uptimeNanoseconds(0)
    private var deliveryScheduled = false
    private var readsPaused = false
    private var sourceClosed = false

    init(to peer: any Channel, link: Link) {
        self.peer = peer
        self.link = link
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The server side's channel is added to before it is active (it reads from then on).
        if context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let now = NIODeadline.now()
        var sent = now
        if link.bytesPerSecond > 0 {
            linkFree = max(now, linkFree) + .nanoseconds(Int64(Double(bytes.readableBytes) / link.bytesPerSecond * 1e9))
            sent = linkFree
        }
        inFlight.append((sent + link.delay, bytes))
        waiting += bytes.readableBytes
        scheduleDelivery()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if waiting < Self.highWater {
            context.read()
        } else {
            readsPaused = true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The peer is closed once what was read before has crossed.
        sourceClosed = true
        scheduleDelivery()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func scheduleDelivery() {
        guard !deliveryScheduled, let context else { return }
        guard let next = inFlight.first?.arrives else {
            if sourceClosed { peer.close(promise: nil) }
            return
        }
        deliveryScheduled = true
        context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { self.deliver() }
    }

    /// Writes what has arrived, in one flush.
    private func deliver() {
        deliveryScheduled = false
        let now = NIODeadline.now()
        var wrote = false
        while let first = inFlight.first, first.arrives <= now {
            inFlight.removeFirst()
            let size = first.bytes.readableBytes
            peer.write(first.bytes).assumeIsolated().whenComplete { _ in self.written(size) }
            wrote = true
        }
        if wrote { peer.flush() }
        scheduleDelivery()
    }

    private func written(_ size: Int) {
        waiting -= size
        if readsPaused, waiting < Self.highWater, let context {
            readsPaused = false
            context.read()
        }
    }
}
