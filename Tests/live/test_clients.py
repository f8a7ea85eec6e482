"""Live tests: real S3 clients (aws CLI, boto3) against a running gateway.

Environment: GATEWAY_ENDPOINT (http://127.0.0.1:PORT), GATEWAY_MANAGEMENT (http://127.0.0.1:PORT),
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of a gateway principal, ZONES_DIR (the local-disk
zones' folder, to check placement on disk).
"""
import hashlib
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid

from runner import run_tests

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["GATEWAY_ENDPOINT"]
MANAGEMENT = os.environ["GATEWAY_MANAGEMENT"]
ZONES_DIR = os.environ["ZONES_DIR"]

s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def aws(*args, input=None, ok=(0,)):
    result = subprocess.run(["aws", "--endpoint-url", ENDPOINT, *args], capture_output=True, input=input)
    if result.returncode not in ok:
        raise AssertionError(f"aws {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout


def files_in(zone):
    base = os.path.join(ZONES_DIR, zone, "2025-datatransfer")
    found = []
    for root, _, names in os.walk(base):
        found += [os.path.join(root, n) for n in names if ".part-" not in n]
    return found


def upload_files_in(zone):
    """Files of unfinished backend multipart uploads of a local-disk zone."""
    found = []
    for root, _, names in os.walk(os.path.join(ZONES_DIR, zone, "_multipart")):
        found += [os.path.join(root, n) for n in names]
    return found


def bucket_name():
    return "t-" + uuid.uuid4().hex[:12]


def test_aws_cli_round_trip():
    b = bucket_name()
    aws("s3", "mb", f"s3://{b}")
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(os.urandom(300_000))
        path = f.name
    aws("s3", "cp", path, f"s3://{b}/dir/file.bin")
    listing = aws("s3", "ls", f"s3://{b}/dir/").decode()
    assert "file.bin" in listing, listing
    out = path + ".back"
    aws("s3", "cp", f"s3://{b}/dir/file.bin", out)
    assert open(out, "rb").read() == open(path, "rb").read()
    aws("s3", "rm", f"s3://{b}/dir/file.bin")
    # `aws s3 ls` exits 1 when nothing matches.
    assert "file.bin" not in aws("s3", "ls", f"s3://{b}/dir/", ok=(0, 1)).decode()


def test_boto3_put_get_head_list_delete():
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    body = b"hello from boto3" * 100
    put = s3.put_object(Bucket=b, Key="a/b.txt", Body=body, ContentType="text/plain", Metadata={"owner": "dpo"})
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=b, Key="a/b.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "dpo"}
    head = s3.head_object(Bucket=b, Key="a/b.txt")
    assert head["ContentLength"] == len(body)
    part = s3.get_object(Bucket=b, Key="a/b.txt", Range="bytes=0-4")
    assert part["Body"].read() == b"hello"
    listing = s3.list_objects_v2(Bucket=b, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in listing.get("Contents", [])] == ["a/b.txt"]
    s3.delete_object(Bucket=b, Key="a/b.txt")
    try:
        s3.head_object(Bucket=b, Key="a/b.txt")
        raise AssertionError("object still visible after delete")
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
    versions = s3.list_object_versions(Bucket=b)
    assert len(versions.get("Versions", [])) == 1 and len(versions.get("DeleteMarkers", [])) == 1


def test_boto3_errors():
    try:
        s3.get_object(Bucket="no-such-bucket-" + uuid.uuid4().hex[:8], Key="x")
        raise AssertionError("expected NoSuchBucket")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchBucket", e.response
    bad = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key="wrong-secret", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    try:
        bad.list_buckets()
        raise AssertionError("expected SignatureDoesNotMatch")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response


def test_boto3_conditional_writes():
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="lock", Body=b"first", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=b, Key="lock", Body=b"second", IfNoneMatch="*")
        raise AssertionError("expected PreconditionFailed")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "PreconditionFailed", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    etag = s3.head_object(Bucket=b, Key="lock")["ETag"]
    s3.put_object(Bucket=b, Key="lock", Body=b"updated", IfMatch=etag)
    try:
        s3.put_object(Bucket=b, Key="lock", Body=b"lost update", IfMatch=etag)
        raise AssertionError("expected PreconditionFailed")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "PreconditionFailed", e.response
    assert s3.get_object(Bucket=b, Key="lock")["Body"].read() == b"updated"


