#!/usr/bin/env python3
"""Recomputes the hash chain of an operations log export, independently of the gateway.

    curl -H "Authorization: Bearer $GATEWAY_ADMIN_TOKEN" http://localhost:8000/api/operations/log/export > log.ndjson
    scripts/verify-log-export.py log.ndjson [--key KEY | --key-file FILE] [--head SEQUENCE:HASH ...]

Each line is one sealed entry in chain order. Its hash is SHA-256 (or, with the gateway's
GATEWAY_LOG_SEAL_KEY, HMAC-SHA256) of: the previous entry's hash as text ("" for the first),
a zero byte, then the entry's fields, each as LENGTH:BYTES (UTF-8) or "-" when absent:
"log-entry-v1", id, time_us, request_id, principal, operation, bucket, key, version_id,
http_status, zones joined by ",", policy_set_hash, bytes, duration_ms, detail. --head checks
that the chain contains a head the gateway logged earlier (an anchor kept elsewhere). Exits 0
when every entry verifies, 1 at the first that does not.
"""
import argparse
import hashlib
import hmac
import json
import sys


def canonical(e):
    out = bytearray()

    def field(value):
        nonlocal out
        if value is None:
            out += b"-"
            return
        data = str(value).encode("utf-8")
        out += str(len(data)).encode() + b":" + data

    for value in ("log-entry-v1", e["id"], e["time_us"], e["request_id"], e["principal"], e["operation"],
                  e["bucket"], e["key"], e["version_id"], e["http_status"], ",".join(e["zones"]),
                  e["policy_set_hash"], e["bytes"], e["duration_ms"], e["detail"]):
        field(value)
    return bytes(out)


def chain_hash(previous, entry, key):
    data = (previous or "").encode() + b"\0" + canonical(entry)
    if key is not None:
        return "hmac-sha256:" + hmac.new(key, data, hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("--key")
    parser.add_argument("--key-file")
    parser.add_argument("--head", action="append", default=[], help="SEQUENCE:HASH the chain must contain")
    args = parser.parse_args()
    key = args.key.encode() if args.key else None
    if args.key_file:
        with open(args.key_file, "rb") as f:
            key = f.read().rstrip(b"\n")
    heads = {}
    for anchor in args.head:
        sequence, _, value = anchor.partition(":")
        heads[int(sequence)] = value
    previous, expected, checked = None, 1, 0
    with open(args.export, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry["sequence"] != expected:
                print(f"line {number}: sequence {entry['sequence']}, expected {expected}: entries are missing")
                return 1
            if chain_hash(previous, entry, key) != entry["hash"]:
                print(f"line {number}: entry {entry['id']} (sequence {expected}) does not match its hash: "
                      "it, or the chain before it, was changed (or the key is wrong)")
                return 1
            if expected in heads and heads.pop(expected) != entry["hash"]:
                print(f"line {number}: sequence {expected} differs from the head logged earlier")
                return 1
            previous, expected, checked = entry["hash"], expected + 1, checked + 1
    if heads:
        print(f"the export ends before the logged head(s) {sorted(heads)}: entries were removed from its end")
        return 1
    print(f"{checked} entries verified; head {expected - 1} {previous}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
