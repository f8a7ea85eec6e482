"""Live tests: real S3 clients against the gateway with moto S3 servers as zones and PostgreSQL
as the metadata store; placement is checked on each zone's S3 server directly.

Run by scripts/live-moto-test.sh (see harness.py for the environment). The tests run in the
order of TESTS: the last one stops a zone and starts it again empty, so it comes last.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from harness import (ADMIN_TOKEN, ALLOWED_ZONES, FORBIDDEN_ZONE, PHYSICAL_BUCKET, POLICIES_DIR, WORK_DIR, ZONE_URLS, Gateway,
                     assert_on_planned_zones, backend_key, error_code, pause_zone, physical_body, physical_keys, physical_uploads,
                     resume_zone, run, sha256, start_zone, stop_zone, unique, wait_until, zone_client, zones_holding)

gateway = None
s3 = None
# The gateway's GATEWAY_BACKEND_READ_TIMEOUT in this run (seconds).
BACKEND_READ_TIMEOUT = 8
# Client files live in the run's scratch folder, which the calling script removes.
scratch = tempfile.mkdtemp(prefix="clients-", dir=WORK_DIR)
# The gateway's policies: a copy of the live set, which a test changes and reloads.
policies = os.path.join(scratch, "policies")


def write_file(name, data):
    path = os.path.join(scratch, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def tool(*args, env=None, ok=(0,)):
    result = subprocess.run(list(args), capture_output=True, env=env)
    if result.returncode not in ok:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stderr.decode()}{result.stdout.decode()}")
    return result.stdout.decode()


def aws(*args, ok=(0,)):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="live-key", AWS_SECRET_ACCESS_KEY="live-secret", AWS_DEFAULT_REGION="us-east-1")
    return tool("aws", "--endpoint-url", gateway.endpoint, *args, env=env, ok=ok)


def latest_version(bucket, key):
    return s3.head_object(Bucket=bucket, Key=key)["VersionId"]


# MARK: clients

def test_aws_cli_multipart_50mib_round_trip():
    b = unique("fin-cli-")
    aws("s3", "mb", f"s3://{b}")
    data = os.urandom(50 * 1024 * 1024)
    path = write_file("cli/big.bin", data)
    aws("s3", "cp", path, f"s3://{b}/big/file.bin")
    head = s3.head_object(Bucket=b, Key="big/file.bin")
    assert head["ContentLength"] == len(data), head
    # 50 MiB in the aws CLI's 8 MiB parts: seven parts.
    assert head["ETag"].strip('"').endswith("-7"), head["ETag"]
    out = os.path.join(scratch, "cli/big.back")
    aws("s3", "cp", f"s3://{b}/big/file.bin", out)
    assert sha256(read_file(out)) == sha256(data), "the 50 MiB object came back different"
    assert_on_planned_zones(gateway, b, "big/file.bin", head["VersionId"], body=data)
    # Each zone's backend multipart upload became the version's object: the zones hold only
    # that object, and no unfinished backend upload is left.
    assert not s3.list_multipart_uploads(Bucket=b).get("Uploads")
    for zone in ZONE_URLS:
        keys = physical_keys(zone, b + "/")
        assert keys in ([], [backend_key(b, "big/file.bin", head["VersionId"])]), (zone, keys)
        assert not physical_uploads(zone, b + "/"), zone


def test_boto3_put_get_list_delete():
    b = unique("fin-boto-")
    s3.create_bucket(Bucket=b)
    bodies = {f"docs/{i}.txt": os.urandom(1000 * (i + 1)) for i in range(4)}
    bodies["docs/big.bin"] = os.urandom(6 * 1024 * 1024)
    versions = {}
    for key, body in bodies.items():
        versions[key] = s3.put_object(Bucket=b, Key=key, Body=body, Metadata={"case": "boto3"})["VersionId"]
    for key, body in bodies.items():
        got = s3.get_object(Bucket=b, Key=key)
        assert got["Body"].read() == body and got["Metadata"] == {"case": "boto3"}, key
        assert_on_planned_zones(gateway, b, key, versions[key], body=body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="docs/")["Contents"]]
    assert listed == sorted(bodies), listed
    # A plain delete leaves a delete marker; the version's bytes stay on the zones.
    s3.delete_object(Bucket=b, Key="docs/0.txt")
    try:
        s3.head_object(Bucket=b, Key="docs/0.txt")
        raise AssertionError("deleted object still visible")
    except ClientError as e:
        assert error_code(e) in ("404", "NoSuchKey"), e.response
    assert "docs/0.txt" not in [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    assert zones_holding(backend_key(b, "docs/0.txt", versions["docs/0.txt"])) == sorted(gateway.plan(b, "docs/0.txt"))
    # Deleting the version itself removes its bytes from every zone (delete jobs).
    s3.delete_object(Bucket=b, Key="docs/1.txt", VersionId=versions["docs/1.txt"])
    gone = backend_key(b, "docs/1.txt", versions["docs/1.txt"])
    wait_until(f"{gone} to be removed from every zone", lambda: zones_holding(gone) == [], 30)
    status, health = gateway.get_json("/health")
    assert status == 200 and health["metadataStore"] == "postgresql" and health["database"] == "ok", health


def rclone(config, *args):
    # rclone fails to load an AWS_CA_BUNDLE it does not need for plain http.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return tool("rclone", "--config", config, "--retries", "1", *args, env=env)


def test_rclone_copy_ls_cat_check():
    config = write_file("rclone/rclone.conf", f"""[gw]
