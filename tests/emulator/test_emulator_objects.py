"""Objects, buckets, listing, versioning, routing and the error shape."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest
from lxml import etree

from cos_provider.client import limits
from cos_provider.client.crc64 import crc64
from cos_provider.emulator import CosEmulator

from .helpers import Raw, error_code, host_of, raw_http, xml


def test_put_get_head_standard_headers(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    headers = {
        "Content-Type": "text/html",
        "Cache-Control": "max-age=60",
        "Content-Disposition": 'attachment; filename="x.html"',
        "Content-Encoding": "identity",
        "Content-Language": "en",
        "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
        "x-cos-meta-a": "1",
        "X-Cos-Meta-Upper": "2",
    }
    put = raw.put(bucket, "page.html", b"<html/>", headers=headers)
    assert put.status_code == 200
    assert put.headers["ETag"] == f'"{hashlib.md5(b"<html/>").hexdigest()}"'
    assert int(put.headers["x-cos-hash-crc64ecma"]) == crc64(b"<html/>")
    for method in ("HEAD", "GET"):
        resp = raw.request(method, bucket, "page.html")
        for name, value in headers.items():
            if not name.lower().startswith("x-cos-meta"):
                assert resp.headers[name] == value
        assert resp.headers["x-cos-meta-a"] == "1"
        assert resp.headers["x-cos-meta-upper"] == "2"
        assert resp.headers["Content-Length"] == "7"
        assert "x-cos-storage-class" not in resp.headers
    assert raw.request("GET", bucket, "page.html").content == b"<html/>"
    assert raw.request("DELETE", bucket, "page.html").status_code == 204
    missing = raw.request("GET", bucket, "page.html")
    assert (missing.status_code, error_code(missing)) == (404, "NoSuchKey")
    assert raw.request("HEAD", bucket, "page.html").status_code == 404
    assert raw.request("DELETE", bucket, "page.html").status_code == 204


def test_get_ranges(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "r", b"0123456789")
    resp = raw.request("GET", bucket, "r", headers={"Range": "bytes=2-4"})
    assert (resp.status_code, resp.content, resp.headers["Content-Range"]) == (206, b"234", "bytes 2-4/10")
    assert raw.request("GET", bucket, "r", headers={"Range": "bytes=7-"}).content == b"789"
    assert raw.request("GET", bucket, "r", headers={"Range": "bytes=-3"}).content == b"789"
    assert raw.request("GET", bucket, "r", headers={"Range": "bytes=8-100"}).content == b"89"
    resp = raw.request("GET", bucket, "r", headers={"Range": "bytes=10-12"})
    assert (resp.status_code, error_code(resp)) == (416, "InvalidRange")


def test_get_synthetic_range_streams(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.seed_synthetic(bucket, "s", size=3 * 1024**3)
    start = 2 * 1024**3 - 1000
    resp = raw.request("GET", bucket, "s", headers={"Range": f"bytes={start}-{start + 2 * 1024 * 1024}"})
    assert resp.status_code == 206
    assert resp.content == emu.get_object_bytes(bucket, "s", start=start, end=start + 2 * 1024 * 1024 + 1)


def test_read_conditions(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    etag = emu.put_object(bucket, "c", b"c")["etag"]
    assert raw.request("GET", bucket, "c", headers={"If-None-Match": f'"{etag}"'}).status_code == 304
    resp = raw.request("GET", bucket, "c", headers={"If-Match": '"other"'})
    assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")
    future = formatdate(time.time() + 3600, usegmt=True)
    assert raw.request("HEAD", bucket, "c", headers={"If-Modified-Since": future}).status_code == 304
    past = formatdate(time.time() - 3600, usegmt=True)
    assert raw.request("GET", bucket, "c", headers={"If-Unmodified-Since": past}).status_code == 412


def test_content_md5(raw: Raw, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    assert raw.put(bucket, "m", b"abc", headers={"Content-MD5": good}).status_code == 200
    bad = base64.b64encode(hashlib.md5(b"abd").digest()).decode()
    resp = raw.put(bucket, "m", b"abc", headers={"Content-MD5": bad})
    assert (resp.status_code, error_code(resp)) == (400, "BadDigest")
    resp = raw.put(bucket, "m", b"abc", headers={"Content-MD5": "not base64!"})
    assert (resp.status_code, error_code(resp)) == (400, "InvalidDigest")


def test_key_too_long(raw: Raw, bucket: str) -> None:
    resp = raw.put(bucket, "k" * (limits.MAX_KEY_BYTES + 1), b"x")
    assert (resp.status_code, error_code(resp)) == (400, "KeyTooLong")
    assert raw.put(bucket, "中" * (limits.MAX_KEY_BYTES // 3), b"x").status_code == 200


def test_chunked_upload(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    hdrs = {"Host": host_of(bucket), "Transfer-Encoding": "chunked"}
    signed = raw.sign("PUT", "chunked", {}, hdrs)
    resp = raw.session.put(
        raw.address + "/chunked",
        data=iter([b"ab", b"cd", b"ef"]),
        headers={"Host": host_of(bucket), "Authorization": signed},
    )
    assert resp.status_code == 200, resp.content
    assert emu.get_object_bytes(bucket, "chunked") == b"abcdef"


def test_missing_content_length_is_411(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    signed = raw.sign("PUT", "k", {}, {"Host": host_of(bucket)})
    status, _, body = raw_http(emu.port, "PUT", "/k", [("Host", host_of(bucket)), ("Authorization", signed)])
    assert status == 411
    assert b"<Code>MissingContentLength</Code>" in body


def test_routing_errors(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    resp = raw.request("GET", "nobucket-1250000000", "k")
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchBucket")
    resp = raw.request("GET", bucket, "k", region="ap-beijing")
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchBucket")
    resp = raw.request("GET", bucket, "k", host="example.com")
    assert (resp.status_code, error_code(resp)) == (400, "InvalidURI")
    emu.put_object(bucket, "k", b"1")
    resp = raw.request("GET", bucket, "k", params={"acl": ""})
    assert (resp.status_code, error_code(resp)) == (501, "NotImplemented")
    resp = raw.request("PATCH", bucket, "k")
    assert (resp.status_code, error_code(resp)) == (501, "NotImplemented")


@pytest.mark.parametrize(
    "host_form",
    [
        "{b}.cos.ap-guangzhou.tencentcos.cn",
        "{b}.cos-internal.ap-guangzhou.tencentcos.cn",
        "{b}.cos.accelerate.myqcloud.com",
        "{B}.COS.AP-GUANGZHOU.MYQCLOUD.COM",
    ],
)
def test_host_forms(raw: Raw, emu: CosEmulator, bucket: str, host_form: str) -> None:
    emu.put_object(bucket, "k", b"v")
    host = host_form.format(b=bucket, B=bucket.upper())
    assert raw.request("GET", bucket, "k", host=host).content == b"v"


def test_error_shape(raw: Raw, bucket: str) -> None:
    first = raw.request("GET", bucket, "missing")
    second = raw.request("GET", bucket, "missing")
    root = etree.fromstring(first.content)
    assert root.tag == "Error" and root.nsmap == {}
    for field in ("Code", "Message", "Resource", "RequestId", "TraceId"):
        assert root.findtext(field), field
    assert root.findtext("RequestId") == first.headers["x-cos-request-id"]
    assert root.findtext("TraceId") == first.headers["x-cos-trace-id"]
    assert first.headers["x-cos-request-id"] != second.headers["x-cos-request-id"]
    assert first.headers["Content-Type"] == "application/xml"
    assert raw.request("HEAD", bucket).headers["x-cos-request-id"]


class TestBuckets:
    def test_put_head_delete_bucket(self, raw: Raw, emu: CosEmulator) -> None:
        name = "made-by-http-1250000000"
        assert raw.request("PUT", name, region="ap-chengdu").status_code == 200
        again = raw.request("PUT", name, region="ap-chengdu")
        assert (again.status_code, error_code(again)) == (409, "BucketAlreadyExists")
        assert raw.request("HEAD", name, region="ap-chengdu").headers["x-cos-bucket-region"] == "ap-chengdu"
        emu.put_object(name, "k", b"1")
        full = raw.request("DELETE", name, region="ap-chengdu")
        assert (full.status_code, error_code(full)) == (409, "BucketNotEmpty")
        raw.request("DELETE", name, "k", region="ap-chengdu")
        assert raw.request("DELETE", name, region="ap-chengdu").status_code == 204
        assert raw.request("HEAD", name, region="ap-chengdu").status_code == 404

    def test_bucket_validation(self, raw: Raw) -> None:
        resp = raw.request(
            "PUT", "Bad_Name-1250000000", host="bad_name-1250000000.cos.ap-guangzhou.myqcloud.com"
        )
        assert resp.status_code == 400
        resp = raw.request("PUT", "acl-1250000000", headers={"x-cos-acl": "world-writable"})
        assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
        resp = raw.request("PUT", "acc-1250000000", host="acc-1250000000.cos.accelerate.myqcloud.com")
        assert (resp.status_code, error_code(resp)) == (400, "ActionAccelerateNotSupported")

    def test_create_bucket_validation_direct(self, emu: CosEmulator) -> None:
        from cos_provider.emulator.errors import CosError

        with pytest.raises(CosError) as exc:
            emu.create_bucket("no-appid", region="ap-guangzhou")
        assert exc.value.code == "InvalidBucketName"

    def test_get_service(self, raw: Raw, bucket: str) -> None:
        resp = raw.request("GET", "", host="service.cos.myqcloud.com")
        names = [b.findtext("Name") for b in xml(resp).find("Buckets")]  # type: ignore[union-attr]
        assert bucket in names


class TestListObjects:
    @pytest.fixture
    def listed(self, emu: CosEmulator, bucket: str) -> str:
        for key in ("a/1", "a/2", "a/b/3", "c d", "e+f", "z"):
            emu.put_object(bucket, key, b"x")
        return bucket

    def keys(self, root: etree._Element) -> list[str]:
        return [c.findtext("Key") or "" for c in root.findall("Contents")]

    def test_prefix_delimiter(self, raw: Raw, listed: str) -> None:
        root = xml(raw.request("GET", listed, params={"delimiter": "/"}))
        assert self.keys(root) == ["c d", "e+f", "z"]
        assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["a/"]
        root = xml(raw.request("GET", listed, params={"prefix": "a/", "delimiter": "/"}))
        assert self.keys(root) == ["a/1", "a/2"]
        assert [p.findtext("Prefix") for p in root.findall("CommonPrefixes")] == ["a/b/"]

    def test_marker_pagination(self, raw: Raw, listed: str) -> None:
        root = xml(raw.request("GET", listed, params={"max-keys": "2"}))
        assert self.keys(root) == ["a/1", "a/2"]
        assert (root.findtext("IsTruncated"), root.findtext("NextMarker")) == ("true", "a/2")
        root = xml(raw.request("GET", listed, params={"marker": "a/2", "max-keys": "2", "delimiter": "/"}))
        assert self.keys(root) == ["c d", "e+f"]
        assert root.findtext("NextMarker") == "e+f"
        root = xml(raw.request("GET", listed, params={"marker": "e+f"}))
        assert (self.keys(root), root.findtext("IsTruncated")) == (["z"], "false")

    def test_max_keys_rules(self, raw: Raw, listed: str) -> None:
        root = xml(raw.request("GET", listed, params={"max-keys": "5000"}))
        assert root.findtext("MaxKeys") == "1000"
        bad = raw.request("GET", listed, params={"max-keys": "-1"})
        assert (bad.status_code, error_code(bad)) == (400, "InvalidArgument")

    def test_url_encoding(self, raw: Raw, listed: str) -> None:
        root = xml(raw.request("GET", listed, params={"encoding-type": "url", "prefix": "c "}))
        assert self.keys(root) == ["c%20d"]
        assert root.findtext("Prefix") == "c%20"
        assert root.findtext("EncodingType") == "url"
        bad = raw.request("GET", listed, params={"encoding-type": "xml"})
        assert (bad.status_code, error_code(bad)) == (400, "InvalidArgument")


class TestVersioning:
    def test_versions_and_delete_markers(self, raw: Raw, emu: CosEmulator, bucket: str) -> None:
        body = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
        assert raw.request("PUT", bucket, params={"versioning": ""}, body=body).status_code == 200
        status = xml(raw.request("GET", bucket, params={"versioning": ""})).findtext("Status")
        assert status == "Enabled"
        v1 = raw.put(bucket, "k", b"1").headers["x-cos-version-id"]
        v2 = raw.put(bucket, "k", b"2").headers["x-cos-version-id"]
        assert raw.request("GET", bucket, "k").content == b"2"
        assert raw.request("GET", bucket, "k", params={"versionId": v1}).content == b"1"
        deleted = raw.request("DELETE", bucket, "k")
        marker = deleted.headers["x-cos-version-id"]
        assert deleted.headers["x-cos-delete-marker"] == "true"
        gone = raw.request("GET", bucket, "k")
        assert (gone.status_code, error_code(gone), gone.headers["x-cos-delete-marker"]) == (
            404,
            "NoSuchKey",
            "true",
        )
        named = raw.request("GET", bucket, "k", params={"versionId": marker})
        assert (named.status_code, error_code(named)) == (405, "MethodNotAllowed")
        unknown = raw.request("GET", bucket, "k", params={"versionId": "nope"})
        assert (unknown.status_code, error_code(unknown)) == (404, "NoSuchVersion")
        assert b"<Key>k</Key>" not in raw.request("GET", bucket).content
        raw.request("DELETE", bucket, "k", params={"versionId": marker})
        assert raw.request("GET", bucket, "k").content == b"2"
        assert raw.request("GET", bucket, "k", params={"versionId": v2}).status_code == 200

    def test_suspended(self, raw: Raw, new_bucket: Callable[..., str]) -> None:
        bucket = new_bucket(versioning=True)
        v1 = raw.put(bucket, "k", b"1").headers["x-cos-version-id"]
        body = b"<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"
        assert raw.request("PUT", bucket, params={"versioning": ""}, body=body).status_code == 200
        assert raw.put(bucket, "k", b"2").headers["x-cos-version-id"] == "null"
        assert raw.put(bucket, "k", b"3").headers["x-cos-version-id"] == "null"
        assert raw.request("GET", bucket, "k", params={"versionId": "null"}).content == b"3"
        assert raw.request("GET", bucket, "k", params={"versionId": v1}).content == b"1"

    @pytest.mark.parametrize(
        "body", [b"", b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>", b"<nope"]
    )
    def test_bad_versioning_body(self, raw: Raw, bucket: str, body: bytes) -> None:
        resp = raw.request("PUT", bucket, params={"versioning": ""}, body=body)
        assert (resp.status_code, error_code(resp)) == (400, "MalformedXML")


def test_put_object_attribute_headers(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    headers = {
        "x-cos-server-side-encryption": "AES256",
        "x-cos-acl": "public-read",
        "x-cos-grant-read": 'id="100000000002"',
        "x-cos-tagging": "team=a&env=dev",
        "x-cos-storage-class": "INTELLIGENT_TIERING",
    }
    resp = raw.put(bucket, "attrs", b"a", headers=headers)
    assert resp.headers["x-cos-server-side-encryption"] == "AES256"
    head = emu.head(bucket, "attrs")
    assert head is not None
    assert (head["sse"], head["acl"], head["grants"], head["tagging"], head["storage_class"]) == (
        "AES256",
        "public-read",
        {"x-cos-grant-read": 'id="100000000002"'},
        "team=a&env=dev",
        "INTELLIGENT_TIERING",
    )
    for bad in (
        {"x-cos-server-side-encryption": "aes256"},
        {"x-cos-acl": "everyone"},
        {"x-cos-grant-write": "100000000002"},
        {"x-cos-tagging": "&".join(f"k{i}=v" for i in range(limits.MAX_TAGS + 1))},
    ):
        resp = raw.put(bucket, "attrs", b"a", headers=bad)
        assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument"), bad
    resp = raw.put(bucket, "attrs", b"a", headers={"x-cos-storage-class": "FROZEN"})
    assert (resp.status_code, error_code(resp)) == (400, "NotSupportedStorageClass")


def test_archived_object_heads_but_does_not_read(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "cold", b"c", storage_class="DEEP_ARCHIVE")
    head = raw.request("HEAD", bucket, "cold")
    assert (head.status_code, head.headers["x-cos-storage-class"]) == (200, "DEEP_ARCHIVE")
    resp = raw.request("GET", bucket, "cold")
    assert (resp.status_code, error_code(resp)) == (403, "InvalidObjectState")


def test_invalid_bucket_name_over_http(raw: Raw) -> None:
    name = "n" * 51 + "-1250000000"  # the name part may hold at most 50 characters
    resp = raw.request("PUT", name)
    assert (resp.status_code, error_code(resp)) == (400, "InvalidBucketName")
