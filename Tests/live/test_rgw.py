"""The gateway against two Ceph RADOS Gateway zones (run by scripts/rgw-test.sh).

RADOS Gateway checks signatures and implements Object Lock as AWS does, so these tests show
that the gateway's backend requests are accepted by a real S3 implementation and that the
policy's COMPLIANCE immutability holds at the provider itself: each backend copy carries a
retention that RADOS Gateway enforces against the zone's own credentials.

Environment (set by scripts/rgw-test.sh):
  GATEWAY_URL, GATEWAY_ACCESS_KEY, GATEWAY_SECRET_KEY   the gateway's S3 endpoint and keys
  RGW_ZONE_URLS       ZONE=URL,... of the RADOS Gateway zones
  RGW_ACCESS_KEY, RGW_SECRET_KEY                        the zones' S3 user
  PHYSICAL_BUCKET     the bucket the gateway keeps its copies in on every zone
"""

import hashlib
import os
import sys
import tempfile
import time
import traceback
import uuid

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

GATEWAY_URL = os.environ["GATEWAY_URL"]
ZONE_URLS = dict(item.split("=", 1) for item in os.environ["RGW_ZONE_URLS"].split(","))
PHYSICAL_BUCKET = os.environ["PHYSICAL_BUCKET"]
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)


def client(url, access, secret):
    return boto3.client("s3", endpoint_url=url, aws_access_key_id=access, aws_secret_access_key=secret,
                        region_name="us-east-1", config=CONFIG)


gateway = client(GATEWAY_URL, os.environ["GATEWAY_ACCESS_KEY"], os.environ["GATEWAY_SECRET_KEY"])
zones = {zone: client(url, os.environ["RGW_ACCESS_KEY"], os.environ["RGW_SECRET_KEY"])
         for zone, url in ZONE_URLS.items()}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_bucket():
    bucket = unique("rgw")
    gateway.create_bucket(Bucket=bucket)
    return bucket


def backend_copies(zone, bucket, key):
    """The current objects the zone holds under the gateway's prefix for (bucket, key), as
    [(key, version id)]."""
    prefix = f"{bucket}/{key}."
    listed = zones[zone].list_object_versions(Bucket=PHYSICAL_BUCKET, Prefix=prefix)
    return [(v["Key"], v["VersionId"]) for v in listed.get("Versions", []) if v["IsLatest"]]


def leftovers(zone, bucket, key):
    """Everything else under that prefix: noncurrent versions and delete markers. The physical
    bucket is versioned (Object Lock needs it), so the gateway deletes what it no longer wants
    (such as a replica of a deleted version) version by version; a plain DELETE
    would only hide the bytes behind a delete marker."""
    prefix = f"{bucket}/{key}."
    listed = zones[zone].list_object_versions(Bucket=PHYSICAL_BUCKET, Prefix=prefix)
    return ([(v["Key"], v["VersionId"]) for v in listed.get("Versions", []) if not v["IsLatest"]]
            + [(m["Key"], m["VersionId"]) for m in listed.get("DeleteMarkers", [])])


def test_physical_bucket_has_object_lock_on_every_zone():
    # Object Lock can only be switched on when a bucket is created: RADOS Gateway answers a
    # second CreateBucket with 200 and leaves the bucket as it was, and refuses
    # PutObjectLockConfiguration on it (InvalidBucketState).
    for zone, s3 in zones.items():
        try:
            config = s3.get_object_lock_configuration(Bucket=PHYSICAL_BUCKET)["ObjectLockConfiguration"]
        except ClientError as error:
            raise AssertionError(f"{PHYSICAL_BUCKET} on {zone} has no Object Lock: "
                                 f"{error.response['Error']['Code']} (was it created before /initialize-bucket?)")
        assert config.get("ObjectLockEnabled") == "Enabled", (zone, config)


def test_put_get_round_trip_and_copy_on_both_zones():
    bucket, key = new_bucket(), "docs/report.txt"
    body = os.urandom(200_000)
    put = gateway.put_object(Bucket=bucket, Key=key, Body=body)
    got = gateway.get_object(Bucket=bucket, Key=key)
    assert sha256(got["Body"].read()) == sha256(body), "GET through the gateway differs from PUT"
    assert got["VersionId"] == put["VersionId"], (got["VersionId"], put["VersionId"])
    for zone, s3 in zones.items():
        copies = backend_copies(zone, bucket, key)
        assert len(copies) == 1, f"{zone} holds {copies} under {bucket}/{key}."
        backend_key, backend_version = copies[0]
        direct = s3.get_object(Bucket=PHYSICAL_BUCKET, Key=backend_key, VersionId=backend_version)["Body"].read()
        assert sha256(direct) == sha256(body), f"the copy on {zone} differs from what was written"


