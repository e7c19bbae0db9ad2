"""CRC-64/XZ throughput: what verifies every transfer, ours against the official SDK's ``crcmod``.

    .venv/bin/python bench/crc64.py            # 256 MB, best of 5
    .venv/bin/python bench/crc64.py --mb 64    # smaller

Rows: ``cos_provider.client.crc64.crc64`` (fastcrc underneath), the SDK's
``crcmod`` function (its C extension, as ``resumable_downloader.py`` builds
it), and our pure-Python fallback (on 8 MB, or it would take minutes). Then
the same two fast paths from two threads at once: a checksum that holds the
GIL would serialise parallel part uploads. All values are checked against
each other before anything is timed. The last line is ``crc64_mb_s=…``.
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path  # noqa: F401  (first: see its docstring)

import argparse
import os
import threading
import time
from collections.abc import Callable

import crcmod

from cos_provider.client.crc64 import crc64, crc64_pure

Checksum = Callable[[bytes], int]
sdk_crc64: Checksum = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def best_of(fn: Checksum, data: bytes, repeat: int) -> float:
    """MB/s of the fastest of ``repeat`` runs (the least disturbed by the machine's other work)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - start)
    return len(data) / best / 1e6


def two_threads(fn: Checksum, data: bytes) -> float:
    """Aggregate MB/s of two threads checksumming ``data`` each."""
    threads = [threading.Thread(target=fn, args=(data,)) for _ in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 2 * len(data) / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = os.urandom(args.mb * 1_000_000)
    small = data[:8_000_000]
    assert crc64(data) == sdk_crc64(data), "fastcrc and crcmod disagree"
    assert crc64_pure(small[:100_000]) == crc64(small[:100_000]), "the fallback disagrees"

    rows = [
        ("ours (fastcrc)", best_of(crc64, data, args.repeat), two_threads(crc64, data)),
        ("SDK (crcmod C extension)", best_of(sdk_crc64, data, args.repeat), two_threads(sdk_crc64, data)),
        ("ours, pure-Python fallback", best_of(crc64_pure, small, 1), float("nan")),
    ]
    print(f"CRC-64/XZ over {args.mb} MB of random bytes (fallback: 8 MB), {os.cpu_count()} cores")
    print(f"{'implementation':30s} {'1 thread MB/s':>14s} {'2 threads MB/s':>15s}")
    for name, one, two in rows:
        both = "-" if two != two else f"{two:,.0f}"  # nan: not measured
        print(f"{name:30s} {one:14,.0f} {both:>15s}")
    ours, sdk = rows[0][1], rows[1][1]
    print(f"ours / SDK = {ours / sdk:.1f}x")
    print(f"crc64_mb_s={ours:.0f}")


if __name__ == "__main__":
    main()
