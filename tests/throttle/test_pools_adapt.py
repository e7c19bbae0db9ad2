"""The other users of the window adapt too: the part pool of a multipart copy and bulk deletes."""

from __future__ import annotations

from typing import Any

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.delete import delete_keys
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET
from tests.copy.conftest import make_client

MiB = limits.MiB


def test_multipart_part_pool_under_a_rate_limit(cos: Any) -> None:
    """client's max_attempts is 3; 12 parts at 8 at once against 10 requests/s draw many more 503s."""
    info = cos.seed_synthetic(SRC_BUCKET, "big.bin", size=12 * MiB, seed=4)
    cos.set_model(bucket_rate_limits={DST_BUCKET: 10.0}, rate_limit_burst=2)
    options = CopyOptions(multipart_threshold=MiB, part_size=MiB, concurrency=8, resume=False)
    # Initiate and Complete are sent alone, outside the pool: SlowDown spends their attempts, so
    # their backoff must outlast a token (0.1 s at 10 requests/s).
    with make_client(cos.address, REGION, base_delay=0.4, max_delay=0.8) as client:
        engine = CopyEngine(client)
        outcome = engine.copy(client.ref(SRC_BUCKET, "big.bin"), client.ref(DST_BUCKET, "c.bin"), options)
    assert outcome.part_count == 12 and outcome.crc64 == info["crc64"]
    counters = cos.counters()
    assert counters["requests"]["UploadPartCopy"]["200"] == 12
    assert counters["requests"]["UploadPartCopy"].get("503", 0) > 0
    assert counters["slowdowns"]["by_bucket"][DST_BUCKET] > 0
    assert cos.live_uploads() == 0


def test_bulk_delete_under_a_rate_limit(cos: Any, client: CosClient) -> None:
    cos.seed_many(DST_BUCKET, "gone/", 60, size=1)
    cos.set_model(bucket_rate_limits={DST_BUCKET: 10.0}, rate_limit_burst=1)
    keys = [f"gone/{n:08d}" for n in range(60)]
    result = delete_keys(client, DST_BUCKET, keys, concurrency=6, batch_size=5)
    assert result.ok and sorted(result.deleted) == keys and result.requests == 12
    counters = cos.counters()
    assert counters["requests"]["DeleteMultipleObjects"]["200"] == 12
    assert counters["slowdowns"]["by_bucket"][DST_BUCKET] > 0
    assert cos.head(DST_BUCKET, "gone/00000000") is None
