"""Live bad-input tests: what only a real socket can send. A Content-Length the body does not
honour, a connection closed mid-body, oversized header sections, raw bytes in the request line.
Each checks the answer, that the object stored beforehand is unchanged and that the gateway
still serves.

Python standard library only (the requests are signed here with SigV4).
Environment: GATEWAY_ENDPOINT (http://127.0.0.1:PORT), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import datetime
import hashlib
import hmac
import os
import socket
import time
import urllib.parse
import uuid

from runner import run_tests

ENDPOINT = urllib.parse.urlparse(os.environ["GATEWAY_ENDPOINT"])
HOST, PORT = ENDPOINT.hostname, ENDPOINT.port
ACCESS_KEY = os.environ["AWS_ACCESS_KEY_ID"]
SECRET_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]
AUTHORITY = f"{HOST}:{PORT}"
BUCKET = "bad-" + uuid.uuid4().hex[:10]
ORIGINAL = b"the original, stored contents"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sign(method, path, headers, payload_hash, query=""):
    """Returns `headers` plus host, x-amz-date, x-amz-content-sha256 and authorization."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed.update({"host": AUTHORITY, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    names = sorted(signed)
    canonical = "\n".join([method, path, query, "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names), payload_hash])
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{sha256(canonical.encode())}"
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out.update({"Host": AUTHORITY, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash,
                "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
                                 f"SignedHeaders={';'.join(names)}, Signature={signature}"})
    return out


def raw_head(method, target, headers):
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock, timeout=10):
    """(status, headers, body) of one response, or None if the connection closed without one."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        body += chunk
    return status, headers, body


def exchange(payload, shutdown_write=False, timeout=10):
    with socket.create_connection((HOST, PORT), timeout=timeout) as sock:
        sock.sendall(payload)
        if shutdown_write:
            sock.shutdown(socket.SHUT_WR)
        return read_response(sock, timeout)


def request(method, path, body=b"", headers=None):
    headers = sign(method, path, dict(headers or {}), sha256(body))
    headers["Content-Length"] = str(len(body))
    return exchange(raw_head(method, path, headers) + body)


def error_code(response):
    body = response[2].decode("utf-8", "replace")
    return body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in body else None


def expect_intact():
    """The stored object reads back unchanged and a new PUT/GET round trip works."""
    response = request("GET", f"/{BUCKET}/kept.txt")
    assert response is not None and response[0] == 200, response
    assert response[2] == ORIGINAL, response[2]
    fresh = uuid.uuid4().hex.encode()
    assert request("PUT", f"/{BUCKET}/after.txt", fresh)[0] == 200
    assert request("GET", f"/{BUCKET}/after.txt")[2] == fresh


def setup():
    assert request("PUT", f"/{BUCKET}")[0] == 200
    assert request("PUT", f"/{BUCKET}/kept.txt", ORIGINAL)[0] == 200


def test_content_length_longer_than_body_then_close():
    body = b"short body"
    headers = sign("PUT", f"/{BUCKET}/kept.txt", {}, "UNSIGNED-PAYLOAD")
    headers["Content-Length"] = "1000"
    response = exchange(raw_head("PUT", f"/{BUCKET}/kept.txt", headers) + body, shutdown_write=True)
    # The body ended early: IncompleteBody (the half-closed socket still reads the answer).
    assert response is not None and response[0] == 400 and error_code(response) == "IncompleteBody", response
    expect_intact()


def test_content_length_longer_than_body_then_stall():
    body = b"short body"
    headers = sign("PUT", f"/{BUCKET}/kept.txt", {}, "UNSIGNED-PAYLOAD")
    headers["Content-Length"] = "1000"
    with socket.create_connection((HOST, PORT)) as sock:
        sock.sendall(raw_head("PUT", f"/{BUCKET}/kept.txt", headers) + body)
        # Another client is served while this one stalls mid-body.
        expect_intact()
        # The gateway runs with a 5 s idle timeout: the stalled upload's connection is closed
        # (an answer before the close is fine, a connection held open is not).
        started = time.monotonic()
        sock.settimeout(20)
        try:
            while sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise AssertionError("the stalled upload's connection was still open after 20 s")
        assert time.monotonic() - started < 20
    expect_intact()


def test_body_longer_than_content_length():
    body = b"0123456789" * 3
    headers = sign("PUT", f"/{BUCKET}/kept.txt", {}, sha256(body))
    headers["Content-Length"] = "10"
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(raw_head("PUT", f"/{BUCKET}/kept.txt", headers) + body)
        response = read_response(sock)
        # The first ten bytes are the body; they do not hash to the signed payload hash. The rest
        # is not a request: whatever the server makes of it, the connection must not be reused.
        assert response is not None and response[0] == 400, response
        assert error_code(response) == "XAmzContentSHA256Mismatch", response
    expect_intact()


def test_chunked_upload_without_length_is_missing_content_length():
    """`Transfer-Encoding: chunked` and neither Content-Length nor x-amz-decoded-content-length:
    S3's 411 MissingContentLength (the S3 backends would refuse a body of unknown length)."""
    body = b"chunked body of unknown length"
    headers = sign("PUT", f"/{BUCKET}/kept.txt", {}, "UNSIGNED-PAYLOAD")
    headers["Transfer-Encoding"] = "chunked"
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(raw_head("PUT", f"/{BUCKET}/kept.txt", headers) + chunked)
        response = read_response(sock)
        assert response is not None and response[0] == 411, response
        assert error_code(response) == "MissingContentLength", response
        # The connection goes on serving.
        sock.sendall(raw_head("GET", f"/{BUCKET}/kept.txt", sign("GET", f"/{BUCKET}/kept.txt", {}, sha256(b""))))
        again = read_response(sock)
        assert again is not None and again[0] == 200 and again[2] == ORIGINAL, again
    expect_intact()


def error_detail(response, name):
    body = response[2].decode("utf-8", "replace")
    return body.split(f"<{name}>")[1].split(f"</{name}>")[0] if f"<{name}>" in body else None


def expect_header_section_too_large(headers):
    """S3's answer to a header section over 8 KiB: 400 RequestHeaderSectionTooLarge as XML,
    read in full although the rest of the head is still being sent."""
    response = exchange(raw_head("GET", f"/{BUCKET}/kept.txt", headers))
    assert response is not None, "the connection closed without an answer"
    assert response[0] == 400, response[:2]
    assert response[1].get("content-type") == "application/xml", response[1]
    assert error_code(response) == "RequestHeaderSectionTooLarge", response[2][:300]
    assert error_detail(response, "MaxSizeAllowed") == "8192", response[2][:300]
    assert error_detail(response, "RequestId"), response[2][:300]


def test_header_section_under_the_limit_is_served():
    headers = sign("GET", f"/{BUCKET}/kept.txt", {}, sha256(b""))
    headers["X-Padding"] = "p" * 6000
    response = exchange(raw_head("GET", f"/{BUCKET}/kept.txt", headers))
    assert response is not None and response[0] == 200 and response[2] == ORIGINAL, response


def test_huge_header_section_is_refused():
    for size in (16 * 1024, 64 * 1024, 1024 * 1024):
        headers = sign("GET", f"/{BUCKET}/kept.txt", {}, sha256(b""))
        headers["X-Padding"] = "p" * size
        expect_header_section_too_large(headers)
        # The gateway did not buffer it, did not crash and serves the next connection.
        expect_intact()


def test_many_headers_are_refused():
    for count in (1_500, 20_000):
        headers = sign("GET", f"/{BUCKET}/kept.txt", {}, sha256(b""))
        for i in range(count):
            headers[f"X-H{i}"] = "v"
        expect_header_section_too_large(headers)
    expect_intact()


def test_huge_header_on_a_reused_connection():
    """A keep-alive connection: the first request is answered, the second (oversized) gets the
    S3 error; signed upload headers with a body that is never read are refused the same way."""
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(raw_head("GET", f"/{BUCKET}/kept.txt", sign("GET", f"/{BUCKET}/kept.txt", {}, sha256(b""))))
        first = read_response(sock)
        assert first is not None and first[0] == 200 and first[2] == ORIGINAL, first
        headers = sign("PUT", f"/{BUCKET}/kept.txt", {"x-amz-meta-note": "n" * 9000}, sha256(b"evil"))
        headers["Content-Length"] = "4"
        sock.sendall(raw_head("PUT", f"/{BUCKET}/kept.txt", headers) + b"evil")
        second = read_response(sock)
        assert second is not None and second[0] == 400, second
        assert error_code(second) == "RequestHeaderSectionTooLarge", second[2][:300]
    expect_intact()


def test_raw_invalid_utf8_and_control_bytes_in_the_path():
    for raw in (b"/" + BUCKET.encode() + b"/a\xff\xfeb", b"/" + BUCKET.encode() + b"/\xc3",
                b"/" + BUCKET.encode() + b"/a\x00b", b"/" + BUCKET.encode() + b"/a b"):
        head = b"PUT " + raw + b" HTTP/1.1\r\nHost: " + AUTHORITY.encode() + b"\r\nContent-Length: 4\r\n\r\nevil"
        try:
            response = exchange(head)
        except (BrokenPipeError, ConnectionResetError):
            response = None
        # An HTTP-level 400 or an S3 error; never stored, never a server error.
        assert response is None or 400 <= response[0] < 500, (raw, response)
    # Signed, percent-encoded invalid UTF-8 gets S3's error for it.
    response = request("PUT", f"/{BUCKET}/a%FFb", b"evil")
    assert response[0] == 400 and error_code(response) == "InvalidURI", response
    expect_intact()


def test_malformed_request_line_and_garbage():
    for payload in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # a TLS ClientHello
                    b"GET\r\n\r\n", b"PUT /x HTTP/9.9\r\n\r\n", os.urandom(4096)):
        try:
            response = exchange(payload, shutdown_write=True, timeout=5)
        except (BrokenPipeError, ConnectionResetError):
            response = None
        assert response is None or 400 <= response[0] < 600 and response[0] != 500, response
    expect_intact()


def main():
    setup()
    run_tests(globals())


if __name__ == "__main__":
    main()
