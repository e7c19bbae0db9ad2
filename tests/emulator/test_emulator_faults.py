"""Fault injection: every kind, and every way of scheduling one."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import requests
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cos_provider.emulator import CosEmulator, FaultRule
from cos_provider.emulator.faults import parse_cli_fault

from .helpers import Raw, error_code, host_of, source_of, xml

MiB = 1024 * 1024


@pytest.fixture
def obj(emu: CosEmulator, bucket: str) -> str:
    emu.put_object(bucket, "k", b"value")
    emu.seed_synthetic(bucket, "big", size=4 * MiB, seed=9)
    return bucket


def statuses(raw: Raw, bucket: str, n: int, key: str = "k") -> list[int]:
    return [raw.request("HEAD", bucket, key).status_code for _ in range(n)]


def test_internal_error_times(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="GetObject", kind="internal_error", times=2))
    first = raw.request("GET", obj, "k")
    assert (first.status_code, error_code(first)) == (500, "InternalError")
    assert raw.request("GET", obj, "k").status_code == 500
    assert raw.request("GET", obj, "k").content == b"value"
    assert emu.counters()["faults_injected"]["GetObject"]["internal_error"] >= 2


def test_slow_down(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="PutObject", kind="slow_down", times=1))
    resp = raw.put(obj, "new", b"x")
    assert (resp.status_code, error_code(resp)) == (503, "SlowDown")
    assert emu.head(obj, "new") is None
    assert raw.put(obj, "new", b"x").status_code == 200


def test_sequence(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="HeadObject", sequence=["internal_error", "ok", "slow_down"]))
    assert statuses(raw, obj, 5) == [500, 200, 503, 200, 200]


def test_rate_is_reproducible_with_a_seed(raw: Raw, emu: CosEmulator, obj: str) -> None:
    runs = []
    for _ in range(2):
        emu.clear_faults()
        emu.add_fault(FaultRule(operation="HeadObject", kind="internal_error", rate=0.5, seed=42))
        runs.append(statuses(raw, obj, 20))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}
    emu.clear_faults()
    emu.add_fault(FaultRule(operation="HeadObject", kind="internal_error", rate=0.0))
    assert set(statuses(raw, obj, 5)) == {200}


def test_permanent_and_filters(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.put_object(obj, "other", b"o")
    emu.add_fault(FaultRule.always("HeadObject", "internal_error", key="k"))
    assert statuses(raw, obj, 3) == [500, 500, 500]
    assert statuses(raw, obj, 2, key="other") == [200, 200]
    emu.clear_faults()
    assert statuses(raw, obj, 1) == [200]
    emu.add_fault(FaultRule(operation="*", kind="slow_down", bucket="elsewhere-1250000000"))
    assert statuses(raw, obj, 1) == [200]


def test_part_number_filter(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="UploadPartCopy", kind="internal_error", part_number=2))
    upload = raw.initiate(obj, "out")
    assert raw.part_copy(obj, "out", upload, 1, source_of(obj, "k"), None).status_code == 200
    assert raw.part_copy(obj, "out", upload, 2, source_of(obj, "k"), None).status_code == 500
    assert raw.part_copy(obj, "out", upload, 3, source_of(obj, "k"), None).status_code == 200


def test_reset_mid_response_after_the_operation(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="PutObject", kind="reset", times=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        raw.put(obj, "reset-me", b"payload")
    head = emu.head(obj, "reset-me")
    assert head is not None and head["size"] == 7
    emu.add_fault(FaultRule(operation="GetObject", kind="reset", times=1))
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        raw.request("GET", obj, "big")
    assert raw.request("GET", obj, "k").content == b"value"


def test_error_200_copy_object(sdk: Callable[..., CosS3Client], emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="CopyObject", kind="error_200", times=1))
    with pytest.raises(CosServiceError) as exc:
        sdk().copy_object(
            Bucket=obj, Key="dst", CopySource={"Bucket": obj, "Key": "k", "Region": "ap-guangzhou"}
        )
    assert (exc.value.get_status_code(), exc.value.get_error_code()) == (200, "InternalError")
    assert emu.head(obj, "dst") is None


def test_error_200_upload_part_copy_with_code(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="UploadPartCopy", kind="error_200", times=1, code="SlowDown"))
    upload = raw.initiate(obj, "out")
    resp = raw.part_copy(obj, "out", upload, 1, source_of(obj, "k"), None)
    assert (resp.status_code, error_code(resp)) == (200, "SlowDown")
    root = xml(resp)
    assert all(root.findtext(f) for f in ("Code", "Message", "Resource", "RequestId", "TraceId"))
    listed = xml(raw.request("GET", obj, "out", params={"uploadId": upload}))
    assert listed.findall("Part") == []
    # Validation still comes first: a bad request is not turned into a 200.
    emu.add_fault(FaultRule.always("UploadPartCopy", "error_200"))
    resp = raw.part_copy(obj, "out", upload, 1, source_of(obj, "missing"), None)
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchKey")


def test_error_200_complete_keeps_the_upload(raw: Raw, emu: CosEmulator, obj: str) -> None:
    upload = raw.initiate(obj, "out")
    etag = xml(raw.part_copy(obj, "out", upload, 1, source_of(obj, "k"), None)).findtext("ETag") or ""
    emu.add_fault(FaultRule(operation="CompleteMultipartUpload", kind="error_200", times=1))
    resp = raw.complete(obj, "out", upload, [(1, etag)])
    assert (resp.status_code, error_code(resp)) == (200, "InternalError")
    assert emu.live_uploads(obj) == 1
    assert raw.complete(obj, "out", upload, [(1, etag)]).status_code == 200


def test_truncated_body_happens_then_cuts_the_answer(raw: Raw, emu: CosEmulator, obj: str) -> None:
    full = raw.copy(obj, "whole", source_of(obj, "k"))
    emu.add_fault(FaultRule(operation="CopyObject", kind="truncated_body", times=1))
    resp = raw.copy(obj, "cut", source_of(obj, "k"))
    assert resp.status_code == 200
    assert resp.content == full.content[: len(full.content) // 2]  # a complete answer, half a document
    assert resp.headers["Content-Length"] == str(len(resp.content))
    assert emu.get_object_bytes(obj, "cut") == b"value"  # the copy happened


def test_garbage_body_does_nothing_and_answers_html(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="InitiateMultipartUpload", kind="garbage_body", times=1))
    resp = raw.request("POST", obj, "out", params={"uploads": ""})
    assert (resp.status_code, resp.headers["Content-Type"]) == (200, "text/html")
    assert resp.content.startswith(b"<!DOCTYPE html>")
    assert emu.live_uploads(obj) == 0
    assert emu.counters()["faults_injected"]["InitiateMultipartUpload"] == {"garbage_body": 1}


def test_body_faults_only_for_xml_answers() -> None:
    for kind in ("truncated_body", "garbage_body"):
        FaultRule(operation="ListParts", kind=kind)
        with pytest.raises(ValueError, match="applies only"):
            FaultRule(operation="HeadObject", kind=kind)
        with pytest.raises(ValueError, match="applies only"):
            FaultRule(operation="GetObject", kind=kind)


def test_error_200_only_for_copy_family() -> None:
    with pytest.raises(ValueError, match="applies only"):
        FaultRule(operation="GetObject", kind="error_200")
    with pytest.raises(ValueError, match="applies only"):
        FaultRule(operation="HeadObject", kind="corrupt")
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(operation="GetObject", kind="explode")
    with pytest.raises(ValueError, match="at most one"):
        FaultRule(operation="GetObject", kind="reset", rate=0.5, times=3)


def test_slow_exceeds_read_timeout(raw: Raw, emu: CosEmulator, obj: str) -> None:
    emu.add_fault(FaultRule(operation="HeadObject", kind="slow", delay=2.0, times=1))
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw.request("HEAD", obj, "k", timeout=0.3)
    assert raw.request("HEAD", obj, "k").status_code == 200


def _raw_complete(emu: CosEmulator, raw: Raw, bucket: str, upload: str, body: bytes) -> bytes:
    hdrs = {"Host": host_of(bucket), "Content-Length": str(len(body))}
    signed = raw.sign("POST", "out", {"uploadId": upload}, hdrs)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(
            f"POST /out?uploadId={upload} HTTP/1.1\r\nHost: {host_of(bucket)}\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: {signed}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _dechunk(data: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out += data[:size]
        data = data[size + 2 :]


class TestKeepAliveWhitespace:
    def upload(self, raw: Raw, bucket: str, sizes: list[int]) -> tuple[str, bytes]:
        upload = raw.initiate(bucket, "out")
        parts = []
        offset = 0
        for n, size in enumerate(sizes, 1):
            resp = raw.part_copy(
                bucket, "out", upload, n, source_of(bucket, "big"), f"bytes={offset}-{offset + size - 1}"
            )
            parts.append(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{xml(resp).findtext('ETag')}</ETag></Part>"
            )
            offset += size
        return upload, ("<CompleteMultipartUpload>" + "".join(parts) + "</CompleteMultipartUpload>").encode()

    def test_success(self, raw: Raw, emu: CosEmulator, obj: str) -> None:
        upload, body = self.upload(raw, obj, [2 * MiB, 2 * MiB])
        emu.add_fault(
            FaultRule(
                operation="CompleteMultipartUpload", kind="keepalive_whitespace", delay=0.5, interval=0.1
            )
        )
        data = _raw_complete(emu, raw, obj, upload, body)
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"Transfer-Encoding: chunked" in head
        source = emu.head(obj, "big")
        assert source is not None
        assert f"x-cos-hash-crc64ecma: {source['crc64']}".encode() in head
        text = _dechunk(rest)
        assert text.startswith(b" ") and len(text) - len(text.lstrip()) >= 3
        assert b"<?xml" not in text
        assert text.lstrip().startswith(b"<CompleteMultipartUploadResult>")

    def test_merge_failure_arrives_as_200_error(self, raw: Raw, emu: CosEmulator, obj: str) -> None:
        upload, body = self.upload(raw, obj, [MiB // 2, MiB])
        emu.add_fault(
            FaultRule(
                operation="CompleteMultipartUpload", kind="keepalive_whitespace", delay=0.2, interval=0.1
            )
        )
        data = _raw_complete(emu, raw, obj, upload, body)
        assert data.startswith(b"HTTP/1.1 200")
        text = _dechunk(data.partition(b"\r\n\r\n")[2]).lstrip()
        assert text.startswith(b"<Error><Code>EntityTooSmall</Code>")

    def test_scripted_error_keeps_upload(self, raw: Raw, emu: CosEmulator, obj: str) -> None:
        upload, body = self.upload(raw, obj, [2 * MiB])
        emu.add_fault(
            FaultRule(
                operation="CompleteMultipartUpload",
                kind="keepalive_whitespace",
                delay=0.2,
                interval=0.1,
                code="InternalError",
                times=1,
            )
        )
        data = _raw_complete(emu, raw, obj, upload, body)
        assert b"<Code>InternalError</Code>" in _dechunk(data.partition(b"\r\n\r\n")[2])
        assert emu.live_uploads(obj) == 1


def test_corrupt_part_copy(raw: Raw, emu: CosEmulator, obj: str) -> None:
    source = emu.head(obj, "big")
    assert source is not None
    upload = raw.initiate(obj, "out")
    ok = raw.part_copy(obj, "out", upload, 1, source_of(obj, "big"), f"bytes=0-{2 * MiB - 1}")
    emu.add_fault(FaultRule(operation="UploadPartCopy", kind="corrupt", part_number=2))
    bad = raw.part_copy(obj, "out", upload, 2, source_of(obj, "big"), f"bytes={2 * MiB}-{4 * MiB - 1}")
    from cos_provider.client.crc64 import crc64

    expected_part = emu.get_object_bytes(obj, "big", start=2 * MiB, end=4 * MiB)
    assert int(bad.headers["x-cos-hash-crc64ecma"]) != crc64(expected_part)
    done = raw.complete(
        obj, "out", upload, [(1, xml(ok).findtext("ETag") or ""), (2, xml(bad).findtext("ETag") or "")]
    )
    assert done.status_code == 200
    assert int(done.headers["x-cos-hash-crc64ecma"]) != source["crc64"]
    stored = emu.get_object_bytes(obj, "out")
    assert int(done.headers["x-cos-hash-crc64ecma"]) == crc64(stored)
    diff = [
        i for i, (a, b) in enumerate(zip(stored, emu.get_object_bytes(obj, "big"), strict=True)) if a != b
    ]
    assert diff == [2 * MiB]


def test_fault_rules_listing_and_cli_parsing(emu: CosEmulator) -> None:
    emu.add_fault(FaultRule(operation="GetObject", kind="reset", times=3))
    assert emu.faults()[0]["times"] == 3
    emu.clear_faults()
    assert emu.faults() == []
    rule = parse_cli_fault("UploadPartCopy:internal_error:0.25")
    assert (rule.operation, rule.kind, rule.rate) == ("UploadPartCopy", "internal_error", 0.25)
    assert parse_cli_fault("HeadObject:slow_down").permanent
    with pytest.raises(ValueError, match="op:kind"):
        parse_cli_fault("nonsense")
