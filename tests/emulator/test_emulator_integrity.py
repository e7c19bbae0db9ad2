"""CRC-64 and ETag integrity: synthetic content, extents, and whole objects."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from cos_provider.client.crc64 import crc64
from cos_provider.emulator import CosEmulator
from cos_provider.emulator.content import BytesBlob, Content, Extent, FlippedBlob
from cos_provider.emulator.synthetic import PERIOD_A, PERIOD_B, pattern, zeros_crc

from .helpers import Raw, source_of, xml

MiB = 1024 * 1024


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 3),
    start=st.one_of(st.integers(0, 3 * PERIOD_A), st.integers(0, 60 * 1024**4)),
    length=st.integers(0, 3 * PERIOD_B),
)
def test_synthetic_range_crc_equals_crc_of_its_bytes(seed: int, start: int, length: int) -> None:
    p = pattern(seed)
    assert p.crc(start, length) == crc64(p.read(start, length))


def test_synthetic_reads_are_consistent_and_not_periodic_by_powers_of_two() -> None:
    p = pattern(1)
    assert p.read(PERIOD_A - 5, 20) == p.read(0, PERIOD_A + 15)[-20:]
    for shift in (4096, 1 << 20, 5 << 30, 4 << 30):
        assert p.read(shift, 64) != p.read(0, 64)
    assert p.read(PERIOD_A * PERIOD_B, 64) == p.read(0, 64)


def test_zeros_crc() -> None:
    for n in (0, 1, 7, 4096, 65537):
        assert zeros_crc(n) == (crc64(bytes(n)) if n else 0)


def test_flipped_blob_bytes_and_crc() -> None:
    inner = Extent(BytesBlob(b"abcdefgh" * 100), 8, 600)
    flipped = Extent(FlippedBlob(inner), 0, 600)
    data = flipped.read(0, 600)
    assert data[0] == ord("a") ^ 1 and data[1:] == inner.read(1, 599)
    assert flipped.crc == crc64(data)
    assert flipped.sub(1, 50).crc == crc64(data[1:51])


def test_content_slicing_across_extents() -> None:
    blob = BytesBlob(bytes(range(256)) * 8)
    content = Content([Extent(blob, 0, 100), Extent(blob, 500, 300), Extent(pattern(2) and _syn(2), 0, 1000)])
    whole = content.read()
    assert len(whole) == content.size == 1400
    assert content.crc == crc64(whole)
    for a, b in ((0, 1400), (50, 150), (99, 101), (399, 1399), (400, 400)):
        assert content.read(a, b) == whole[a:b]
        assert content.range_crc(a, b) == crc64(whole[a:b])


def _syn(seed: int) -> object:
    from cos_provider.emulator.content import PatternBlob

    return PatternBlob(seed)


def test_range_etag_is_md5_for_real_bytes_and_a_stand_in_otherwise() -> None:
    real = Content.from_bytes(b"hello world")
    assert real.range_etag(0, 5) == hashlib.md5(b"hello").hexdigest()
    synthetic = Content.synthetic(5, 10 * MiB)
    assert synthetic.range_etag(0, MiB) == synthetic.range_etag(0, MiB)
    assert synthetic.range_etag(0, MiB) != synthetic.range_etag(1, MiB + 1)


def test_multipart_of_real_and_synthetic_parts(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.seed_synthetic(bucket, "syn", size=3 * MiB + 11, seed=4)
    real = bytes(range(251)) * 5000
    upload = raw.initiate(bucket, "mixed")
    p1 = raw.upload_part(bucket, "mixed", upload, 1, real)
    p2 = raw.part_copy(bucket, "mixed", upload, 2, source_of(bucket, "syn"), f"bytes=5-{5 + 2 * MiB - 1}")
    p3 = raw.part_copy(bucket, "mixed", upload, 3, source_of(bucket, "syn"), "bytes=3-9")
    etags = [p1.headers["ETag"], xml(p2).findtext("ETag") or "", xml(p3).findtext("ETag") or ""]
    done = raw.complete(bucket, "mixed", upload, list(enumerate(etags, 1)))
    assert done.status_code == 200
    expected = (
        real
        + emu.get_object_bytes(bucket, "syn", start=5, end=5 + 2 * MiB)
        + emu.get_object_bytes(bucket, "syn", start=3, end=10)
    )
    assert emu.get_object_bytes(bucket, "mixed") == expected
    assert int(done.headers["x-cos-hash-crc64ecma"]) == crc64(expected)
    head = raw.request("HEAD", bucket, "mixed")
    assert int(head.headers["x-cos-hash-crc64ecma"]) == crc64(expected)
    assert head.headers["ETag"].endswith('-3"')
    # A copy of the multipart object keeps the bytes and the CRC.
    copied = raw.copy(bucket, "copied", source_of(bucket, "mixed"))
    assert int(copied.headers["x-cos-hash-crc64ecma"]) == crc64(expected)


def test_synthetic_object_over_http(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    info = emu.seed_synthetic(bucket, "s", size=300_000, seed=11, metadata={"kind": "synthetic"})
    resp = raw.request("GET", bucket, "s")
    assert len(resp.content) == 300_000
    assert crc64(resp.content) == info["crc64"] == int(resp.headers["x-cos-hash-crc64ecma"])
    assert resp.headers["x-cos-meta-kind"] == "synthetic"
    assert resp.headers["ETag"] == f'"{info["etag"]}"'
