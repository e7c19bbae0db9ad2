"""A prefix copy reads its listing as it copies: memory does not grow with the number of objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.models import ListedObject
from cos_provider.client.selection import CopyMapping, Selection
from tests.conftest import DST_BUCKET, SRC_BUCKET

COUNT, CONCURRENCY = 300, 4


def test_listing_is_consumed_incrementally(cos: Any, client: CosClient) -> None:
    cos.seed_many(SRC_BUCKET, "s/", COUNT, size=8)
    ahead: list[int] = []

    def watched(listing: Iterable[ListedObject]) -> Iterator[ListedObject]:
        for pulled, entry in enumerate(listing, 1):
            copied = cos.counters()["requests"].get("CopyObject", {}).get("200", 0)
            ahead.append(pulled - copied)
            yield entry

    mapping = CopyMapping.of(Selection.of(prefix="s/"), SRC_BUCKET, DST_BUCKET, dest_prefix="d/")
    pairs = mapping.pairs(lambda bucket, prefix: watched(client.iter_objects(bucket, prefix, page_size=50)))
    result = CopyEngine(client).copy_many(pairs, CopyOptions(), concurrency=CONCURRENCY)
    assert len(result.copied) == COUNT and not result.failures
    assert len(ahead) == COUNT
    # The window holds at most 2 x concurrency items; a listing read whole would be COUNT ahead.
    assert max(ahead) <= 2 * CONCURRENCY
    assert cos.counters()["requests"]["ListObjects"] == {"200": COUNT // 50}
    assert cos.head(DST_BUCKET, f"d/{COUNT - 1:08d}")["size"] == 8
