"""The uploads one engine has open, and the switch that stops its copies and aborts them.

``on_kill`` runs in a signal handler while the task's thread is somewhere
inside a copy, perhaps inside the HTTP pool holding its locks. So throwing
the switch only sets an Event (every loop of the engine checks it) and aborts
the open uploads from a helper thread, which the handler waits for a bounded
time; the copies themselves then stop with :class:`CopyCancelled`.
"""

from __future__ import annotations

import threading

from cos_provider.client.client import CosClient
from cos_provider.client.copy.cleanup import abort_quietly
from cos_provider.client.copy.errors import CopyCancelled
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.operations import ObjectRef


class OpenUploads:
    """Thread-safe; one per engine, shared by all its concurrent copies."""

    def __init__(self, client: CosClient, logger: LoggerLike) -> None:
        self.client = client
        self.log = logger
        self.cancelled = threading.Event()
        self._lock = threading.RLock()  # re-entrant: cancel() may interrupt a holder on the same thread
        self._open: dict[str, ObjectRef] = {}

    def check(self) -> None:
        """Raise :class:`CopyCancelled` once :meth:`cancel` was called."""
        if self.cancelled.is_set():
            raise CopyCancelled("copy cancelled")

    def add(self, upload_id: str, dest: ObjectRef) -> None:
        with self._lock:
            self._open[upload_id] = dest

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._open.pop(upload_id, None)

    def is_open(self, upload_id: str) -> bool:
        """Is ``upload_id`` one of the uploads this engine's copies are using?"""
        with self._lock:
            return upload_id in self._open

    def abort(
        self, dest: ObjectRef, upload_id: str, reason: str = "", failure: BaseException | None = None
    ) -> bool:
        """Forget and abort ``upload_id``, logging why; ``True`` if it was open. Never raises.

        ``failure``: the error the copy raises next; a failed abort is noted on it.
        """
        self.forget(upload_id)
        aborted = abort_quietly(self.client, dest, upload_id, logger=self.log, failure=failure)
        if aborted:
            self.log.warning(
                "Aborted upload %s of %s%s", upload_id, dest.uri(), f": {reason}" if reason else ""
            )
        return aborted

    def cancel(self, wait_seconds: float = 15.0) -> None:
        """Stop every copy and abort its upload; safe from a signal handler (see the module docstring)."""
        self.cancelled.set()
        with self._lock:
            uploads = list(self._open.items())
        if not uploads:
            return

        def abort_all() -> None:
            for upload_id, dest in uploads:
                if abort_quietly(self.client, dest, upload_id, logger=self.log):
                    self.log.warning("Cancelled: aborted upload %s of %s", upload_id, dest.uri())

        worker = threading.Thread(target=abort_all, name="cos-copy-cancel", daemon=True)
        worker.start()
        worker.join(wait_seconds)


def reason(exc: BaseException) -> str:
    """How an abort's log line names the error that caused it."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