type = s3
provider = Other
endpoint = {gateway.endpoint}
access_key_id = live-key
secret_access_key = live-secret
region = us-east-1
force_path_style = true
""".encode())
    b = unique("fin-rclone-")
    rclone(config, "mkdir", f"gw:{b}")
    files = {"a.txt": b"rclone says hello\n", "sub/b.bin": os.urandom(300_000), "sub/c.bin": os.urandom(3 * 1024 * 1024)}
    local = os.path.join(scratch, "rclone/src")
    for name, body in files.items():
        write_file(f"rclone/src/{name}", body)
    rclone(config, "copy", local, f"gw:{b}/data")
    listing = rclone(config, "ls", f"gw:{b}/data")
    seen = {line.split(None, 1)[1]: int(line.split(None, 1)[0]) for line in listing.splitlines() if line.strip()}
    assert seen == {name: len(body) for name, body in files.items()}, listing
    assert rclone(config, "cat", f"gw:{b}/data/a.txt").encode() == files["a.txt"]
    # check compares sizes and MD5 (the gateway's ETag) of every file.
    rclone(config, "check", local, f"gw:{b}/data")
    for name, body in files.items():
        key = f"data/{name}"
        assert s3.get_object(Bucket=b, Key=key)["Body"].read() == body
        assert_on_planned_zones(gateway, b, key, latest_version(b, key), body=body)


def test_s3cmd_put_get_ls_del():
    port = gateway.endpoint.rsplit(":", 1)[1]
    config = write_file("s3cmd/s3cfg", f"""[default]
