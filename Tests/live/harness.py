"""Shared pieces of the live suites that run the gateway against moto S3 servers and PostgreSQL.

The calling script (scripts/live-moto-test.sh, scripts/fault-test.sh) starts the S3 servers
and PostgreSQL and exports where they are:

  WORK_DIR          scratch folder of the run (gateway logs and pid files go here)
  GATEWAY_BIN       the gateway executable
  BACKENDS_CONFIG   the backends file mapping catalog zones to the moto servers
  POLICIES_DIR      the test policy set (Tests/live/policies)
  PROVIDERS_FILE    the catalog
  MOTO_DIR          folder of scripts/moto.sh (urls, pids, moto-I/log, moto-I/tmp)
  ZONE_URLS         ZONE=URL,ZONE=URL,... the moto server of each zone
  FORBIDDEN_ZONE    the zone the policies forbid for fin-* buckets
  POSTGRES_DIR      folder of scripts/postgres.sh (url, root)
  DATABASE_URL      the PostgreSQL URL

The gateways are started here (several per suite, killed and restarted by the fault tests);
each writes its pid to WORK_DIR/gateway-NAME.pid so that the script's exit trap can stop it
even when this process dies.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

WORK_DIR = os.environ["WORK_DIR"]
GATEWAY_BIN = os.environ["GATEWAY_BIN"]
BACKENDS_CONFIG = os.environ["BACKENDS_CONFIG"]
POLICIES_DIR = os.environ["POLICIES_DIR"]
PROVIDERS_FILE = os.environ["PROVIDERS_FILE"]
MOTO_DIR = os.environ["MOTO_DIR"]
ZONE_URLS = dict(item.split("=", 1) for item in os.environ["ZONE_URLS"].split(","))
FORBIDDEN_ZONE = os.environ["FORBIDDEN_ZONE"]
ALLOWED_ZONES = sorted(z for z in ZONE_URLS if z != FORBIDDEN_ZONE)
POSTGRES_DIR = os.environ["POSTGRES_DIR"]
DATABASE_URL = os.environ["DATABASE_URL"]

PHYSICAL_BUCKET = "2025-datatransfer"
ACCESS_KEY = "live-key"
SECRET_KEY = "live-secret"
ADMIN_TOKEN = "live-admin-token"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unique(prefix):
    return prefix + uuid.uuid4().hex[:10]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def wait_until(what, predicate, timeout, interval=0.5):
    """Polls `predicate` until it returns a true value; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # the thing polled may fail while it is coming up
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# MARK: gateways

