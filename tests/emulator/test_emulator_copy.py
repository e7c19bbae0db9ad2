"""PUT Object - Copy: every rule, each with the bad request and its code."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate

import pytest

from cos_provider.client import limits
from cos_provider.emulator import CosEmulator

from .helpers import Raw, error_code, source_of, xml

DATA = b"copy me" * 100


@pytest.fixture
def src(emu: CosEmulator, bucket: str) -> str:
    emu.put_object(bucket, "src", DATA, metadata={"keep": "yes"}, content_type="text/plain")
    return bucket


def _etag(emu: CosEmulator, bucket: str, key: str) -> str:
    head = emu.head(bucket, key)
    assert head is not None
    return str(head["etag"])


def test_copy_keeps_metadata_and_ignores_request_content_headers(
    raw: Raw, emu: CosEmulator, src: str
) -> None:
    resp = raw.copy(
        src,
        "dst",
        source_of(src, "src"),
        headers={
            "Content-Type": "image/png",
            "x-cos-meta-new": "ignored",
            "x-cos-metadata-directive": "Copy",
        },
    )
    assert resp.status_code == 200, resp.content
    root = xml(resp)
    assert root.tag == "CopyObjectResult"
    assert root.findtext("ETag") == f'"{_etag(emu, src, "src")}"'
    assert root.findtext("CRC64") == resp.headers["x-cos-hash-crc64ecma"]
    head = emu.head(src, "dst")
    assert head is not None
    assert (head["metadata"], head["content_type"]) == ({"keep": "yes"}, "text/plain")


def test_replaced_takes_request_metadata(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(
        src,
        "dst",
        source_of(src, "src"),
        headers={
            "x-cos-metadata-directive": "Replaced",
            "Content-Type": "image/png",
            "x-cos-meta-new": "v",
            "Cache-Control": "max-age=1",
        },
    )
    assert resp.status_code == 200
    head = emu.head(src, "dst")
    assert head is not None
    assert (head["metadata"], head["content_type"], head["cache_control"]) == (
        {"new": "v"},
        "image/png",
        "max-age=1",
    )


def test_bad_directive(raw: Raw, src: str) -> None:
    resp = raw.copy(src, "dst", source_of(src, "src"), headers={"x-cos-metadata-directive": "replace"})
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_self_copy_requires_replaced(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(src, "src", source_of(src, "src"))
    assert (resp.status_code, error_code(resp)) == (400, "InvalidRequest")
    resp = raw.copy(
        src,
        "src",
        source_of(src, "src"),
        headers={
            "x-cos-metadata-directive": "Replaced",
            "x-cos-meta-changed": "1",
            "Content-Type": "text/plain",
        },
    )
    assert resp.status_code == 200
    head = emu.head(src, "src")
    assert head is not None
    assert head["metadata"] == {"changed": "1"}
    assert emu.get_object_bytes(src, "src") == DATA


class TestConditions:
    def past(self) -> str:
        return formatdate(time.time() - 3600, usegmt=True)

    def future(self) -> str:
        return formatdate(time.time() + 3600, usegmt=True)

    def test_if_match(self, raw: Raw, emu: CosEmulator, src: str) -> None:
        good = {"x-cos-copy-source-If-Match": f'"{_etag(emu, src, "src")}"'}
        assert raw.copy(src, "d", source_of(src, "src"), headers=good).status_code == 200
        resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Match": '"0000"'})
        assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")

    def test_if_none_match(self, raw: Raw, emu: CosEmulator, src: str) -> None:
        assert raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-None-Match": '"x"'}
        ).ok
        resp = raw.copy(
            src,
            "d",
            source_of(src, "src"),
            headers={"x-cos-copy-source-If-None-Match": _etag(emu, src, "src")},
        )
        assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")

    def test_if_modified_since(self, raw: Raw, src: str) -> None:
        ok = raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Modified-Since": self.past()}
        )
        assert ok.status_code == 200
        resp = raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Modified-Since": self.future()}
        )
        assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")

    def test_if_unmodified_since(self, raw: Raw, src: str) -> None:
        ok = raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Unmodified-Since": self.future()}
        )
        assert ok.status_code == 200
        resp = raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Unmodified-Since": self.past()}
        )
        assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")

    def test_allowed_pairs(self, raw: Raw, emu: CosEmulator, src: str) -> None:
        etag = _etag(emu, src, "src")
        pair1 = {"x-cos-copy-source-If-Match": etag, "x-cos-copy-source-If-Unmodified-Since": self.future()}
        pair2 = {"x-cos-copy-source-If-None-Match": '"x"', "x-cos-copy-source-If-Modified-Since": self.past()}
        assert raw.copy(src, "d", source_of(src, "src"), headers=pair1).status_code == 200
        assert raw.copy(src, "d", source_of(src, "src"), headers=pair2).status_code == 200
        failing = {"x-cos-copy-source-If-Match": etag, "x-cos-copy-source-If-Unmodified-Since": self.past()}
        assert raw.copy(src, "d", source_of(src, "src"), headers=failing).status_code == 412

    @pytest.mark.parametrize(
        "names",
        [
            ("If-Match", "If-None-Match"),
            ("If-Match", "If-Modified-Since"),
            ("If-None-Match", "If-Unmodified-Since"),
            ("If-Modified-Since", "If-Unmodified-Since"),
            ("If-Match", "If-Unmodified-Since", "If-Modified-Since"),
        ],
    )
    def test_conflicting_combinations(self, raw: Raw, src: str, names: tuple[str, ...]) -> None:
        values = {
            "If-Match": '"a"',
            "If-None-Match": '"b"',
            "If-Modified-Since": self.past(),
            "If-Unmodified-Since": self.future(),
        }
        headers = {f"x-cos-copy-source-{n}": values[n] for n in names}
        resp = raw.copy(src, "d", source_of(src, "src"), headers=headers)
        assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")

    def test_unparseable_date(self, raw: Raw, src: str) -> None:
        resp = raw.copy(
            src, "d", source_of(src, "src"), headers={"x-cos-copy-source-If-Modified-Since": "yesterday"}
        )
        assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_storage_class(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-storage-class": "GLACIER"})
    assert (resp.status_code, error_code(resp)) == (400, "NotSupportedStorageClass")
    assert raw.copy(src, "ia", source_of(src, "src"), headers={"x-cos-storage-class": "standard_ia"}).ok
    head = emu.head(src, "ia")
    assert head is not None
    assert head["storage_class"] == "STANDARD_IA"
    # Without the header the destination is STANDARD, whatever the source's class.
    assert raw.copy(src, "std", source_of(src, "ia")).ok
    head = emu.head(src, "std")
    assert head is not None
    assert head["storage_class"] == "STANDARD"
    assert raw.request("HEAD", src, "ia").headers["x-cos-storage-class"] == "STANDARD_IA"


def test_maz_source_copies_only_into_its_class(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "maz", b"m", storage_class="MAZ_STANDARD")
    resp = raw.copy(bucket, "d", source_of(bucket, "maz"))
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
    assert raw.copy(bucket, "d", source_of(bucket, "maz"), headers={"x-cos-storage-class": "MAZ_STANDARD"}).ok


def test_archived_source(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "cold", b"c", storage_class="ARCHIVE")
    resp = raw.copy(bucket, "d", source_of(bucket, "cold"))
    assert (resp.status_code, error_code(resp)) == (403, "InvalidObjectState")


def test_acl_and_grants(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-acl": "public-write"})
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
    resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-grant-read": "uin=123"})
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
    grant = 'id="qcs::cam::uin/100000000001:uin/100000000011",id="100000000012"'
    resp = raw.copy(
        src, "d", source_of(src, "src"), headers={"x-cos-acl": "private", "x-cos-grant-full-control": grant}
    )
    assert resp.status_code == 200
    head = emu.head(src, "d")
    assert head is not None
    assert (head["acl"], head["grants"]) == ("private", {"x-cos-grant-full-control": grant})


@pytest.mark.parametrize(
    "headers",
    [
        {"x-cos-meta-bad_name": "v"},
        {"x-cos-meta-big": "v" * (limits.MAX_META_VALUE_BYTES + 1)},
        {f"x-cos-meta-m{i}": "v" * 1500 for i in range(3)},
    ],
    ids=["underscore-in-name", "value-over-2KB", "total-over-4KB"],
)
def test_metadata_limits(raw: Raw, src: str, headers: dict[str, str]) -> None:
    resp = raw.copy(
        src, "d", source_of(src, "src"), headers={"x-cos-metadata-directive": "Replaced", **headers}
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_metadata_at_the_limit_is_accepted(raw: Raw, emu: CosEmulator, src: str) -> None:
    headers = {"x-cos-meta-big": "v" * limits.MAX_META_VALUE_BYTES, "x-cos-metadata-directive": "Replaced"}
    assert raw.copy(src, "d", source_of(src, "src"), headers=headers).status_code == 200


def test_sse_is_echoed_and_validated(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-server-side-encryption": "AES256"})
    assert resp.headers["x-cos-server-side-encryption"] == "AES256"
    assert raw.request("HEAD", src, "d").headers["x-cos-server-side-encryption"] == "AES256"
    resp = raw.copy(src, "d", source_of(src, "src"), headers={"x-cos-server-side-encryption": "AES128"})
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_source_versions(raw: Raw, emu: CosEmulator, new_bucket: Callable[..., str]) -> None:
    vb = new_bucket(versioning=True)
    v1 = emu.put_object(vb, "k", b"one")["version_id"]
    v2 = emu.put_object(vb, "k", b"two")["version_id"]
    resp = raw.copy(vb, "old", source_of(vb, "k", version_id=v1))
    assert resp.status_code == 200
    assert resp.headers["x-cos-copy-source-version-id"] == v1
    assert resp.headers["x-cos-version-id"] == xml(resp).findtext("VersionId")
    assert emu.get_object_bytes(vb, "old") == b"one"
    marker = raw.request("DELETE", vb, "k").headers["x-cos-version-id"]
    resp = raw.copy(vb, "d", source_of(vb, "k"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchKey")
    resp = raw.copy(vb, "d", source_of(vb, "k", version_id=marker))
    assert (resp.status_code, error_code(resp)) == (400, "InvalidRequest")
    resp = raw.copy(vb, "d", source_of(vb, "k", version_id="bm90LWEtdmVyc2lvbg"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchVersion")
    assert raw.copy(vb, "d", source_of(vb, "k", version_id=v2)).status_code == 200


def test_destination_version_headers(
    raw: Raw, emu: CosEmulator, new_bucket: Callable[..., str], src: str
) -> None:
    plain = raw.copy(src, "d", source_of(src, "src"))
    assert "x-cos-version-id" not in plain.headers
    suspended = new_bucket(versioning=True)
    emu.set_versioning(suspended, "Suspended")
    resp = raw.copy(suspended, "d", source_of(src, "src"))
    assert resp.headers["x-cos-version-id"] == "null"


def test_single_copy_limit(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.seed_synthetic(bucket, "five", size=limits.MAX_SINGLE_COPY_SIZE)
    emu.seed_synthetic(bucket, "over", size=limits.MAX_SINGLE_COPY_SIZE + 1)
    assert raw.copy(bucket, "d5", source_of(bucket, "five")).status_code == 200
    resp = raw.copy(bucket, "d6", source_of(bucket, "over"))
    assert (resp.status_code, error_code(resp)) == (400, "EntityTooLarge")


def test_bad_sources(raw: Raw, emu: CosEmulator, src: str) -> None:
    resp = raw.copy(src, "d", "not-a-cos-host/key")
    assert (resp.status_code, error_code(resp)) == (400, "InvalidCopySource")
    resp = raw.copy(src, "d", "no-slash-at-all")
    assert (resp.status_code, error_code(resp)) == (400, "InvalidCopySource")
    resp = raw.copy(src, "d", source_of("missing-1250000000", "src"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchBucket")
    resp = raw.copy(src, "d", source_of(src, "missing"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchKey")
    resp = raw.copy(src, "d", source_of(src, "src", region="ap-beijing"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchBucket")


def test_source_host_forms(raw: Raw, emu: CosEmulator, src: str) -> None:
    for host in (
        f"{src}.cos.ap-guangzhou.tencentcos.cn",
        f"{src}.cos.accelerate.myqcloud.com",
        f"http://{src}.cos.ap-guangzhou.myqcloud.com",
    ):
        assert raw.copy(src, "d", f"{host}/src").status_code == 200, host
