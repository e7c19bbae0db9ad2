"""The emulator's listing reads a page's worth of keys, not every key after the marker.

A batch job's manifest lists the whole prefix; at 100,000 keys a listing that
read every key after the marker for each page was quadratic. The chunked
iterator must return exactly what a full scan returns.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from tests.conftest import VERSIONED_BUCKET


def _scan(cos: Any, marker: str, prefix: str) -> list[str]:
    bucket = cos.store.bucket(VERSIONED_BUCKET)
    return [
        k
        for k in bucket.keys
        if k > marker and k.startswith(prefix) and not bucket.versions[k][-1].is_delete_marker
    ]


def test_chunked_listing_equals_a_full_scan(cos: Any) -> None:
    for i in range(40):
        cos.put_object(VERSIONED_BUCKET, f"p/{i:02d}", b"x")
        cos.put_object(VERSIONED_BUCKET, f"q/{i:02d}", b"x")
    for i in range(0, 40, 3):  # delete markers, some at chunk boundaries
        cos.store.delete(cos.store.bucket(VERSIONED_BUCKET), f"p/{i:02d}", None)
    bucket = cos.store.bucket(VERSIONED_BUCKET)
    for marker in ("", "p/", "p/05", "p/39", "q/"):
        for prefix in ("", "p/", "q/", "r/"):
            got = [k for k, _ in cos.store.live_keys_after(bucket, marker, prefix, chunk=3)]
            assert got == _scan(cos, marker, prefix), (marker, prefix)


def test_a_page_stops_reading_where_it_stops(cos: Any) -> None:
    for i in range(30):
        cos.put_object(VERSIONED_BUCKET, f"p/{i:02d}", b"x")
    bucket = cos.store.bucket(VERSIONED_BUCKET)
    it = cos.store.live_keys_after(bucket, "", "p/", chunk=4)
    assert [k for k, _ in islice(it, 5)] == [f"p/{i:02d}" for i in range(5)]
    cos.put_object(VERSIONED_BUCKET, "p/09a", b"x")  # beyond the chunks read so far: seen, once
    rest = [k for k, _ in it]
    assert rest[:6] == ["p/05", "p/06", "p/07", "p/08", "p/09", "p/09a"]
    assert len(rest) == len(set(rest)) == 26
