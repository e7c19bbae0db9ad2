"""Multipart rules: part numbers, ranges, conditions, Complete, Abort and the lists."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from cos_provider.client import limits
from cos_provider.client.crc64 import crc64
from cos_provider.emulator import CosEmulator

from .helpers import Raw, error_code, raw_http, source_of, xml

MiB = 1024 * 1024


@pytest.fixture
def src(emu: CosEmulator, bucket: str) -> str:
    emu.seed_synthetic(bucket, "src", size=8 * MiB + 5, seed=3)
    emu.put_object(bucket, "small", b"0123456789")
    return bucket


def _etag(resp: object) -> str:
    return xml(resp).findtext("ETag") or ""  # type: ignore[arg-type]


@pytest.mark.parametrize("number", ["0", "10001", "abc", "-1", ""])
def test_part_number_range(raw: Raw, src: str, number: str) -> None:
    upload = raw.initiate(src, "out")
    resp = raw.request(
        "PUT",
        src,
        "out",
        params={"partNumber": number, "uploadId": upload},
        headers={"x-cos-copy-source": source_of(src, "small")},
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_part_number_limits_accepted(raw: Raw, src: str) -> None:
    upload = raw.initiate(src, "out")
    assert raw.part_copy(src, "out", upload, 1, source_of(src, "small"), None).status_code == 200
    assert (
        raw.part_copy(src, "out", upload, limits.MAX_PARTS, source_of(src, "small"), None).status_code == 200
    )


@pytest.mark.parametrize(
    ("rng", "status", "code"),
    [
        ("bytes=5-2", 400, "InvalidArgument"),
        ("bytes=abc", 400, "InvalidArgument"),
        ("bytes=0-", 400, "InvalidArgument"),
        ("bytes=-5", 400, "InvalidArgument"),
        ("0-5", 400, "InvalidArgument"),
        ("bytes=0-10", 416, "InvalidRange"),
        ("bytes=10-12", 416, "InvalidRange"),
    ],
)
def test_bad_ranges(raw: Raw, src: str, rng: str, status: int, code: str) -> None:
    upload = raw.initiate(src, "out")
    resp = raw.part_copy(src, "out", upload, 1, source_of(src, "small"), rng)
    assert (resp.status_code, error_code(resp)) == (status, code)


def test_range_and_empty_range(raw: Raw, emu: CosEmulator, src: str) -> None:
    upload = raw.initiate(src, "out")
    resp = raw.part_copy(src, "out", upload, 1, source_of(src, "small"), "bytes=2-5")
    assert resp.status_code == 200
    assert int(resp.headers["x-cos-hash-crc64ecma"]) == crc64(b"2345")
    assert int(xml(resp).findtext("CRC64") or 0) == crc64(b"2345")
    assert _etag(resp) == f'"{hashlib.md5(b"2345").hexdigest()}"'
    whole = raw.part_copy(src, "out", upload, 2, source_of(src, "small"), "")
    assert int(whole.headers["x-cos-hash-crc64ecma"]) == crc64(b"0123456789")


def test_part_larger_than_5gb(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.seed_synthetic(bucket, "huge", size=6 * 1024**3)
    upload = raw.initiate(bucket, "out")
    resp = raw.part_copy(
        bucket, "out", upload, 1, source_of(bucket, "huge"), f"bytes=0-{limits.MAX_PART_SIZE}"
    )
    assert (resp.status_code, error_code(resp)) == (400, "EntityTooLarge")
    resp = raw.part_copy(bucket, "out", upload, 1, source_of(bucket, "huge"), None)
    assert (resp.status_code, error_code(resp)) == (400, "EntityTooLarge")
    ok = raw.part_copy(
        bucket, "out", upload, 1, source_of(bucket, "huge"), f"bytes=0-{limits.MAX_PART_SIZE - 1}"
    )
    assert ok.status_code == 200


def test_upload_part_body_over_5gb_rejected_before_reading(emu: CosEmulator, raw: Raw, src: str) -> None:
    from .helpers import host_of

    upload = raw.initiate(src, "out")
    target = f"/out?partNumber=1&uploadId={upload}"
    status, _, body = raw_http(
        emu.port,
        "PUT",
        target,
        [("Host", host_of(src)), ("Content-Length", str(limits.MAX_PART_SIZE + 1)), ("Authorization", "x")],
    )
    assert status == 400
    assert b"<Code>EntityTooLarge</Code>" in body


def test_part_copy_conditions_and_versions(
    raw: Raw, emu: CosEmulator, new_bucket: Callable[..., str]
) -> None:
    vb = new_bucket(versioning=True)
    v1 = emu.put_object(vb, "k", b"version one")["version_id"]
    upload = raw.initiate(vb, "out")
    resp = raw.part_copy(vb, "out", upload, 1, source_of(vb, "k", version_id=v1), None)
    assert resp.headers["x-cos-copy-source-version-id"] == v1
    resp = raw.part_copy(
        vb, "out", upload, 1, source_of(vb, "k"), None, headers={"x-cos-copy-source-If-Match": '"no"'}
    )
    assert (resp.status_code, error_code(resp)) == (412, "PreconditionFailed")
    resp = raw.part_copy(
        vb,
        "out",
        upload,
        1,
        source_of(vb, "k"),
        None,
        headers={"x-cos-copy-source-If-Match": '"no"', "x-cos-copy-source-If-None-Match": '"x"'},
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
    marker = raw.request("DELETE", vb, "k").headers["x-cos-version-id"]
    resp = raw.part_copy(vb, "out", upload, 1, source_of(vb, "k"), None)
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchKey")
    resp = raw.part_copy(vb, "out", upload, 1, source_of(vb, "k", version_id=marker), None)
    assert (resp.status_code, error_code(resp)) == (400, "InvalidRequest")


def test_no_such_upload(raw: Raw, src: str) -> None:
    resp = raw.part_copy(src, "out", "nonexistent", 1, source_of(src, "small"), None)
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchUpload")
    upload = raw.initiate(src, "out")
    resp = raw.part_copy(src, "other-key", upload, 1, source_of(src, "small"), None)
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchUpload")
    resp = raw.upload_part(src, "out", "nonexistent", 1, b"x")
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchUpload")


class TestComplete:
    def parts(self, raw: Raw, bucket: str, sizes: list[int]) -> tuple[str, list[tuple[int, str]]]:
        upload = raw.initiate(bucket, "out")
        listed = []
        offset = 0
        for n, size in enumerate(sizes, start=1):
            resp = raw.part_copy(
                bucket, "out", upload, n, source_of(bucket, "src"), f"bytes={offset}-{offset + size - 1}"
            )
            assert resp.status_code == 200, resp.content
            listed.append((n, _etag(resp)))
            offset += size
        return upload, listed

    def test_success_etag_crc_and_bytes(self, raw: Raw, emu: CosEmulator, src: str) -> None:
        upload, listed = self.parts(raw, src, [3 * MiB, 3 * MiB, 2 * MiB + 5])
        resp = raw.complete(src, "out", upload, listed)
        assert resp.status_code == 200
        root = xml(resp)
        md5s = b"".join(bytes.fromhex(e.strip('"')) for _, e in listed)
        assert root.findtext("ETag") == f'"{hashlib.md5(md5s).hexdigest()}-3"'
        assert root.findtext("Key") == "out"
        assert root.findtext("Location") == f"{src}.cos.ap-guangzhou.myqcloud.com/out"
        source = emu.head(src, "src")
        assert source is not None
        assert int(resp.headers["x-cos-hash-crc64ecma"]) == source["crc64"]
        assert emu.get_object_bytes(src, "out") == emu.get_object_bytes(src, "src")
        again = raw.complete(src, "out", upload, listed)
        assert (again.status_code, error_code(again)) == (404, "NoSuchUpload")

    def test_entity_too_small(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB - 1, MiB])
        resp = raw.complete(src, "out", upload, listed)
        assert (resp.status_code, error_code(resp)) == (400, "EntityTooSmall")

    def test_last_part_may_be_small(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB, 1])
        assert raw.complete(src, "out", upload, listed).status_code == 200

    def test_invalid_part_unknown(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB])
        resp = raw.complete(src, "out", upload, [*listed, (2, listed[0][1])])
        assert (resp.status_code, error_code(resp)) == (400, "InvalidPart")

    def test_invalid_part_etag(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB, MiB])
        resp = raw.complete(src, "out", upload, [listed[0], (2, '"0123456789abcdef0123456789abcdef"')])
        assert (resp.status_code, error_code(resp)) == (400, "InvalidPart")

    def test_invalid_part_gap(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB, MiB, MiB])
        resp = raw.complete(src, "out", upload, [listed[0], listed[2]])
        assert (resp.status_code, error_code(resp)) == (400, "InvalidPart")

    def test_invalid_part_order(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB, MiB])
        resp = raw.complete(src, "out", upload, [listed[1], listed[0]])
        assert (resp.status_code, error_code(resp)) == (400, "InvalidPartOrder")
        resp = raw.complete(src, "out", upload, [listed[0], listed[0]])
        assert (resp.status_code, error_code(resp)) == (400, "InvalidPartOrder")

    def test_no_such_upload(self, raw: Raw, src: str) -> None:
        resp = raw.complete(src, "out", "bogus", [(1, '"x"')])
        assert (resp.status_code, error_code(resp)) == (404, "NoSuchUpload")

    @pytest.mark.parametrize(
        "body", [b"", b"<CompleteMultipartUpload>", b"<Other/>", b"<CompleteMultipartUpload/>"]
    )
    def test_malformed_xml(self, raw: Raw, src: str, body: bytes) -> None:
        upload, _ = self.parts(raw, src, [MiB])
        resp = raw.request("POST", src, "out", params={"uploadId": upload}, body=body)
        assert (resp.status_code, error_code(resp)) == (400, "MalformedXML")

    def test_etag_quotes_tolerated(self, raw: Raw, src: str) -> None:
        upload, listed = self.parts(raw, src, [MiB, MiB])
        mixed = [(listed[0][0], listed[0][1].strip('"')), (listed[1][0], listed[1][1].replace('"', "&quot;"))]
        assert raw.complete(src, "out", upload, mixed).status_code == 200


def test_initiate_headers_become_object_metadata(raw: Raw, emu: CosEmulator, src: str) -> None:
    headers = {
        "Content-Type": "text/csv",
        "x-cos-meta-origin": "mp",
        "x-cos-storage-class": "STANDARD_IA",
        "Content-Disposition": "inline",
        "x-cos-server-side-encryption": "AES256",
    }
    upload = raw.initiate(src, "out", headers=headers)
    etag = _etag(raw.part_copy(src, "out", upload, 1, source_of(src, "small"), None))
    assert raw.complete(src, "out", upload, [(1, etag)]).status_code == 200
    head = emu.head(src, "out")
    assert head is not None
    assert (
        head["content_type"],
        head["metadata"],
        head["storage_class"],
        head["content_disposition"],
        head["sse"],
    ) == ("text/csv", {"origin": "mp"}, "STANDARD_IA", "inline", "AES256")
    assert head["parts_count"] == 1


def test_initiate_validates_headers(raw: Raw, src: str) -> None:
    resp = raw.request("POST", src, "out", params={"uploads": ""}, headers={"x-cos-storage-class": "COLD"})
    assert (resp.status_code, error_code(resp)) == (400, "NotSupportedStorageClass")
    resp = raw.request(
        "POST",
        src,
        "out",
        params={"uploads": ""},
        headers={"x-cos-tagging": "&".join(f"k{i}=v" for i in range(11))},
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_abort(raw: Raw, emu: CosEmulator, src: str) -> None:
    upload = raw.initiate(src, "out")
    assert emu.live_uploads(src) == 1
    resp = raw.request("DELETE", src, "out", params={"uploadId": upload})
    assert resp.status_code == 204
    assert emu.live_uploads(src) == 0
    resp = raw.request("DELETE", src, "out", params={"uploadId": upload})
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchUpload")


def test_list_parts_pagination_and_encoding(raw: Raw, src: str) -> None:
    key = "dir/a b+c"
    upload = raw.initiate(src, key)
    for n in (1, 2, 3, 5):
        raw.part_copy(src, key, upload, n, source_of(src, "small"), None)
    first = xml(
        raw.request("GET", src, key, params={"uploadId": upload, "max-parts": "2", "encoding-type": "url"})
    )
    assert first.findtext("Key") == "dir%2Fa%20b%2Bc"
    assert first.findtext("Encoding-Type") == "url"
    assert [p.findtext("PartNumber") for p in first.findall("Part")] == ["1", "2"]
    assert (first.findtext("IsTruncated"), first.findtext("NextPartNumberMarker")) == ("true", "2")
    rest = xml(raw.request("GET", src, key, params={"uploadId": upload, "part-number-marker": "2"}))
    assert [p.findtext("PartNumber") for p in rest.findall("Part")] == ["3", "5"]
    assert rest.findtext("IsTruncated") == "false"
    assert rest.findtext("Key") == key
    bad = raw.request("GET", src, key, params={"uploadId": upload, "encoding-type": "base64"})
    assert (bad.status_code, error_code(bad)) == (400, "InvalidArgument")
    bad = raw.request("GET", src, key, params={"uploadId": upload, "max-parts": "many"})
    assert (bad.status_code, error_code(bad)) == (400, "InvalidArgument")


def test_list_uploads_pagination_delimiter_and_encoding(raw: Raw, bucket: str) -> None:
    ids = {k: raw.initiate(bucket, k) for k in ("a", "b", "b", "d/x y", "d/z")}
    second_b = raw.initiate(bucket, "b")
    page = xml(raw.request("GET", bucket, params={"uploads": "", "max-uploads": "2"}))
    assert [u.findtext("Key") for u in page.findall("Upload")] == ["a", "b"]
    assert page.findtext("IsTruncated") == "true"
    rest = xml(
        raw.request(
            "GET",
            bucket,
            params={
                "uploads": "",
                "key-marker": page.findtext("NextKeyMarker") or "",
                "upload-id-marker": page.findtext("NextUploadIdMarker") or "",
            },
        )
    )
    keys = [u.findtext("Key") for u in rest.findall("Upload")]
    assert keys[:2] == ["b", "b"] and len(keys) == 4
    grouped = xml(
        raw.request("GET", bucket, params={"uploads": "", "delimiter": "/", "encoding-type": "url"})
    )
    assert [p.findtext("Prefix") for p in grouped.findall("CommonPrefixes")] == ["d%2F"]
    assert {u.findtext("Key") for u in grouped.findall("Upload")} == {"a", "b"}
    prefixed = xml(raw.request("GET", bucket, params={"uploads": "", "prefix": "d/", "encoding-type": "url"}))
    assert [u.findtext("Key") for u in prefixed.findall("Upload")] == ["d%2Fx%20y", "d%2Fz"]
    assert second_b in {u.findtext("UploadId") for u in rest.findall("Upload")}
    assert ids["a"] == page.findall("Upload")[0].findtext("UploadId")
