"""The official SDK (cos-python-sdk-v5) as the client, through Proxies and IP/Port."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
import requests
from qcloud_cos import CosS3Client, cos_auth
from qcloud_cos.cos_exception import CosServiceError

from cos_provider.client.crc64 import crc64
from cos_provider.emulator import CosEmulator, FaultRule

from .helpers import SECRET_ID, STS_ID, STS_KEY, STS_TOKEN

MODES = ["proxy", "ip"]
MiB = 1024 * 1024
KEY = "dir/a b+c/中文 ?&=#.txt"


@pytest.mark.parametrize("mode", MODES)
def test_put_get_head_delete(sdk: Callable[..., CosS3Client], bucket: str, mode: str) -> None:
    client = sdk(mode)
    body = b"hello emulator"
    put = client.put_object(
        Bucket=bucket,
        Key=KEY,
        Body=body,
        ContentType="text/plain",
        CacheControl="no-cache",
        ContentDisposition="attachment",
        Metadata={"x-cos-meta-owner": "team-a"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert int(put["x-cos-hash-crc64ecma"]) == crc64(body)
    head = client.head_object(Bucket=bucket, Key=KEY)
    assert head["Content-Length"] == str(len(body))
    assert head["Content-Type"] == "text/plain"
    assert head["Cache-Control"] == "no-cache"
    assert head["Content-Disposition"] == "attachment"
    assert head["x-cos-meta-owner"] == "team-a"
    got = client.get_object(Bucket=bucket, Key=KEY)["Body"].get_raw_stream().read()
    assert got == body
    part = client.get_object(Bucket=bucket, Key=KEY, Range="bytes=6-13")
    assert part["Body"].get_raw_stream().read() == body[6:14]
    client.delete_object(Bucket=bucket, Key=KEY)
    with pytest.raises(CosServiceError) as exc:
        client.head_object(Bucket=bucket, Key=KEY)
    assert exc.value.get_status_code() == 404


@pytest.mark.parametrize("mode", MODES)
def test_copy_object_copy_and_replaced(
    sdk: Callable[..., CosS3Client], new_bucket: Callable[..., str], emu: CosEmulator, mode: str
) -> None:
    client = sdk(mode)
    src, dst = new_bucket(), new_bucket()
    emu.put_object(src, KEY, b"x" * 1000, metadata={"colour": "red"}, content_type="text/csv")
    source = {"Bucket": src, "Key": KEY, "Region": "ap-guangzhou"}
    copied = client.copy_object(Bucket=dst, Key="copy", CopySource=source)
    assert copied["ETag"].strip('"') == hashlib.md5(b"x" * 1000).hexdigest()
    head = client.head_object(Bucket=dst, Key="copy")
    assert head["x-cos-meta-colour"] == "red"
    assert head["Content-Type"] == "text/csv"
    client.copy_object(
        Bucket=dst,
        Key="replaced",
        CopySource=source,
        CopyStatus="Replaced",
        ContentType="application/json",
        Metadata={"x-cos-meta-shape": "round"},
    )
    head = client.head_object(Bucket=dst, Key="replaced")
    assert head["x-cos-meta-shape"] == "round"
    assert "x-cos-meta-colour" not in head
    assert head["Content-Type"] == "application/json"
    assert emu.get_object_bytes(dst, "replaced") == b"x" * 1000


@pytest.mark.parametrize("mode", MODES)
def test_multipart_upload_part_copy_and_lists(
    sdk: Callable[..., CosS3Client], new_bucket: Callable[..., str], emu: CosEmulator, mode: str
) -> None:
    client = sdk(mode)
    src, dst = new_bucket(), new_bucket()
    data = bytes(range(256)) * (5 * 4096)  # 5 MiB
    emu.put_object(src, "src.bin", data)
    source = {"Bucket": src, "Key": "src.bin", "Region": "ap-guangzhou"}
    upload_id = client.create_multipart_upload(
        Bucket=dst, Key="out.bin", ContentType="text/plain", Metadata={"x-cos-meta-m": "v"}
    )["UploadId"]
    p1 = client.upload_part_copy(
        Bucket=dst,
        Key="out.bin",
        PartNumber=1,
        UploadId=upload_id,
        CopySource=source,
        CopySourceRange=f"bytes=0-{2 * MiB - 1}",
    )
    p2 = client.upload_part(Bucket=dst, Key="out.bin", PartNumber=2, UploadId=upload_id, Body=b"z" * MiB)
    p3 = client.upload_part_copy(  # no range: the SDK sends an empty range header = whole object
        Bucket=dst, Key="out.bin", PartNumber=3, UploadId=upload_id, CopySource=source
    )
    parts = client.list_parts(Bucket=dst, Key="out.bin", UploadId=upload_id)
    assert [int(p["PartNumber"]) for p in parts["Part"]] == [1, 2, 3]
    assert [int(p["Size"]) for p in parts["Part"]] == [2 * MiB, MiB, len(data)]
    uploads = client.list_multipart_uploads(Bucket=dst)
    assert [u["UploadId"] for u in uploads["Upload"]] == [upload_id]
    done = client.complete_multipart_upload(
        Bucket=dst,
        Key="out.bin",
        UploadId=upload_id,
        MultipartUpload={
            "Part": [
                {"PartNumber": 1, "ETag": p1["ETag"]},
                {"PartNumber": 2, "ETag": p2["ETag"]},
                {"PartNumber": 3, "ETag": p3["ETag"]},
            ]
        },
    )
    expected = data[: 2 * MiB] + b"z" * MiB + data
    md5s = b"".join(bytes.fromhex(e.strip('"')) for e in (p1["ETag"], p2["ETag"], p3["ETag"]))
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert int(done["x-cos-hash-crc64ecma"]) == crc64(expected)
    head = client.head_object(Bucket=dst, Key="out.bin")
    assert head["Content-Type"] == "text/plain"
    assert head["x-cos-meta-m"] == "v"
    assert emu.get_object_bytes(dst, "out.bin") == expected
    assert emu.live_uploads(dst) == 0


@pytest.mark.parametrize("mode", MODES)
def test_abort_and_list_multipart_uploads(sdk: Callable[..., CosS3Client], bucket: str, mode: str) -> None:
    client = sdk(mode)
    ids = [client.create_multipart_upload(Bucket=bucket, Key=f"k {i}")["UploadId"] for i in range(3)]
    page = client.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert page["IsTruncated"] == "true"
    assert [u["Key"] for u in page["Upload"]] == ["k 0", "k 1"]
    rest = client.list_multipart_uploads(
        Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"]
    )
    assert [u["Key"] for u in rest["Upload"]] == ["k 2"]
    resp = client.abort_multipart_upload(Bucket=bucket, Key="k 1", UploadId=ids[1])
    assert resp is None or isinstance(resp, dict)
    left = client.list_multipart_uploads(Bucket=bucket)
    assert sorted(u["UploadId"] for u in left["Upload"]) == sorted([ids[0], ids[2]])


@pytest.mark.parametrize("mode", MODES)
def test_list_objects(sdk: Callable[..., CosS3Client], bucket: str, emu: CosEmulator, mode: str) -> None:
    client = sdk(mode)
    keys = ["a/1", "a/2", "b c/3", "b c/4", "top+1", "top 2"]
    for k in keys:
        emu.put_object(bucket, k, b"1")
    listed = client.list_objects(Bucket=bucket, Delimiter="/")
    assert sorted(p["Prefix"] for p in listed["CommonPrefixes"]) == ["a/", "b c/"]
    assert sorted(c["Key"] for c in listed["Contents"]) == ["top 2", "top+1"]
    seen: list[str] = []
    marker = ""
    while True:
        page = client.list_objects(Bucket=bucket, MaxKeys=4, Marker=marker)
        seen += [c["Key"] for c in page["Contents"]]
        if page["IsTruncated"] != "true":
            break
        marker = page["NextMarker"]
    assert seen == sorted(keys)
    only = client.list_objects(Bucket=bucket, Prefix="b c/")
    assert [c["Key"] for c in only["Contents"]] == ["b c/3", "b c/4"]


def test_list_buckets(sdk: Callable[..., CosS3Client], bucket: str) -> None:
    # IP/Port mode cannot list buckets: the SDK always sends GET Service to service.cos.myqcloud.com.
    names = [b["Name"] for b in sdk("proxy").list_buckets()["Buckets"]["Bucket"]]
    assert bucket in names


def test_managed_copy_across_regions_6gib(
    sdk: Callable[..., CosS3Client], new_bucket: Callable[..., str], emu: CosEmulator
) -> None:
    src, dst = new_bucket(region="ap-beijing"), new_bucket(region="ap-shanghai")
    info = emu.seed_synthetic(src, "big.bin", size=6 * 1024**3, seed=7)
    before = emu.counters()["requests"].get("UploadPartCopy", {}).get("200", 0)
    client = sdk("proxy", region="ap-shanghai")
    result = client.copy(
        Bucket=dst,
        Key="big-copy.bin",
        CopySource={"Bucket": src, "Key": "big.bin", "Region": "ap-beijing"},
        MAXThread=8,
    )
    assert result["ETag"].endswith('-615"')
    head = client.head_object(Bucket=dst, Key="big-copy.bin")
    assert int(head["Content-Length"]) == 6 * 1024**3
    assert int(head["x-cos-hash-crc64ecma"]) == info["crc64"]
    after = emu.counters()["requests"]["UploadPartCopy"]["200"]
    assert after - before == 615
    # bytes at part boundaries are the source's bytes
    for offset in (10 * MiB - 3, 3 * 1024**3 + 17, 6 * 1024**3 - 5):
        assert emu.get_object_bytes(
            dst, "big-copy.bin", start=offset, end=offset + 5
        ) == emu.get_object_bytes(src, "big.bin", start=offset, end=offset + 5)


def test_managed_copy_same_region_hits_single_copy_limit(
    sdk: Callable[..., CosS3Client], new_bucket: Callable[..., str], emu: CosEmulator
) -> None:
    src = new_bucket()
    emu.seed_synthetic(src, "big.bin", size=6 * 1024**3)
    with pytest.raises(CosServiceError) as exc:
        sdk("proxy").copy(
            Bucket=src, Key="dup", CopySource={"Bucket": src, "Key": "big.bin", "Region": "ap-guangzhou"}
        )
    assert exc.value.get_status_code() == 400
    assert exc.value.get_error_code() == "EntityTooLarge"


def test_sts_token_through_sdk(emu: CosEmulator, bucket: str, sdk: Callable[..., CosS3Client]) -> None:
    emu.put_object(bucket, "k", b"v")
    ok = sdk("proxy", SecretId=STS_ID, SecretKey=STS_KEY, Token=STS_TOKEN)
    assert ok.head_object(Bucket=bucket, Key="k")["Content-Length"] == "1"
    bad = sdk("proxy", SecretId=STS_ID, SecretKey=STS_KEY, Token="not-the-token")
    with pytest.raises(CosServiceError) as exc:
        bad.get_object(Bucket=bucket, Key="k")
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (403, "InvalidToken")
    missing = sdk("proxy", SecretId=STS_ID, SecretKey=STS_KEY)
    with pytest.raises(CosServiceError) as exc:
        missing.get_object(Bucket=bucket, Key="k")
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (403, "AccessDenied")


def test_versioning_through_sdk(sdk: Callable[..., CosS3Client], bucket: str) -> None:
    client = sdk("proxy")
    client.put_bucket_versioning(Bucket=bucket, Status="Enabled")
    v1 = client.put_object(Bucket=bucket, Key="k", Body=b"one")["x-cos-version-id"]
    v2 = client.put_object(Bucket=bucket, Key="k", Body=b"two")["x-cos-version-id"]
    assert v1 != v2
    old = client.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].get_raw_stream().read()
    assert old == b"one"
    deleted = client.delete_object(Bucket=bucket, Key="k")
    assert deleted["x-cos-delete-marker"] == "true"
    with pytest.raises(CosServiceError) as exc:
        client.get_object(Bucket=bucket, Key="k")
    assert exc.value.get_error_code() == "NoSuchKey"
    copied = client.copy_object(
        Bucket=bucket,
        Key="restored",
        CopySource={"Bucket": bucket, "Key": "k", "Region": "ap-guangzhou", "VersionId": v1},
    )
    assert copied["x-cos-copy-source-version-id"] == v1
    assert copied["VersionId"] == copied["x-cos-version-id"]


def test_complete_with_keepalive_whitespace_through_sdk(
    sdk: Callable[..., CosS3Client], bucket: str, emu: CosEmulator
) -> None:
    client = sdk("proxy")
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="ka")["UploadId"]
    part = client.upload_part(Bucket=bucket, Key="ka", PartNumber=1, UploadId=upload_id, Body=b"abc")
    emu.add_fault(
        FaultRule(operation="CompleteMultipartUpload", kind="keepalive_whitespace", delay=0.6, interval=0.1)
    )
    done = client.complete_multipart_upload(
        Bucket=bucket,
        Key="ka",
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["Key"] == "ka"
    assert int(done["x-cos-hash-crc64ecma"]) == crc64(b"abc")
    assert emu.get_object_bytes(bucket, "ka") == b"abc"


# -- the documented 403s, with the SDK as the client ---------------------------------


def test_sdk_wrong_key_is_signature_does_not_match(
    sdk: Callable[..., CosS3Client], bucket: str, emu: CosEmulator
) -> None:
    emu.put_object(bucket, "k", b"v")
    with pytest.raises(CosServiceError) as exc:
        sdk("proxy", SecretKey="wrong").head_object(Bucket=bucket, Key="k")
    assert exc.value.get_status_code() == 403
    with pytest.raises(CosServiceError) as exc:
        sdk("ip", SecretKey="wrong").get_object(Bucket=bucket, Key="k")
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (403, "SignatureDoesNotMatch")


def test_sdk_unknown_secret_id(sdk: Callable[..., CosS3Client], bucket: str) -> None:
    with pytest.raises(CosServiceError) as exc:
        sdk("proxy", SecretId="AKIDNOBODY").list_objects(Bucket=bucket)
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (403, "InvalidAccessKeyId")


def test_sdk_expired_window(
    sdk: Callable[..., CosS3Client], bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cos_auth.time.time
    monkeypatch.setattr(cos_auth.time, "time", lambda: real() - 20000)  # signs a window that ended
    with pytest.raises(CosServiceError) as exc:
        sdk("proxy").list_objects(Bucket=bucket)
    assert exc.value.get_status_code() == 403
    assert exc.value.get_error_code() == "AccessDenied"
    assert exc.value.get_error_msg() == "Request has expired"


class _TamperingAdapter(requests.adapters.HTTPAdapter):
    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        request.headers["x-cos-meta-owner"] = "mallory"  # signed by the SDK, changed in flight
        return super().send(request, *args, **kwargs)  # type: ignore[arg-type]


def test_sdk_tampered_signed_header(
    sdk: Callable[..., CosS3Client], bucket: str, emu: CosEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sdk("proxy")
    # The SDK shares one session between all its clients: tamper for this test only.
    monkeypatch.setitem(client._session.adapters, "http://", _TamperingAdapter())
    with pytest.raises(CosServiceError) as exc:
        client.put_object(Bucket=bucket, Key="k", Body=b"v", Metadata={"x-cos-meta-owner": "alice"})
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (403, "SignatureDoesNotMatch")
    assert emu.head(bucket, "k") is None


def test_message_style_auth_errors() -> None:
    from qcloud_cos import CosConfig

    with CosEmulator(credentials={SECRET_ID: "right"}, auth_error_style="message") as other:
        other.create_bucket("b-1250000000", region="ap-guangzhou")
        client = CosS3Client(
            CosConfig(
                Region="ap-guangzhou",
                SecretId=SECRET_ID,
                SecretKey="wrong",
                Scheme="http",
                Proxies={"http": other.address},
            ),
            retry=0,
        )
        with pytest.raises(CosServiceError) as exc:
            client.list_objects(Bucket="b-1250000000")
        assert exc.value.get_error_code() == "AccessDenied"
        assert exc.value.get_error_msg() == "SignatureDoesNotMatch"


def test_sdk_upload_file_multipart(
    sdk: Callable[..., CosS3Client], bucket: str, emu: CosEmulator, tmp_path: object
) -> None:
    """The SDK's own ``upload_file`` (Initiate, threaded Upload Parts with CRC checks, Complete) works unmodified."""
    import os
    import random

    path = os.path.join(str(tmp_path), "big.bin")
    data = random.Random(3).randbytes(5 * MiB + 17)
    with open(path, "wb") as fh:
        fh.write(data)
    client = sdk("proxy")
    parts_before = sum(emu.counters()["requests"].get("UploadPart", {}).values())
    client.upload_file(Bucket=bucket, Key="sdk/big.bin", LocalFilePath=path, PartSize=1, MAXThread=3)
    assert sum(emu.counters()["requests"].get("UploadPart", {}).values()) - parts_before == 6
    assert emu.get_object_bytes(bucket, "sdk/big.bin") == data
    head = client.head_object(Bucket=bucket, Key="sdk/big.bin")
    assert int(head["x-cos-hash-crc64ecma"]) == crc64(data)
    assert emu.live_uploads(bucket) == 0