def test_backend_copies_are_locked_by_rgw():
    bucket, key = new_bucket(), "ledger/2025.csv"
    body = b"id,amount\n1,100\n" * 1000
    gateway.put_object(Bucket=bucket, Key=key, Body=body)
    head = gateway.head_object(Bucket=bucket, Key=key)
    assert head.get("ObjectLockMode") == "COMPLIANCE", head.get("ObjectLockMode")
    until = head["ObjectLockRetainUntilDate"]
    assert until.timestamp() > time.time() + 23 * 3600, f"the policy keeps a day, the gateway says {until}"
    for zone, s3 in zones.items():
        copies = backend_copies(zone, bucket, key)
        assert len(copies) == 1, f"{zone} holds {copies}"
        backend_key, backend_version = copies[0]
        retention = s3.get_object_retention(Bucket=PHYSICAL_BUCKET, Key=backend_key,
                                            VersionId=backend_version)["Retention"]
        assert retention["Mode"] == "COMPLIANCE", (zone, retention)
        assert retention["RetainUntilDate"] >= until.replace(microsecond=0), \
            f"{zone} keeps the copy until {retention['RetainUntilDate']}, the gateway promises {until}"
        try:
            s3.delete_object(Bucket=PHYSICAL_BUCKET, Key=backend_key, VersionId=backend_version)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied", (zone, error.response["Error"])
        else:
            raise AssertionError(f"{zone} deleted a COMPLIANCE-locked copy")
        still = s3.head_object(Bucket=PHYSICAL_BUCKET, Key=backend_key, VersionId=backend_version)
        assert still["ContentLength"] == len(body), (zone, still["ContentLength"])
    # Through the gateway the locked version cannot be deleted either.
    try:
        gateway.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error.response["Error"]
    else:
        raise AssertionError("the gateway deleted a COMPLIANCE-locked version")


def test_multipart_12mib_round_trip():
    bucket, key = new_bucket(), "archive/blob.bin"
    body = os.urandom(12 * 1024 * 1024)
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "source")
        target = os.path.join(folder, "target")
        with open(source, "wb") as f:
            f.write(body)
        transfer = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024,
                                  max_concurrency=2)
        gateway.upload_file(source, bucket, key, Config=transfer)
        gateway.download_file(bucket, key, target, Config=transfer)
        with open(target, "rb") as f:
            assert sha256(f.read()) == sha256(body), "the multipart object came back different"
    head = gateway.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(body), head["ContentLength"]
    assert head["ETag"].strip('"').endswith("-3"), f"a 3-part upload has ETag {head['ETag']}"
    for zone, s3 in zones.items():
        copies = backend_copies(zone, bucket, key)
        assert len(copies) == 1, f"{zone} holds {copies}"
        backend_key, backend_version = copies[0]
        direct = s3.get_object(Bucket=PHYSICAL_BUCKET, Key=backend_key, VersionId=backend_version)["Body"].read()
        assert sha256(direct) == sha256(body), f"the multipart copy on {zone} differs"
        retention = s3.get_object_retention(Bucket=PHYSICAL_BUCKET, Key=backend_key,
                                            VersionId=backend_version)["Retention"]
        assert retention["Mode"] == "COMPLIANCE", (zone, retention)
        # The zone's own multipart upload became the object: no other version, no delete
        # marker, no unfinished upload.
        left = leftovers(zone, bucket, key)
        assert not left, f"{zone} keeps {len(left)} other versions or markers: {left[:3]}"
        unfinished = s3.list_multipart_uploads(Bucket=PHYSICAL_BUCKET, Prefix=f"{bucket}/{key}.").get("Uploads", [])
        assert not unfinished, f"{zone} keeps unfinished uploads: {unfinished[:3]}"


TESTS = [
    test_physical_bucket_has_object_lock_on_every_zone,
    test_put_get_round_trip_and_copy_on_both_zones,
    test_backend_copies_are_locked_by_rgw,
    test_multipart_12mib_round_trip,
]


def main():
    passed = failed = 0
    for test in TESTS:
        started = time.monotonic()
        try:
            test()
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__} ({time.monotonic() - started:.1f}s)")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {test.__name__} ({time.monotonic() - started:.1f}s)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed == len(TESTS) else 1)


if __name__ == "__main__":
    main()