access_key = live-key
secret_key = live-secret
host_base = 127.0.0.1:{port}
host_bucket = 127.0.0.1:{port}
use_https = False
bucket_location = us-east-1
signature_v2 = False
""".encode())

    def s3cmd(*args):
        return tool("s3cmd", "-c", config, *args)

    b = unique("fin-s3cmd-")
    s3cmd("mb", f"s3://{b}")
    small = os.urandom(12_345)
    # Above s3cmd's 15 MiB chunk size: a multipart upload of two parts.
    large = os.urandom(17 * 1024 * 1024)
    s3cmd("put", write_file("s3cmd/small.bin", small), f"s3://{b}/s/small.bin")
    s3cmd("put", write_file("s3cmd/large.bin", large), f"s3://{b}/s/large.bin")
    listing = s3cmd("ls", f"s3://{b}/s/")
    assert f"s3://{b}/s/small.bin" in listing and f"s3://{b}/s/large.bin" in listing, listing
    for name, body in (("small.bin", small), ("large.bin", large)):
        out = os.path.join(scratch, f"s3cmd/{name}.back")
        s3cmd("get", "--force", f"s3://{b}/s/{name}", out)
        assert sha256(read_file(out)) == sha256(body), name
        assert_on_planned_zones(gateway, b, f"s/{name}", latest_version(b, f"s/{name}"), body=body)
    s3cmd("del", f"s3://{b}/s/small.bin")
    listing = s3cmd("ls", f"s3://{b}/s/")
    assert "small.bin" not in listing and "large.bin" in listing, listing


def test_expect_100_continue_is_answered_before_the_body():
    # botocore sends Expect: 100-continue on uploads and holds the body back for a second
    # unless the server answers 100 Continue first.
    b = unique("fin-expect-")
    s3.create_bucket(Bucket=b)
    request = AWSRequest(method="PUT", url=f"{gateway.endpoint}/{b}/e.txt", data=b"hello",
                         headers={"Expect": "100-continue"})
    S3SigV4Auth(Credentials("live-key", "live-secret"), "s3", "us-east-1").add_auth(request)
    head = [f"PUT /{b}/e.txt HTTP/1.1", f"Host: 127.0.0.1:{gateway.s3_port}", "Content-Length: 5"]
    head += [f"{k}: {v}" for k, v in request.headers.items()]
    with socket.create_connection(("127.0.0.1", gateway.s3_port), timeout=10) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        interim = conn.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        conn.sendall(b"hello")
        final = conn.recv(4096)
        assert final.startswith(b"HTTP/1.1 200 OK\r\n"), final
    assert s3.get_object(Bucket=b, Key="e.txt")["Body"].read() == b"hello"


# MARK: placement

def test_default_policy_uses_the_stockholm_zone():
    # Outside fin-* buckets the Stockholm zone is allowed and preferred: the zone the fin-*
    # checks watch does receive data, so "never there" is not vacuous.
    b = unique("eu-")
    s3.create_bucket(Bucket=b)
    body = os.urandom(4096)
    v = s3.put_object(Bucket=b, Key="k.bin", Body=body)["VersionId"]
    plan = gateway.plan(b, "k.bin")
    assert plan == [FORBIDDEN_ZONE, "FI-HEL-ST-1"], plan
    assert_on_planned_zones(gateway, b, "k.bin", v, body=body)


def test_forbidden_zone_never_held_fin_data():
    fin = [k for k in physical_keys(FORBIDDEN_ZONE) if k.startswith("fin-")]
    assert fin == [], f"{FORBIDDEN_ZONE} holds objects of fin-* buckets: {fin[:5]}"
    for zone in ALLOWED_ZONES:
        assert [k for k in physical_keys(zone) if k.startswith("fin-")], f"{zone} holds nothing of the fin-* buckets"


def test_copies_move_out_of_a_zone_a_policy_change_forbids():
    # An object placed by the default policy (Stockholm, then Helsinki). A new residency policy
    # keeps move-* buckets in Finland; after the reload, remediation first makes a copy in
    # another Finnish zone, then removes the Stockholm one: checked on each S3 server directly.
    b = unique("move-")
    s3.create_bucket(Bucket=b)
    body = os.urandom(100_000)
    v = s3.put_object(Bucket=b, Key="doc.bin", Body=body)["VersionId"]
    location = backend_key(b, "doc.bin", v)
    assert zones_holding(location) == sorted([FORBIDDEN_ZONE, "FI-HEL-ST-1"])
    remediate = f"/api/residency/remediate?bucket={b}"
    extra = os.path.join(policies, "move-finland.yaml")
    with open(extra, "w") as f:
        f.write("apiVersion: sovereignty/v1\nkind: ResidencyPolicy\nmetadata: { name: live-move-finland }\n"
                "spec:\n  match: { buckets: [\"move-*\"] }\n  allow: { countries: [FI] }\n")
    try:
        status, reload = gateway.post_json("/api/policies/reload")
        assert status == 200, (status, reload)
        planned = sorted(gateway.plan(b, "doc.bin"))
        assert FORBIDDEN_ZONE not in planned and "FI-HEL-ST-1" in planned, planned
        status, dry = gateway.post_json(remediate + "&dry_run=true")
        assert status == 200 and dry["copies_outside_current_policies"] == 1 and dry["copies_queued"] == 1, dry
        assert zones_holding(location) == sorted([FORBIDDEN_ZONE, "FI-HEL-ST-1"])
        status, first = gateway.post_json(remediate)
        assert status == 200 and first["copies_queued"] == 1 and first["copies_retired"] == 0, first
        # Called again until the new copy is made and the old one retired.
        wait_until("the Stockholm copy to be retired",
                   lambda: gateway.post_json(remediate)[1]["copies_outside_current_policies"] == 0, timeout=90, interval=1)
        wait_until(f"{location} to leave {FORBIDDEN_ZONE}", lambda: FORBIDDEN_ZONE not in zones_holding(location),
                   timeout=90, interval=1)
        assert_on_planned_zones(gateway, b, "doc.bin", v, body=body)
        assert s3.get_object(Bucket=b, Key="doc.bin")["Body"].read() == body
        status, log = gateway.get_json(f"/api/operations/log?bucket={b}&operation=RemediateResidency")
        assert status == 200 and len(log["entries"]) == 2, log
    finally:
        os.remove(extra)
        status, reload = gateway.post_json("/api/policies/reload")
        assert status == 200, (status, reload)


# MARK: verification

def test_copy_removed_behind_the_gateway_is_found_and_made_again():
    # Someone deletes a copy in a provider's console: verification (every 2 s in this run)
    # finds it gone with a HEAD, and the copy is made again from another zone.
    b = unique("fin-verify-")
    s3.create_bucket(Bucket=b)
    body = os.urandom(70_000)
    v = s3.put_object(Bucket=b, Key="kept.bin", Body=body)["VersionId"]
    location = backend_key(b, "kept.bin", v)
    zone = sorted(gateway.plan(b, "kept.bin"))[0]
    zone_client(zone).delete_object(Bucket=PHYSICAL_BUCKET, Key=location)
    assert zone not in zones_holding(location), zone
    wait_until(f"{location} to be back in {zone}", lambda: zone in zones_holding(location), timeout=90, interval=1)
    assert sha256(physical_body(zone, location)) == sha256(body)
    assert_on_planned_zones(gateway, b, "kept.bin", v, body=body)
    metrics = urllib.request.urlopen(urllib.request.Request(
        gateway.management + "/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}), timeout=30).read().decode()
    lost = [line for line in metrics.splitlines() if line.startswith(f'gateway_verify_replicas_lost_total{{zone="{zone}"}}')]
    assert lost and float(lost[0].split()[-1]) >= 1, lost


def metric(name, zone, of=None):
    """The value of a counter of the gateway's (or `of`'s) /metrics for `zone` (0 when it has none yet)."""
    metrics = urllib.request.urlopen(urllib.request.Request(
        (of or gateway).management + "/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}), timeout=30).read().decode()
    lines = [line for line in metrics.splitlines() if line.startswith(f'{name}{{zone="{zone}"}}')]
    return float(lines[0].split()[-1]) if lines else 0


# MARK: a client that pauses its download

def test_download_paused_longer_than_the_backend_read_timeout_completes():
    # The gateway's backend read timeout is BACKEND_READ_TIMEOUT here (main()). A client that
    # stops reading a download for longer than that makes the gateway's read of the provider
    # time out too, as it stops reading the provider while its client does not read. The read
    # goes on from the same replica with a ranged GET; the zone is not counted as failing.
    b = unique("paused-")
    s3.create_bucket(Bucket=b)
    served = gateway.plan(b, "big.bin")[0]
    # More than the sockets and the HTTP clients buffer between the provider and the client.
    body = os.urandom(64 * 1024 * 1024)
    s3.put_object(Bucket=b, Key="big.bin", Body=body)
    resumed_before = metric("gateway_reads_resumed_total", served)
    stream = gateway.client(read_timeout=120).get_object(Bucket=b, Key="big.bin")["Body"]
    got = stream.read(1024 * 1024)
    time.sleep(2.5 * BACKEND_READ_TIMEOUT)
    got += stream.read()
    assert len(got) == len(body) and sha256(got) == sha256(body), f"{len(got)} of {len(body)} bytes, or other bytes"
    assert metric("gateway_reads_resumed_total", served) == resumed_before + 1, "the read did not go on from the same zone"
    status, backends = gateway.get_json("/backends")
    failures = {d["zone_code"]: d["consecutive_failures"] for d in backends["backends"]}
    assert status == 200 and failures[served] == 0, failures


# MARK: more uploads than backend connections

def slow_put(gw, bucket, key, body, seconds, pieces=16):
    """A PUT whose body is sent in `pieces` over `seconds`, as from a client on a slow link;
    returns the response's status code."""
    request = AWSRequest(method="PUT", url=f"{gw.endpoint}/{bucket}/{key}", data=body)
    S3SigV4Auth(Credentials("live-key", "live-secret"), "s3", "us-east-1").add_auth(request)
    head = [f"PUT /{bucket}/{key} HTTP/1.1", f"Host: 127.0.0.1:{gw.s3_port}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in request.headers.items()]
    piece = (len(body) + pieces - 1) // pieces
    with socket.create_connection(("127.0.0.1", gw.s3_port), timeout=120) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for start in range(0, len(body), piece):
            conn.sendall(body[start:start + piece])
            time.sleep(seconds / pieces)
        response = conn.recv(4096)
    return int(response.split(b" ")[1])


def test_uploads_holding_every_backend_connection_make_other_requests_wait_not_fail():
    # A gateway with one connection to each provider host per event loop
    # (GATEWAY_BACKEND_CONNECTIONS=1): as many uploads from clients on slow links as it has
    # event loops hold them all for ~12 s. A write that comes meanwhile waits in line for a
    # connection, longer than the HTTP client's own wait for one (its connect timeout, 5 s),
    # and is answered, not refused with 503 (the client here does not retry).
    loops = len(os.sched_getaffinity(0))
    busy = Gateway("busy", GATEWAY_BACKEND_CONNECTIONS="1").start()
    try:
        client = busy.client()
        b = unique("eu-busy-")
        client.create_bucket(Bucket=b)
        zones = busy.plan(b, "small.bin")
        waits_before = {z: metric("gateway_backend_connection_waits_total", z, of=busy) for z in zones}
        bodies = {f"slow-{i}.bin": os.urandom(1024 * 1024) for i in range(loops)}
        statuses = {}
        uploads = [threading.Thread(target=lambda k=k, v=v: statuses.__setitem__(k, slow_put(busy, b, k, v, seconds=12)))
                   for k, v in bodies.items()]
        for upload in uploads:
            upload.start()
        # A body over 64 KiB is streamed: each upload's backend requests open when it starts.
        time.sleep(2)
        small = os.urandom(4096)
        started = time.monotonic()
        client.put_object(Bucket=b, Key="small.bin", Body=small)
        waited = time.monotonic() - started
        for upload in uploads:
            upload.join()
        print(f"  the 4 KiB PUT was answered after {waited:.1f} s")
        assert statuses == {k: 200 for k in bodies}, statuses
        assert waited > 5, f"the 4 KiB PUT was answered after {waited:.1f} s: it did not wait for a connection"
        for zone in zones:
            assert metric("gateway_backend_connection_waits_total", zone, of=busy) > waits_before[zone], zone
        for key, body in {**bodies, "small.bin": small}.items():
            assert sha256(client.get_object(Bucket=b, Key=key)["Body"].read()) == sha256(body), key
    finally:
        busy.stop()


# MARK: a zone that stops answering

def test_zone_that_stops_answering_holds_up_neither_writes_nor_reads():
    # The first zone of the fin-* plan hangs (SIGSTOP: connections are accepted, nothing is
    # answered). Writes need two of three copies: they go on without it after the straggler
    # grace (2 s), not the HTTP client's read timeout; reads of objects it holds go to the next
    # replica after 3 s. Once it answers again, the replication worker completes the copies.
    b = unique("fin-hang-")
    s3.create_bucket(Bucket=b)
    hung = "FI-HEL-ST-1"
    assert gateway.plan(b, "x")[0] == hung
    before = os.urandom(100_000)
    version_before = s3.put_object(Bucket=b, Key="before.bin", Body=before)["VersionId"]
    gateway.wait_fully_replicated(timeout=60)
    assert hung in zones_holding(backend_key(b, "before.bin", version_before))
    acknowledged = {}
    pause_zone(hung)
    try:
        # At once, before a health probe notices (every 5 s, 3 s to give up): a read of a
        # version whose first replica is there, then writes, small (sent in one request) and
        # streamed; each held up for the failover timeout or the straggler grace at most.
        started = time.monotonic()
        assert s3.get_object(Bucket=b, Key="before.bin")["Body"].read() == before
        read = time.monotonic() - started
        assert read < 10, f"a read took {read:.1f}s with {hung} hung"
        writes = []
        for i, size in enumerate([10, 1000, 200_000, 6 * 1024 * 1024]):
            key, body = f"during/{i}.bin", os.urandom(size)
            started = time.monotonic()
            acknowledged[key] = (s3.put_object(Bucket=b, Key=key, Body=body)["VersionId"], body)
            writes.append(time.monotonic() - started)
            assert writes[-1] < 10, f"a write of {size} bytes took {writes[-1]:.1f}s with {hung} hung"
        print(f"  with {hung} hung: a read took {read:.1f}s, writes took {', '.join(f'{t:.1f}' for t in writes)}s")
    finally:
        resume_zone(hung)
    gateway.wait_fully_replicated(timeout=120)
    for key, (version, body) in acknowledged.items():
        assert_on_planned_zones(gateway, b, key, version, body=body)


def test_write_whose_quorum_zones_stop_taking_the_body_gets_503():
    # Two of the three zones of a fin-* write (quorum 2) hang while it streams: the write cannot
    # reach its quorum. The client gets 503 once those zones have taken nothing for the backend
    # stall timeout (10 s), not a connection closed by the idle timeout (30 s) with no answer;
    # nothing is stored anywhere.
    b = unique("fin-stall-")
    s3.create_bucket(Bucket=b)
    hung = sorted(ALLOWED_ZONES)[:2]
    assert sorted(gateway.plan(b, "big.bin")) == sorted(ALLOWED_ZONES)
    # More than the two hung servers' sockets take before they stop reading.
    body = os.urandom(64 * 1024 * 1024)
    # boto3's default timeouts (60 s): urllib3 gives up sending a body the server stops reading
    # for the connect timeout, which the suite's client has at 5 s.
    client = gateway.client(connect_timeout=60, read_timeout=60)
    for zone in hung:
        pause_zone(zone)
    try:
        started = time.monotonic()
        try:
            client.put_object(Bucket=b, Key="big.bin", Body=body)
            raise AssertionError("a write was acknowledged although two of its three zones stopped taking it")
        except ClientError as e:
            assert error_code(e) == "ServiceUnavailable", e
        took = time.monotonic() - started
        print(f"  with {' and '.join(hung)} hung: 503 after {took:.1f}s")
        # The stall timeout, not a refusal up front (the zones were up when the write began).
        assert 8 < took < 25, f"the write was answered after {took:.1f}s"
    finally:
        for zone in hung:
            resume_zone(zone)
    try:
        s3.head_object(Bucket=b, Key="big.bin")
        raise AssertionError("a version of the refused write is visible")
    except ClientError as e:
        assert error_code(e) in ("404", "NoSuchKey"), e
    # The zone that took the body aborted its upload; the hung ones drop theirs once they read
    # the rest of the cut connection.
    wait_until("no zone to hold a copy of the refused write",
               lambda: all(physical_keys(zone, f"{b}/") == [] for zone in ALLOWED_ZONES), 30)
    # The next test needs every zone up again (a /health request probes them all).
    wait_until("the hung zones to be up again",
               lambda: all(gateway.get_json("/health")[1]["backends"][zone] == "ok" for zone in ALLOWED_ZONES), 30)


# MARK: a zone stopped during writes

def test_zone_stopped_during_writes_is_repaired():
    b = unique("fin-outage-")
    s3.create_bucket(Bucket=b)
    down = "FI-HEL-HZ-1"
    assert sorted(gateway.plan(b, "x")) == sorted(ALLOWED_ZONES)
    stop_zone(down)
    acknowledged = {}
    failures = []
    sizes = [10, 1000, 70_000, 1024 * 1024, 6 * 1024 * 1024] * 2 + [123, 4567]
    started = time.monotonic()
    for i, size in enumerate(sizes):
        key, body = f"during/{i}.bin", os.urandom(size)
        try:
            acknowledged[key] = (s3.put_object(Bucket=b, Key=key, Body=body)["VersionId"], body)
        except ClientError as e:
            failures.append((key, error_code(e)))
    # A multipart upload (aws CLI, 20 MiB) while the zone is down, too.
    big = os.urandom(20 * 1024 * 1024)
    aws("s3", "cp", write_file("outage/big.bin", big), f"s3://{b}/during/big.bin")
    acknowledged["during/big.bin"] = (latest_version(b, "during/big.bin"), big)
    print(f"  {len(acknowledged)} writes with {down} down in {time.monotonic() - started:.1f}s")
    assert failures == [], f"writes failed although two of three zones were up: {failures}"
    # Readable while the zone is down, and known to be short of a copy.
    for key, (version, body) in acknowledged.items():
        assert s3.get_object(Bucket=b, Key=key, VersionId=version)["Body"].read() == body, key
    short = {(r["key"], r["version_id"]) for r in gateway.under_replicated() if r["bucket"] == b}
    assert short == {(k, v) for k, (v, _) in acknowledged.items()}, short
    for key, (version, _) in acknowledged.items():
        up = sorted(z for z in ZONE_URLS if z != down)
        assert zones_holding(backend_key(b, key, version), up) == sorted(z for z in ALLOWED_ZONES if z != down), key

    start_zone(down)
    restarted = time.monotonic()
    gateway.wait_fully_replicated(timeout=240)
    print(f"  repaired {time.monotonic() - restarted:.1f}s after {down} came back")
    for key, (version, body) in acknowledged.items():
        got = s3.get_object(Bucket=b, Key=key)
        assert got["VersionId"] == version and sha256(got["Body"].read()) == sha256(body), key
        assert_on_planned_zones(gateway, b, key, version, body=body)


TESTS = [
    test_aws_cli_multipart_50mib_round_trip,
    test_boto3_put_get_list_delete,
    test_rclone_copy_ls_cat_check,
    test_s3cmd_put_get_ls_del,
    test_expect_100_continue_is_answered_before_the_body,
    test_default_policy_uses_the_stockholm_zone,
    test_forbidden_zone_never_held_fin_data,
    test_copies_move_out_of_a_zone_a_policy_change_forbids,
    test_copy_removed_behind_the_gateway_is_found_and_made_again,
    test_download_paused_longer_than_the_backend_read_timeout_completes,
    test_uploads_holding_every_backend_connection_make_other_requests_wait_not_fail,
    test_zone_that_stops_answering_holds_up_neither_writes_nor_reads,
    test_write_whose_quorum_zones_stop_taking_the_body_gets_503,
    test_zone_stopped_during_writes_is_repaired,
]


def main():
    global gateway, s3
    # Verification every 2 s, fast, so that a copy removed behind the gateway's back is seen;
    # a backend read timeout of BACKEND_READ_TIMEOUT, so that a paused download outlasts it.
    shutil.copytree(POLICIES_DIR, policies)
    gateway = Gateway("moto", POLICIES_DIR=policies, GATEWAY_VERIFY_INTERVAL="2", GATEWAY_VERIFY_RATE="500",
                      GATEWAY_BACKEND_READ_TIMEOUT=str(BACKEND_READ_TIMEOUT)).start()
    s3 = gateway.client()
    try:
        # LIVE_TESTS=name,name runs only the tests whose names contain one of them.
        wanted = [w for w in os.environ.get("LIVE_TESTS", "").split(",") if w]
        ok = run([t for t in TESTS if not wanted or any(w in t.__name__ for w in wanted)], gateways=lambda: [gateway])
    finally:
        gateway.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
