"""Progress of a multipart copy, logged about every ``interval`` seconds and at the end."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol


class LoggerLike(Protocol):
    """What the engine logs with: a stdlib logger, or Airflow's task logger (``self.log``)."""

    def debug(self, msg: str, /, *args: Any) -> Any: ...
    def info(self, msg: str, /, *args: Any) -> Any: ...
    def warning(self, msg: str, /, *args: Any) -> Any: ...
    def error(self, msg: str, /, *args: Any, **kwargs: Any) -> Any: ...  # **kwargs: exc_info


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def human_duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class ProgressReporter:
    """Counts finished parts; not thread-safe (the engine updates it from one thread).

    Throughput and ETA count only bytes copied by this run, so a resumed copy
    does not report the reused parts as instantaneous speed.
    """

    def __init__(
        self,
        total_parts: int,
        total_bytes: int,
        *,
        label: str,
        log: LoggerLike,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        reused_parts: int = 0,
        reused_bytes: int = 0,
    ) -> None:
        self.total_parts = total_parts
        self.total_bytes = total_bytes
        self.label = label
        self.log = log
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.parts_done = reused_parts
        self.bytes_done = reused_bytes
        self._reused_bytes = reused_bytes
        self._next_report = self.started + interval

    def add(self, nbytes: int) -> None:
        self.parts_done += 1
        self.bytes_done += nbytes

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def rate(self) -> float:
        """Bytes per second copied by this run."""
        elapsed = self.elapsed
        return (self.bytes_done - self._reused_bytes) / elapsed if elapsed > 0 else 0.0

    def seconds_to_next(self) -> float:
        return max(0.0, self._next_report - self.clock())

    def line(self, final: bool = False) -> str:
        rate = self.rate()
        pct = 100.0 * self.bytes_done / self.total_bytes if self.total_bytes else 100.0
        text = (
            f"{self.label}: {self.parts_done}/{self.total_parts} parts, "
            f"{human_bytes(self.bytes_done)} of {human_bytes(self.total_bytes)} ({pct:.0f}%), "
            f"{rate / 1e6:.1f} MB/s"
        )
        if final:
            return text + f", took {human_duration(self.elapsed)}"
        remaining = self.total_bytes - self.bytes_done
        eta = human_duration(remaining / rate) if rate > 0 else "unknown"
        return text + f", ETA {eta}"

    def maybe_report(self) -> bool:
        now = self.clock()
        if now < self._next_report:
            return False
        self._next_report = now + self.interval
        self.log.info("%s", self.line())
        return True

    def finish(self) -> None:
        self.log.info("%s", self.line(final=True))