def test_presigned_url():
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="p.txt", Body=b"presigned")
    v4 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = v4.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p.txt"}, ExpiresIn=60)
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"presigned"
    tampered = url.replace("p.txt", "q.txt")
    try:
        urllib.request.urlopen(tampered)
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403
    expired = v4.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p.txt"}, ExpiresIn=1)
    import time
    time.sleep(2)
    try:
        urllib.request.urlopen(expired)
        raise AssertionError("an expired presigned URL was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403 and b"expired" in e.read()


def test_personal_data_stays_on_planned_zones():
    b = "hr-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=b)
    before = {z: set(files_in(z)) for z in ("FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1")}
    s3.put_object(Bucket=b, Key="personal/alice.json", Body=b"{}", Tagging="classification=personal")
    plan = json.load(urllib.request.urlopen(f"{MANAGEMENT}/api/plan?bucket={b}&key=personal/alice.json&tag=classification=personal"))
    assert plan["allowed"] and plan["zones"] == ["FI-HEL-UC-1", "FI-HEL-ST-1"], plan
    for zone in ("FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"):
        added = set(files_in(zone)) - before[zone]
        expected = 1 if zone in plan["zones"] else 0
        assert len(added) == expected, (zone, added)


def test_boto3_large_upload_is_multipart_or_single():
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    data = os.urandom(5 * 1024 * 1024)
    s3.put_object(Bucket=b, Key="big.bin", Body=data, ChecksumAlgorithm="CRC32")
    assert s3.get_object(Bucket=b, Key="big.bin")["Body"].read() == data


def test_aws_cli_multipart_cp_round_trip():
    # 20 MiB is above the aws CLI's 8 MiB multipart threshold: three parts.
    b = bucket_name()
    aws("s3", "mb", f"s3://{b}")
    data = os.urandom(20 * 1024 * 1024)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        path = f.name
    aws("s3", "cp", path, f"s3://{b}/big/file.bin")
    head = s3.head_object(Bucket=b, Key="big/file.bin")
    assert head["ContentLength"] == len(data), head
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    out = path + ".back"
    aws("s3", "cp", f"s3://{b}/big/file.bin", out)
    assert hashlib.sha256(open(out, "rb").read()).digest() == hashlib.sha256(data).digest()
    assert not s3.list_multipart_uploads(Bucket=b).get("Uploads")
    # Each zone's backend upload became the object: no upload folder is left on disk.
    for zone in ("FI-HEL-ST-1", "FI-HEL-UC-1", "FI-HEL-HZ-1"):
        assert not [p for p in upload_files_in(zone)], zone


def test_boto3_multipart_api():
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    first = os.urandom(5 * 1024 * 1024)
    second = os.urandom(1234)
    up = s3.create_multipart_upload(Bucket=b, Key="mp.bin", ContentType="application/x-test", Metadata={"k": "v"})
    uid = up["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=b)
    assert [u["UploadId"] for u in listed.get("Uploads", [])] == [uid], listed
    p1 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=uid, PartNumber=1, Body=first)
    p2 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=uid, PartNumber=2, Body=second)
    parts = s3.list_parts(Bucket=b, Key="mp.bin", UploadId=uid)
    assert [p["PartNumber"] for p in parts["Parts"]] == [1, 2], parts
    done = s3.complete_multipart_upload(Bucket=b, Key="mp.bin", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    expected = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(second).digest()).hexdigest() + "-2"
    assert done["ETag"] == '"%s"' % expected, done
    got = s3.get_object(Bucket=b, Key="mp.bin")
    assert got["Body"].read() == first + second
    assert got["ContentType"] == "application/x-test" and got["Metadata"] == {"k": "v"}
    # Errors: unknown upload, too-small part, abort.
    try:
        s3.list_parts(Bucket=b, Key="mp.bin", UploadId="nope")
        raise AssertionError("expected NoSuchUpload")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchUpload", e.response
    up2 = s3.create_multipart_upload(Bucket=b, Key="small.bin")["UploadId"]
    a = s3.upload_part(Bucket=b, Key="small.bin", UploadId=up2, PartNumber=1, Body=b"a")
    c = s3.upload_part(Bucket=b, Key="small.bin", UploadId=up2, PartNumber=2, Body=b"c")
    try:
        s3.complete_multipart_upload(Bucket=b, Key="small.bin", UploadId=up2, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": a["ETag"]}, {"PartNumber": 2, "ETag": c["ETag"]}]})
        raise AssertionError("expected EntityTooSmall")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "EntityTooSmall", e.response
    s3.abort_multipart_upload(Bucket=b, Key="small.bin", UploadId=up2)
    assert not s3.list_multipart_uploads(Bucket=b).get("Uploads")


def test_boto3_object_lock():
    b = bucket_name()
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    cfg = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
    assert cfg["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}, cfg
    v = s3.put_object(Bucket=b, Key="l.txt", Body=b"locked")["VersionId"]
    assert s3.get_object_retention(Bucket=b, Key="l.txt")["Retention"]["Mode"] == "GOVERNANCE"
    s3.put_object_legal_hold(Bucket=b, Key="l.txt", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=b, Key="l.txt")["LegalHold"]["Status"] == "ON"
    try:
        s3.delete_object(Bucket=b, Key="l.txt", VersionId=v)
        raise AssertionError("a version under legal hold was deleted")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e.response


def test_management_api():
    health = json.load(urllib.request.urlopen(f"{MANAGEMENT}/health"))
    assert health["database"] == "ok", health
    log = json.load(urllib.request.urlopen(f"{MANAGEMENT}/api/operations/log?limit=5"))
    assert len(log["entries"]) > 0


def test_sealed_operations_log_verifies():
    # The gateway seals every second here: the writes of the tests before this one are in the
    # chain, the gateway's check passes, and so does the independent script on an export.
    import time
    report = None
    for _ in range(100):
        report = json.load(urllib.request.urlopen(f"{MANAGEMENT}/api/operations/log/verify"))
        assert report["ok"], report
        if report["checked"] > 0 and report["unsealed"]["entries"] == 0:
            break
        time.sleep(0.2)
    assert report["checked"] > 0 and report["unsealed"]["entries"] == 0, report
    export = os.path.join(tempfile.mkdtemp(), "log.ndjson")
    with urllib.request.urlopen(f"{MANAGEMENT}/api/operations/log/export") as r, open(export, "wb") as f:
        f.write(r.read())
    head = f"{report['head']['sequence']}:{report['head']['hash']}"
    result = subprocess.run(["python3", "scripts/verify-log-export.py", export, "--head", head], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{report['checked']} entries verified"), result.stdout


def main():
    run_tests(globals())


if __name__ == "__main__":
    main()
