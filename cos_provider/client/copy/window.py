"""A bounded submit window over a thread pool: how the engine runs many requests at once.

Submitting all the work to a ``ThreadPoolExecutor`` up front would hold a
Future per item (10,000 parts, or a listing of a million keys) and keep
going after the first failure. The window instead keeps at most
``concurrency * queued_per_worker`` items submitted: ``concurrency`` running
and the rest queued, so a worker that finishes picks its next item at once
instead of waiting for the caller's thread to hand it one. The next item is
pulled from ``items`` only as others finish, so a lazy iterable (a listing)
is read as the work goes and memory does not grow with its length.

The first error stops the window, unless ``on_error`` returns instead of
raising; so do the ``cancel`` Event and an interrupt of the caller's thread.
Once ``cancel`` is set, errors of the work are taken as consequences of the
cancellation (requests on an upload that was aborted fail) and
:class:`CopyCancelled` is raised instead. Stopping cancels what is queued,
makes workers skip what they have not started, calls ``on_stop`` (so the
caller can abort an upload *before* waiting for the requests in flight),
waits for those, and re-raises.

The ``concurrency`` is a ceiling: an
:class:`~cos_provider.client.adaptive.AdaptiveLimit` lowers the items run at
once when COS answers 503 ``SlowDown`` and raises it back as items succeed
(AIMD), so every user of the window (prefix copies, the parts of one copy,
bulk deletes, uploads, downloads) runs near a bucket's rate limit without a
storm of retries.

A slow iterable (a listing: a request, then an XML page of 1,000 keys to
parse) would stall the window each time it is asked for the next page: wrap
it in :func:`read_ahead`, which reads it on a thread of its own, a bounded
number of items ahead.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TypeVar

from cos_provider.client import adaptive
from cos_provider.client.copy.errors import CopyCancelled
from cos_provider.client.copy.plan import validate_concurrency

T = TypeVar("T")
R = TypeVar("R")

POLL_SECONDS = 1.0
"""Longest wait between two looks at ``cancel`` while requests are in flight."""
MIN_WAIT_SECONDS = 0.05


def _stop_on_error(item: object, exc: BaseException) -> None:
    raise exc


class _End:
    """What the reader thread queues after the last item (with the iterable's error, if it raised)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(items: Iterable[T], size: int, *, name: str = "cos-list") -> Iterator[T]:
    """``items``, pulled by a thread at most ``size`` ahead of the consumer; its errors re-raised here.

    Memory: ``size`` items. The thread stops when this generator is closed
    or collected (the consumer stopped early) or ``items`` ends.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    buffer: queue.Queue[T | _End] = queue.Queue(maxsize=size)
    stopped = threading.Event()

    def put(entry: T | _End) -> bool:
        while not stopped.is_set():
            try:
                buffer.put(entry, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_End(exc))
            return
        put(_End())

    threading.Thread(target=read, name=f"{name}-reader", daemon=True).start()
    try:
        while True:
            entry = buffer.get()
            if isinstance(entry, _End):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry
    finally:
        stopped.set()


def run_window(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    concurrency: int,
    on_result: Callable[[T, R], None],
    on_error: Callable[[T, BaseException], None] = _stop_on_error,
    on_stop: Callable[[BaseException], None] | None = None,
    cancel: threading.Event | None = None,
    tick: Callable[[], float] | None = None,
    queued_per_worker: int = 2,
    thread_name: str = "cos-copy",
    limit: adaptive.AdaptiveLimit | None = None,
) -> None:
    """Run ``work(item)`` for every item, ``concurrency`` at a time (see the module docstring).

    ``on_result`` and ``on_error`` run on the caller's thread, one at a time,
    so they need no lock. ``on_error`` raises to stop the window (the default
    re-raises the item's error) or returns to go on. ``tick`` is called
    between waits and returns the seconds until it wants to be called again
    (progress reporting). ``limit`` (a fresh one per call by default) is
    the AIMD limit the items run under, at most ``concurrency`` at once.
    """
    validate_concurrency(concurrency)
    stopped = threading.Event()
    pending = iter(items)
    inflight: dict[Future[R], T] = {}
    ahead = concurrency * max(1, queued_per_worker)
    slots = limit if limit is not None else adaptive.AdaptiveLimit(concurrency)

    def halted() -> bool:
        return stopped.is_set() or (cancel is not None and cancel.is_set())

    def guarded(item: T) -> R:
        if halted():
            raise CopyCancelled("not started: the copy was stopped")
        permit = slots.acquire(halted)
        previous = adaptive.bind(permit)
        try:
            result = work(item)
        finally:
            adaptive.bind(previous)
            permit.release()
        slots.succeeded()
        return result

    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name)

    def fill() -> None:
        for item in islice(pending, ahead - len(inflight)):
            inflight[executor.submit(guarded, item)] = item

    try:
        fill()
        while inflight:
            if cancel is not None and cancel.is_set():
                raise CopyCancelled("copy cancelled")
            timeout = POLL_SECONDS if tick is None else max(MIN_WAIT_SECONDS, min(POLL_SECONDS, tick()))
            done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                item = inflight.pop(future)
                exc = future.exception()
                if exc is None:
                    on_result(item, future.result())
                elif cancel is not None and cancel.is_set():
                    raise CopyCancelled("copy cancelled") from exc
                else:
                    on_error(item, exc)
            fill()
    except BaseException as exc:
        stopped.set()
        slots.close()
        for future in inflight:
            future.cancel()
        if on_stop is not None:
            on_stop(exc)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        adaptive.summary(slots, thread_name)
