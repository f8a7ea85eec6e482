import Crypto
import Foundation
import Metadata

/// The hash chain that makes the operations log tamper-evident. Each sealed entry's hash covers
/// the entry (every field, length-prefixed so that no two entries encode alike) and the hash of
/// the entry sealed before it, so changing, removing or inserting an entry anywhere breaks every
/// hash after it. With a key (`GATEWAY_LOG_SEAL_KEY`) the hash is an HMAC: someone who can write
/// to the database but does not hold the key cannot make a changed chain verify again. Without
/// one it is SHA-256, and the heads the gateway logs as it seals are the anchors to compare with.
struct LogChain: Sendable {
    private let key: [UInt8]?

    init(key: String?) {
        self.key = key.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    var isKeyed: Bool { key != nil }

    /// `hmac-sha256` or `sha256`: the prefix of the hashes this chain makes.
    var algorithm: String { key == nil ? "sha256" : "hmac-sha256" }

    /// `ALGORITHM:HEX` of `entry` after `previous` (nil for the first entry sealed): the hash
    /// (or HMAC) of `previous` (empty for the first), a zero byte, and ``canonical(_:)``.
    /// `scripts/verify-log-export.py` recomputes it from an export, without this code.
    func hash(previous: String?, _ entry: OperationLogEntry) -> String {
        var input = Array((previous ?? "").utf8)
        input.append(0)
        input += Self.canonical(entry)
        if let key {
            return "hmac-sha256:" + Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))).hexString
        }
        return "sha256:" + Array(SHA256.hash(data: input)).hexString
    }

    /// An entry's time as the chain covers it: whole microseconds since 1970.
    static func microseconds(_ time: Date) -> Int64 {
        Int64((time.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The entry's bytes as the chain covers them: a version tag, then every field as
    /// `LENGTH:BYTES` (or `-` when absent), the time in microseconds.
    static func canonical(_ entry: OperationLogEntry) -> [UInt8] {
        var out: [UInt8] = []
        func field(_ value: String?) {
            guard let value else {
                out.append(UInt8(ascii: "-"))
                return
            }
            out += Array("\(value.utf8.count):".utf8)
            out += Array(value.utf8)
        }
        field("log-entry-v1")
        field(String(entry.id))
        field(String(microseconds(entry.time)))
        field(entry.requestId)
        field(entry.principal)
        field(entry.operation)
        field(entry.bucket)
        field(entry.key)
        field(entry.versionId)
        field(String(entry.httpStatus))
        field(entry.zones.joined(separator: ","))
        field(entry.policySetHash)
        field(String(entry.bytes))
        field(String(entry.durationMs))
        field(entry.detail)
        return out
    }
}

/// Recomputes the chain over every sealed entry, in sequence order, page by page.
struct LogVerification: Sendable {
    let store: any MetadataStore
    let chain: LogChain
    var pageSize = 1000

    struct Problem: Sendable, Equatable {
        var sequence: Int64
        var id: Int64?
        var what: String
    }

    struct Report: Sendable, Equatable {
        var checked: Int64 = 0
        var head: LogSeal?
        var problem: Problem?
        var unsealed = UnsealedLog(count: 0, oldest: nil)
    }

    /// Stops at the first problem: an entry whose hash does not match (changed, or sealed
    /// under another key), a sequence number missing (an entry removed), or an entry sealed
    /// without the key after entries sealed with it (a downgrade). `between` runs before each
    /// page (a long check renews its lease there).
    ///
    /// From an `anchor` (a head checked or logged earlier: its sequence number and hash), only
    /// the entries after it are recomputed, once the stored entry there is found to carry that
    /// hash: a check that costs what was sealed since.
    func run(from anchor: (sequence: Int64, hash: String)? = nil,
             between: @Sendable () async throws -> Void = {}) async throws -> Report {
        var report = Report()
        var previous: LogSeal?
        if let anchor {
            guard let found = try await store.sealedLog(afterSequence: anchor.sequence - 1, limit: 1).first?.seal,
                  found.sequence == anchor.sequence else {
                report.problem = Problem(sequence: anchor.sequence, id: nil, what: "the anchor's entry is not in the chain (removed)")
                report.unsealed = try await store.unsealedLog()
                return report
            }
            guard found.hash == anchor.hash else {
                report.problem = Problem(sequence: anchor.sequence, id: found.id,
                                         what: "the chain up to the anchor was changed (its hash is not the anchor's)")
                report.unsealed = try await store.unsealedLog()
                return report
            }
            previous = found
        }
        var sawKeyed = previous?.hash.hasPrefix("hmac-sha256:") ?? false
        page: while true {
            try await between()
            let page = try await store.sealedLog(afterSequence: previous?.sequence ?? 0, limit: pageSize)
            for (entry, seal) in page {
                let expected = (previous?.sequence ?? 0) + 1
                if seal.sequence != expected {
                    report.problem = Problem(sequence: expected, id: nil,
                                             what: "entries \(expected)…\(seal.sequence - 1) of the chain are missing (removed)")
                    break page
                }
                let keyed = seal.hash.hasPrefix("hmac-sha256:")
                if sawKeyed && !keyed {
                    report.problem = Problem(sequence: seal.sequence, id: seal.id,
                                             what: "sealed without the key after entries sealed with it")
                    break page
                }
                sawKeyed = sawKeyed || keyed
                if keyed != chain.isKeyed {
                    report.problem = Problem(sequence: seal.sequence, id: seal.id, what: keyed
                        ? "sealed with a key, and GATEWAY_LOG_SEAL_KEY is not set here: it cannot be checked"
                        : "sealed without a key, and GATEWAY_LOG_SEAL_KEY is set here")
                    break page
                }
                guard chain.hash(previous: previous?.hash, entry) == seal.hash else {
                    report.problem = Problem(sequence: seal.sequence, id: seal.id,
                                             what: "the entry or the chain before it was changed (its hash does not match)")
                    break page
                }
                report.checked += 1
                previous = seal
            }
            if page.count < pageSize { break }
        }
        report.head = previous
        report.unsealed = try await store.unsealedLog()
        return report
    }
}
