import Foundation
import ArgumentParser

/// One S3 endpoint under test, given as `NAME=URL` (`gateway=http://127.0.0.1:8080`).
struct Target: ExpressibleByArgument, Sendable {
    var name: String
    /// `http://host:port`, without a trailing slash.
    var origin: String
    /// The `Host` header: the authority of the URL, which is what SigV4 signs.
    var host: String

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1)
        let name = parts.count == 2 ? String(parts[0]) : "target"
        let url = String(parts.count == 2 ? parts[1] : parts[0])
        self.init(name: name, url: url)
    }

    init?(name: String, url: String) {
        guard !name.isEmpty, let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var authority = Substring(url[schemeEnd.upperBound...])
        while authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@") else { return nil }
        self.name = name
        self.origin = scheme + "://" + authority
        let defaultPort = scheme == "http" ? ":80" : ":443"
        self.host = authority.hasSuffix(defaultPort) ? String(authority.dropLast(defaultPort.count)) : String(authority)
    }
}