class Gateway:
    """One gateway process on free loopback ports, on the run's PostgreSQL and moto servers."""

    def __init__(self, name, **environment):
        self.name = name
        self.environment = environment
        self.s3_port = free_port()
        self.mgmt_port = free_port()
        self.log_path = os.path.join(WORK_DIR, f"gateway-{name}.log")
        self.pid_path = os.path.join(WORK_DIR, f"gateway-{name}.pid")
        self.process = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def management(self):
        return f"http://127.0.0.1:{self.mgmt_port}"

    def start(self, timeout=60):
        env = dict(os.environ, DATABASE_URL=DATABASE_URL, S3_BACKENDS_CONFIG=BACKENDS_CONFIG,
                   PROVIDERS_FILE=PROVIDERS_FILE, POLICIES_DIR=POLICIES_DIR, GATEWAY_HOST="127.0.0.1",
                   GATEWAY_S3_PORT=str(self.s3_port), GATEWAY_PORT=str(self.mgmt_port),
                   GATEWAY_ACCESS_KEY=ACCESS_KEY, GATEWAY_SECRET_KEY=SECRET_KEY, GATEWAY_ADMIN_TOKEN=ADMIN_TOKEN,
                   DATA_DIR=os.path.join(WORK_DIR, f"data-{self.name}"), LOG_LEVEL=os.environ.get("GATEWAY_LOG_LEVEL", "notice"))
        env.update(self.environment)
        log = open(self.log_path, "ab")
        log.write(f"\n===== start {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        self.process = subprocess.Popen([GATEWAY_BIN], env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        with open(self.pid_path, "w") as f:
            f.write(str(self.process.pid))
        wait_until(f"gateway {self.name} to be ready", self._ready, timeout, interval=0.2)
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gateway {self.name} exited with {self.process.returncode}; log:\n{self.log_tail()}")
        status, _ = self.get_json("/health")
        if status != 200:
            return False
        # Migrations done and the S3 port serving: a signed ListBuckets answers.
        self.client().list_buckets()
        return True

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM (graceful shutdown), SIGKILL after 15 s."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._forget()

    def kill9(self):
        self.process.kill()
        self.process.wait()
        self._forget()

    def _forget(self):
        try:
            os.remove(self.pid_path)
        except FileNotFoundError:
            pass

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except FileNotFoundError:
            return "(no log)"

    def client(self, **config):
        return s3_client(self.endpoint, **config)

    def get_json(self, path):
        """(status, parsed JSON) of a management API GET with the admin token."""
        request = urllib.request.Request(self.management + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, body

    def post_json(self, path):
        """(status, parsed JSON) of a management API POST with the admin token."""
        request = urllib.request.Request(self.management + path, method="POST", data=b"",
                                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def policy_set_hash(self):
        status, body = self.get_json("/api/policies")
        assert status == 200, (status, body)
        return body["policySetHash"]

    def plan(self, bucket, key):
        status, plan = self.get_json(f"/api/plan?bucket={bucket}&key={urllib.parse.quote(key)}")
        assert status == 200 and plan["allowed"], (status, plan)
        return plan["zones"]

    def under_replicated(self):
        status, body = self.get_json("/api/replicas/status?limit=1000")
        assert status == 200, (status, body)
        return body["under_replicated"]

    def wait_fully_replicated(self, timeout):
        wait_until("every version to have all its copies (/api/replicas/status empty)",
                   lambda: self.under_replicated() == [], timeout, interval=1)


def s3_client(endpoint, retries=1, **config):
    # urllib3 holds the sending of a request body to the connect timeout too.
    options = dict(connect_timeout=5, read_timeout=120)
    options.update(config)
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": retries, "mode": "standard"},
                                      **options))


def error_code(error):
    return error.response.get("Error", {}).get("Code")


# MARK: the zones' S3 servers, directly

def zone_client(zone):
    return boto3.client("s3", endpoint_url=ZONE_URLS[zone], region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


def physical_keys(zone, prefix=""):
    """Every object key in the zone's physical bucket under `prefix` (moto, read directly)."""
    client = zone_client(zone)
    keys = []
    token = None
    while True:
        args = {"Bucket": PHYSICAL_BUCKET, "Prefix": prefix}
        if token:
            args["ContinuationToken"] = token
        try:
            page = client.list_objects_v2(**args)
        except ClientError as e:
            if error_code(e) == "NoSuchBucket":
                return []
            raise
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def physical_uploads(zone, prefix=""):
    """Keys of the unfinished multipart uploads in the zone's physical bucket under `prefix`."""
    try:
        page = zone_client(zone).list_multipart_uploads(Bucket=PHYSICAL_BUCKET, Prefix=prefix)
    except ClientError as e:
        if error_code(e) == "NoSuchBucket":
            return []
        raise
    return [u["Key"] for u in page.get("Uploads", [])]


def physical_body(zone, key):
    return zone_client(zone).get_object(Bucket=PHYSICAL_BUCKET, Key=key)["Body"].read()


def backend_key(bucket, key, version_id):
    """Where a version's bytes live in each zone (`<bucket>/<key>.<storage-id>`; with versioning
    enabled by the policies the version id is the storage id)."""
    return f"{bucket}/{key}.{version_id}"


def zones_holding(key, zones=None):
    """The zones (of `zones`, default all) whose physical bucket holds `key`."""
    return sorted(zone for zone in (zones or ZONE_URLS) if key in set(physical_keys(zone, key)))


def assert_on_planned_zones(gateway, bucket, key, version_id, body=None):
    """The version's bytes are on exactly the planned zones (read on each S3 server directly),
    byte-identical when `body` is given, and never on the forbidden zone."""
    planned = sorted(gateway.plan(bucket, key))
    location = backend_key(bucket, key, version_id)
    holding = zones_holding(location)
    assert holding == planned, f"{location}: on {holding}, planned {planned}"
    if body is not None:
        for zone in planned:
            assert sha256(physical_body(zone, location)) == sha256(body), f"{location} differs on {zone}"
    if bucket.startswith("fin-"):
        assert FORBIDDEN_ZONE not in holding
        assert physical_keys(FORBIDDEN_ZONE, bucket + "/") == [], f"{FORBIDDEN_ZONE} holds data of {bucket}"


# MARK: moto servers: stop one, start it again on the same port

def moto_index(zone):
    with open(os.path.join(MOTO_DIR, "urls")) as f:
        urls = [line.strip() for line in f if line.strip()]
    return urls.index(ZONE_URLS[zone])


def _pids():
    with open(os.path.join(MOTO_DIR, "pids")) as f:
        return [line.strip() for line in f if line.strip()]


def stop_zone(zone):
    """SIGKILL the zone's moto server (its objects, kept in memory, are gone with it)."""
    pid = int(_pids()[moto_index(zone)])
    os.kill(pid, signal.SIGKILL)
    wait_until(f"the {zone} server to die", lambda: not _pid_alive(pid), 10, interval=0.1)
    port = int(ZONE_URLS[zone].rsplit(":", 1)[1])
    # Asked a few times: the port is in the ephemeral range, and a connection to it with nothing
    # listening can, rarely, be given that same port as its own and connect to itself.
    wait_until(f"{zone}'s port to refuse connections", lambda: _refuses(port), 5, interval=0.1)


def _refuses(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def pause_zone(zone):
    """SIGSTOP the zone's moto server: it keeps its port and its objects, accepts connections
    (the kernel does) and answers nothing, as a provider that hangs."""
    os.kill(int(_pids()[moto_index(zone)]), signal.SIGSTOP)


def resume_zone(zone):
    os.kill(int(_pids()[moto_index(zone)]), signal.SIGCONT)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def start_zone(zone):
    """Starts a new (empty) moto server on the zone's port and records its pid in MOTO_DIR/pids,
    where scripts/moto.sh stop finds it."""
    i = moto_index(zone)
    home = os.path.join(MOTO_DIR, f"moto-{i + 1}")
    port = ZONE_URLS[zone].rsplit(":", 1)[1]
    log = open(os.path.join(home, "log"), "ab")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
                               env=dict(os.environ, TMPDIR=os.path.join(home, "tmp")), stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    pids = _pids()
    pids[i] = str(process.pid)
    with open(os.path.join(MOTO_DIR, "pids"), "w") as f:
        f.write("\n".join(pids) + "\n")

    def up():
        with urllib.request.urlopen(ZONE_URLS[zone] + "/moto-api/", timeout=2) as r:
            return r.status == 200
    wait_until(f"{zone} to answer again", up, 30, interval=0.2)


def moto_log(zone):
    with open(os.path.join(MOTO_DIR, f"moto-{moto_index(zone) + 1}", "log"), "rb") as f:
        return f.read().decode(errors="replace")


# MARK: PostgreSQL: stop it, start it again on the same port

def _postgres_paths():
    root = POSTGRES_DIR
    marker = os.path.join(POSTGRES_DIR, "root")
    if os.path.exists(marker) and os.path.getsize(marker) > 0:
        root = open(marker).read().strip()
    bindirs = sorted((d for d in os.listdir("/usr/lib/postgresql") if os.path.exists(f"/usr/lib/postgresql/{d}/bin/pg_ctl")),
                     key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])
    assert bindirs, "no PostgreSQL server binaries in /usr/lib/postgresql"
    return root, f"/usr/lib/postgresql/{bindirs[-1]}/bin"


def _as_postgres_user(args):
    # The server runs as `postgres` when scripts/postgres.sh ran as root (initdb refuses root).
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


def postgres_port():
    return int(DATABASE_URL.rsplit(":", 1)[1].split("/")[0])


def stop_postgres():
    root, bindir = _postgres_paths()
    subprocess.run(_as_postgres_user([f"{bindir}/pg_ctl", "stop", "-D", f"{root}/data", "-m", "fast", "-w"]),
                   check=True, capture_output=True)


def start_postgres():
    """Starts the stopped server again with the options scripts/postgres.sh gave it, on the same port."""
    root, bindir = _postgres_paths()
    options = f"-c listen_addresses=127.0.0.1 -p {postgres_port()} -k {root}/socket"
    subprocess.run(_as_postgres_user([f"{bindir}/pg_ctl", "start", "-w", "-t", "60", "-D", f"{root}/data",
                                      "-l", f"{root}/log", "-o", options]), check=True, capture_output=True)


def psql(sql):
    """Rows of a query on the metadata database, as lists of strings."""
    result = subprocess.run(["psql", DATABASE_URL, "-XAtq", "-F", "\t", "-c", sql], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines() if line]


# MARK: running the tests

class Background:
    """A thread that runs `fn` and keeps its exception for `join`."""

    def __init__(self, fn, *args):
        self.error = None
        self.result = None

        def run():
            try:
                self.result = fn(*args)
            except BaseException as e:  # reported by join
                self.error = e
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout=None):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "a background task did not finish"
        if self.error:
            raise self.error
        return self.result


def run(tests, gateways=lambda: [], after=lambda: None):
    """Runs the tests in the given order; prints PASS/FAIL per test and 'N passed, M failed'.
    `gateways` gives the gateways whose logs a failure prints; `after` runs after each test."""
    passed = failed = 0
    for fn in tests:
        started = time.monotonic()
        try:
            fn()
            print(f"PASS {fn.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
            passed += 1
        except Exception:
            print(f"FAIL {fn.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
            traceback.print_exc()
            for g in gateways():
                print(f"--- gateway {g.name} log (last lines)\n{g.log_tail()}")
            failed += 1
        after()
    print(f"{passed} passed, {failed} failed", flush=True)
    return failed == 0
