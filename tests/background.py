"""Running a copy in a thread, to cancel or kill it while its upload is open."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def start_copy_in_background(
    cos: Any, copy: Callable[[], object], timeout: float = 10.0
) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``copy`` in a thread; return once the emulator holds a live upload (or after ``timeout``).

    What ``copy`` raises lands in the returned list instead of being lost in the thread.
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            copy()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + timeout
    while cos.live_uploads() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return worker, errors
