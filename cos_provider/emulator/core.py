"""The state every handler shares, and the counters the admin API reads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cos_provider.client import limits
from cos_provider.emulator.auth import Verifier
from cos_provider.emulator.batch import JobBook
from cos_provider.emulator.faults import FaultBook
from cos_provider.emulator.model import PerformanceModel
from cos_provider.emulator.restore import RestoreBook
from cos_provider.emulator.store import Store


class Counters:
    """Requests by operation and status, copy volume and concurrency, thread-safe.

    A request is counted, and leaves ``in_flight``, when its status is decided,
    just before the first byte of its response is written: a client that holds
    its answer always finds it counted, with no settling delay.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: dict[str, dict[str, int]] = {}
            self.bytes_copied = 0
            self.in_flight = 0
            self.max_in_flight = 0

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def record(self, operation: str, status: int) -> None:
        with self._lock:
            per_op = self.requests.setdefault(operation, {})
            key = str(status)
            per_op[key] = per_op.get(key, 0) + 1

    def copied(self, nbytes: int) -> None:
        with self._lock:
            self.bytes_copied += nbytes

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {op: dict(st) for op, st in self.requests.items()},
                "bytes_copied": self.bytes_copied,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }


@dataclass
class Core:
    store: Store
    verifier: Verifier
    model: PerformanceModel
    faults: FaultBook
    counters: Counters = field(default_factory=Counters)
    single_copy_limit: int | None = limits.MAX_SINGLE_COPY_SIZE
    owner_uin: str = "100000000001"
    jobs: JobBook = field(default_factory=JobBook)
    restores: RestoreBook = field(default_factory=RestoreBook)
