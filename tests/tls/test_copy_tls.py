"""Copies through the hook over real HTTPS, trusting a private CA by path (``verify``).

Every request of these copies crosses a verified TLS connection: the
emulator speaks nothing else on its port, and it reports which SNI names the
client asked for, which must be the buckets' virtual hosts (the names COS's
certificate carries), not the connect address.
"""

from __future__ import annotations

import pytest

from cos_provider.client import limits
from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats
from cos_provider.hooks.cos import CosHook
from tests.conftest import ARCHIVE_BUCKET, DST_BUCKET, OTHER_REGION, REGION, SRC_BUCKET
from tests.tls.support import all_over_tls, answered, vhost

MiB = limits.MiB


@pytest.mark.parametrize(
    ("dest_bucket", "dest_region"),
    [(DST_BUCKET, REGION), (ARCHIVE_BUCKET, OTHER_REGION)],
    ids=["same-region", "cross-region"],
)
def test_single_copy_over_https(
    cos: CosEmulator, cos_connection: str, tls: ConnectionStats, dest_bucket: str, dest_region: str
) -> None:
    """One PUT Object - Copy, the destination possibly in the other region: two virtual
    hosts, each verified under its own name (the cross-region one by a client of its own)."""
    cos.put_object(SRC_BUCKET, "in/data.csv", b"id,value\n1,2\n" * 1000)
    source = cos.head(SRC_BUCKET, "in/data.csv")
    assert source is not None

    outcome = CosHook(cos_connection).copy_object(
        f"cos://{SRC_BUCKET}/in/data.csv",
        f"cos://{dest_bucket}/out/data.csv",
        dest_region=dest_region if dest_region != REGION else None,
    )

    dest = cos.head(dest_bucket, "out/data.csv")
    assert dest is not None
    assert (outcome.method, outcome.part_count) == ("single", 0)
    assert outcome.size == dest["size"] == source["size"] == 13_000
    assert outcome.crc64 == dest["crc64"] == source["crc64"]
    assert cos.get_object_bytes(dest_bucket, "out/data.csv") == b"id,value\n1,2\n" * 1000
    assert answered(cos, "CopyObject", "200") == 1
    snap = all_over_tls(tls)
    assert set(snap["tls_server_names"]) <= {vhost(SRC_BUCKET), vhost(dest_bucket, dest_region)}
    assert vhost(dest_bucket, dest_region) in snap["tls_server_names"]


def test_multipart_copy_over_https(cos: CosEmulator, cos_connection: str, tls: ConnectionStats) -> None:
    """Initiate, six Upload Part - Copy in parallel, Complete, and the checks after, all
    over verified HTTPS; the parts' ranges must add up to the source's CRC64."""
    size = 5 * MiB + 12345
    source = cos.seed_synthetic(SRC_BUCKET, "big/source.bin", size=size, seed=7)

    outcome = CosHook(cos_connection).copy_object(
        f"cos://{SRC_BUCKET}/big/source.bin",
        f"cos://{DST_BUCKET}/big/copy.bin",
        multipart_threshold=0,
        part_size=MiB,
        concurrency=3,
    )

    dest = cos.head(DST_BUCKET, "big/copy.bin")
    assert dest is not None
    assert outcome.part_count == dest["parts_count"] == 6
    assert outcome.size == dest["size"] == size
    assert outcome.crc64 == dest["crc64"] == source["crc64"]
    assert cos.get_object_bytes(DST_BUCKET, "big/copy.bin", start=size - 100) == cos.get_object_bytes(
        SRC_BUCKET, "big/source.bin", start=size - 100
    )
    assert answered(cos, "UploadPartCopy", "200") == 6
    assert answered(cos, "CompleteMultipartUpload", "200") == 1
    assert cos.live_uploads() == 0
    snap = all_over_tls(tls)
    # The source's HEAD on its host; Initiate, the parts (in parallel, over several
    # connections) and Complete on the destination's: each connection verified for its own.
    assert set(snap["tls_server_names"]) == {vhost(SRC_BUCKET), vhost(DST_BUCKET)}
