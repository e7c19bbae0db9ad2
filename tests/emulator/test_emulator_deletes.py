"""Delete Multiple Objects and delimiter listing on the emulator, raw and through the official SDK."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest
from qcloud_cos import CosS3Client

from cos_provider.emulator import CosEmulator, FaultRule

from .helpers import Raw, error_code, xml

MODES = ["proxy", "ip"]


def body_of(keys: list[str], quiet: bool = False) -> bytes:
    objects = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
    return f"<Delete><Quiet>{str(quiet).lower()}</Quiet>{objects}</Delete>".encode()


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def post(raw: Raw, bucket: str, body: bytes, md5_header: str | None = "auto") -> object:
    headers = {"Content-Type": "application/xml"}
    if md5_header == "auto":
        headers["Content-MD5"] = md5(body)
    elif md5_header is not None:
        headers["Content-MD5"] = md5_header
    return raw.request("POST", bucket, params={"delete": ""}, headers=headers, body=body)


def test_delete_multiple_verbose_and_quiet(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    for key in ("a", "b & c 中", "d"):
        emu.put_object(bucket, key, b"x")
    resp = post(raw, bucket, body_of(["a", "b & c 中", "missing"]))
    assert resp.status_code == 200  # type: ignore[attr-defined]
    root = xml(resp)  # type: ignore[arg-type]
    assert [d.findtext("Key") for d in root.findall("Deleted")] == ["a", "b & c 中", "missing"]
    assert root.findall("Error") == []
    quiet = xml(post(raw, bucket, body_of(["d"], quiet=True)))  # type: ignore[arg-type]
    assert list(quiet) == []
    listed = xml(raw.request("GET", bucket))
    assert listed.findall("Contents") == []


@pytest.mark.parametrize(
    ("header", "code"),
    [(None, "InvalidRequest"), ("bm90LW1kNQ==", "InvalidDigest"), (md5(b"other"), "BadDigest")],
)
def test_content_md5_is_required_and_checked(raw: Raw, emu: CosEmulator, bucket: str, header, code) -> None:  # type: ignore[no-untyped-def]
    emu.put_object(bucket, "a", b"x")
    resp = post(raw, bucket, body_of(["a"]), md5_header=header)
    assert (resp.status_code, error_code(resp)) == (400, code)  # type: ignore[attr-defined,arg-type]
    assert emu.get_object_bytes(bucket, "a") == b"x"


@pytest.mark.parametrize("count", [0, 1001])
def test_key_count_limits(raw: Raw, emu: CosEmulator, bucket: str, count: int) -> None:
    resp = post(raw, bucket, body_of([f"k{i}" for i in range(count)]))
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML")  # type: ignore[attr-defined,arg-type]


def test_malformed_body(raw: Raw, bucket: str) -> None:
    for body in (
        b"<Delete><Object/></Delete>",
        b"not xml",
        b"<Other/>",
        b"<Delete><Quiet>yes</Quiet></Delete>",
    ):
        resp = post(raw, bucket, body)
        assert (resp.status_code, error_code(resp)) == (400, "MalformedXML")  # type: ignore[attr-defined,arg-type]


def test_per_key_error_from_a_fault(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "keep", b"x")
    emu.put_object(bucket, "go", b"x")
    emu.add_fault(FaultRule.always("DeleteObject", "access_denied", key="keep"))
    root = xml(post(raw, bucket, body_of(["keep", "go"], quiet=True)))  # type: ignore[arg-type]
    errors = [(e.findtext("Key"), e.findtext("Code")) for e in root.findall("Error")]
    assert errors == [("keep", "AccessDenied")]
    assert root.findall("Deleted") == []
    assert emu.get_object_bytes(bucket, "keep") == b"x"


def test_versioned_delete_marker_and_version(
    raw: Raw, emu: CosEmulator, new_bucket: Callable[..., str]
) -> None:
    bucket = new_bucket(versioning=True)
    emu.put_object(bucket, "v", b"1")
    root = xml(post(raw, bucket, body_of(["v"])))  # type: ignore[arg-type]
    deleted = root.find("Deleted")
    assert deleted is not None and deleted.findtext("DeleteMarker") == "true"
    assert deleted.findtext("DeleteMarkerVersionId")


def test_listing_encodes_the_delimiter(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "d/sub 1/x", b"x")
    root = xml(raw.request("GET", bucket, params={"prefix": "d/", "delimiter": "/", "encoding-type": "url"}))
    assert root.findtext("Delimiter") == "%2F"
    assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["d%2Fsub%201%2F"]


@pytest.mark.parametrize("mode", MODES)
def test_sdk_delete_objects(
    sdk: Callable[..., CosS3Client], emu: CosEmulator, bucket: str, mode: str
) -> None:
    client = sdk(mode)
    keys = ["a", "b+c 中", "dir/x"]
    for key in keys:
        emu.put_object(bucket, key, b"x")
    emu.add_fault(FaultRule.always("DeleteObject", "access_denied", key="dir/x"))
    result = client.delete_objects(
        Bucket=bucket, Delete={"Quiet": "false", "Object": [{"Key": k} for k in keys]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b+c 中"]
    assert [(e["Key"], e["Code"]) for e in result["Error"]] == [("dir/x", "AccessDenied")]


@pytest.mark.parametrize("mode", MODES)
def test_sdk_list_objects_delimiter(
    sdk: Callable[..., CosS3Client], emu: CosEmulator, bucket: str, mode: str
) -> None:
    client = sdk(mode)
    for key in ("top.txt", "d/a b", "d/sub/x", "d/sub/y", "d/中/z", "e/1"):
        emu.put_object(bucket, key, b"x")
    root = client.list_objects(Bucket=bucket, Delimiter="/")
    assert [c["Key"] for c in root["Contents"]] == ["top.txt"]
    assert [p["Prefix"] for p in root["CommonPrefixes"]] == ["d/", "e/"]
    sub = client.list_objects(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert [c["Key"] for c in sub["Contents"]] == ["d/a b"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["d/sub/", "d/中/"]


def test_list_versions_paged(raw: Raw, emu: CosEmulator, new_bucket: Callable[..., str]) -> None:
    bucket = new_bucket(versioning=True)
    emu.put_object(bucket, "a", b"1")
    emu.put_object(bucket, "a", b"2")
    raw.request("DELETE", bucket, "a")
    emu.put_object(bucket, "b", b"3")
    seen: list[tuple[str, str, str]] = []
    params = {"versions": "", "max-keys": "2"}
    while True:
        root = xml(raw.request("GET", bucket, params=params))
        seen += [
            (e.tag, e.findtext("Key") or "", e.findtext("IsLatest") or "")
            for e in root
            if e.tag in ("Version", "DeleteMarker")
        ]
        if root.findtext("IsTruncated") != "true":
            break
        params = {
            **params,
            "key-marker": root.findtext("NextKeyMarker") or "",
            "version-id-marker": root.findtext("NextVersionIdMarker") or "",
        }
    assert seen == [
        ("DeleteMarker", "a", "true"),
        ("Version", "a", "false"),
        ("Version", "a", "false"),
        ("Version", "b", "true"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_sdk_list_versions_and_delete_them(
    sdk: Callable[..., CosS3Client], emu: CosEmulator, new_bucket: Callable[..., str], mode: str
) -> None:
    client = sdk(mode)
    bucket = new_bucket(versioning=True)
    emu.put_object(bucket, "k 中", b"1")
    emu.put_object(bucket, "k 中", b"2")
    listed = client.list_objects_versions(Bucket=bucket, Prefix="k")
    versions = [(v["Key"], v["VersionId"]) for v in listed["Version"]]
    assert len(versions) == 2 and versions[0][0] == "k 中"
    result = client.delete_objects(
        Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": k, "VersionId": v} for k, v in versions]}
    )
    assert "Error" not in result
    assert "Version" not in client.list_objects_versions(Bucket=bucket)
