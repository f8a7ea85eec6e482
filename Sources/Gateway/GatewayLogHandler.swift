#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import Logging

/// The gateway's log lines on standard error, in `StreamLogHandler`'s format
/// (`<time> <level> <label>: <key=value ...> [<source>] <message>`), with its metadata rendered
/// only when a line is written.
///
/// `StreamLogHandler` renders its metadata again every time a key is set. Every request sets
/// two keys (Hummingbird's `hb.request.id` and the gateway's `request.id`) on a logger that at
/// the default level never writes a line for it, so that rendering was pure cost on the request
/// path.
struct GatewayLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Self.write(line(for: event, time: Self.timestamp()))
    }

    /// The line `log(event:)` writes, at the given time.
    func line(for event: LogEvent, time: String) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = time
        line += " \(event.level)"
        if !label.isEmpty { line += " \(label)" }
        line += ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " [\(event.source)] \(event.message)\n"
        return line
    }

    /// Local time as `2026-11-27T07:19:29+0000`, as `StreamLogHandler` writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let count = strftime(buffer.baseAddress!, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count), as: UTF8.self)
        }
    }

    /// One whole line under the stream's lock, flushed: lines of concurrent requests never
    /// interleave, and a line is out before the process can die.
    static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            flockfile(stderr)
            defer { funlockfile(stderr) }
            _ = fwrite(bytes.baseAddress, 1, bytes.count, stderr)
            fflush(stderr)
        }
    }
}
