"""A prefix copy reads its listing as it copies: memory does not grow with the number of objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

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


def test_read_ahead_is_bounded_keeps_order_and_raises_the_listing_error() -> None:
    import threading

    from cos_provider.client.copy.window import read_ahead

    pulled: list[int] = []
    gate = threading.Event()

    def listing() -> Iterator[int]:
        for n in range(100):
            pulled.append(n)
            if n == 10:
                gate.set()
            yield n
        raise RuntimeError("listing page 2 failed")

    reader = read_ahead(listing(), 10)
    assert next(reader) == 0  # the reader thread starts on the first pull
    assert gate.wait(10)
    first = [0, *(next(reader) for _ in range(19))]
    assert first == list(range(20))
    assert len(pulled) <= 20 + 10 + 1  # what was taken, the queue, one in the reader's hand
    rest: list[int] = []
    with pytest.raises(RuntimeError, match="listing page 2 failed"):
        rest.extend(reader)
    assert first + rest == list(range(100))


def test_reported_pairs_are_compact() -> None:
    import tracemalloc

    from cos_provider.client.attributes import ObjectRef
    from cos_provider.client.copy.compact import RefPairs

    keys = [f"p/{n:08d}" for n in range(100_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        pairs = RefPairs()
        for key in keys:
            pairs.append((ObjectRef(SRC_BUCKET, key), ObjectRef(DST_BUCKET, "d/" + key[2:], None, "ap-x")))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 5_000_000  # ObjectRef pairs would take ~27 MB
    assert len(pairs) == 100_000
    assert pairs[0] == (
        ObjectRef(SRC_BUCKET, "p/00000000"),
        ObjectRef(DST_BUCKET, "d/00000000", None, "ap-x"),
    )
    assert pairs[-1][1].key == "d/00099999" and pairs[5:7] == list(pairs)[5:7]
    odd = RefPairs()
    odd.append((ObjectRef(SRC_BUCKET, "中文 key", "v1"), ObjectRef(DST_BUCKET, "x")))
    assert odd == [(ObjectRef(SRC_BUCKET, "中文 key", "v1"), ObjectRef(DST_BUCKET, "x"))]
