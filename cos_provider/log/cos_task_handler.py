"""Task logs in COS: ``CosRemoteLogIO`` (Airflow 3's ``RemoteLogIO``) and a legacy ``CosTaskHandler``.

Airflow 3 writes a try's log to a local file; when the task ends, the task
SDK's supervisor calls :meth:`CosRemoteLogIO.upload` with the file's path
relative to ``[logging] base_log_folder``, and the API server calls
:meth:`CosRemoteLogIO.read` with the same relative path to show it. The
object is ``<remote_base_log_folder>/<relative path>``, so every try has its
own object, as with the amazon and alibaba providers.

Both run outside the task's own success or failure: a log that cannot be
uploaded (COS unreachable, credentials refused) is a warning in the
supervisor's log and the local file is kept, never an exception, because
the task's result must not depend on where its log goes.

Writes go through the client's one-PUT write (CRC64 checked) and reads
through its size-capped read, both on the hook's client, so signing,
retries and error parsing are the ones every other operation uses. They
deliberately skip the hook methods that report lineage: a log upload is
not data the DAG produced.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.utils.log.file_task_handler import FileTaskHandler

from cos_provider.client.errors import CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.uri import PREFIX, is_cos_url, parse_cos_url
from cos_provider.client.validation import validate_bool

if TYPE_CHECKING:
    from cos_provider.client.operations import ObjectRef
    from cos_provider.hooks.cos import CosHook

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "cos_default"
MAX_LOG_SIZE = 1024 * 1024 * 1024
"""Largest log object read back into memory (the UI shows it whole); a larger one is refused by name."""
CONTENT_TYPE = "text/plain; charset=utf-8"
STREAM_RANGE = 4 * 1024 * 1024
"""Bytes per ranged GET of :meth:`CosRemoteLogIO.stream`."""


def _conf() -> Any:
    from airflow.configuration import conf

    return conf


@dataclass
class CosRemoteLogIO:
    """Upload and read task logs under ``remote_base`` (``cos://bucket[/prefix]``).

    :param remote_base: ``[logging] remote_base_log_folder``.
    :param base_log_folder: ``[logging] base_log_folder``; upload paths are relative to it.
    :param delete_local_copy: remove the local file once its upload succeeded
        (``[logging] delete_local_logs``).
    :param conn_id: the ``tencent_cos`` connection (``[logging] remote_log_conn_id``).
    """

    remote_base: str
    base_log_folder: Path
    delete_local_copy: bool = False
    conn_id: str = DEFAULT_CONN_ID
    processors: tuple[Any, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not is_cos_url(self.remote_base) or not self.remote_base[len(PREFIX) :].split("/")[0]:
            raise CosValidationError(
                "remote_base_log_folder", f"must be cos://<bucket>[/<prefix>], got {self.remote_base!r}"
            )
        if not isinstance(self.base_log_folder, str | os.PathLike):
            raise CosValidationError(
                "base_log_folder", f"must be a path, got {type(self.base_log_folder).__name__}"
            )
        self.base_log_folder = Path(self.base_log_folder)
        self.delete_local_copy = validate_bool(self.delete_local_copy, "delete_local_logs")
        if not isinstance(self.conn_id, str) or not self.conn_id:
            raise CosValidationError("remote_log_conn_id", "must be a non-empty connection id")
        self.uri("probe.log")  # a folder the one cos:// parser refuses is refused now, not at an upload

    @classmethod
    def from_config(cls) -> CosRemoteLogIO:
        """Built from ``[logging]``; Airflow calls it (provider-info ``remote-logging``, tier 2).

        It does not look at ``remote_logging``: :mod:`cos_provider.log.logging_config`
        decides that, and a workaround that keeps the flag off must still work.
        """
        conf = _conf()
        return cls(
            remote_base=conf.get("logging", "remote_base_log_folder"),
            base_log_folder=Path(os.path.expanduser(conf.get("logging", "base_log_folder"))),
            delete_local_copy=conf.getboolean("logging", "delete_local_logs", fallback=False),
            conn_id=conf.get("logging", "remote_log_conn_id", fallback="") or DEFAULT_CONN_ID,
        )

    # ------------------------------------------------------------ naming

    def uri(self, relative_path: str | os.PathLike[str]) -> str:
        """``cos://bucket/prefix/<relative_path>``, checked by the one cos:// parser."""
        rel = Path(relative_path).as_posix().lstrip("/")
        value = f"{PREFIX}{self.remote_base[len(PREFIX) :].rstrip('/')}/{rel}"
        parse_cos_url(value, "remote_base_log_folder")
        return value

    def _local_and_relative(self, path: str | os.PathLike[str]) -> tuple[Path, str]:
        given = Path(path)
        if given.is_absolute():
            try:
                return given, given.relative_to(self.base_log_folder).as_posix()
            except ValueError:
                raise CosValidationError(
                    "path", f"{given} is not under base_log_folder {self.base_log_folder}"
                ) from None
        return self.base_log_folder / given, given.as_posix()

    @contextmanager
    def _hook(self) -> Iterator[CosHook]:
        """A hook per call: the supervisor exports the connection only around the upload."""
        from cos_provider.hooks.cos import CosHook

        hook = CosHook(cos_conn_id=self.conn_id)
        try:
            yield hook
        finally:
            if "conn" in hook.__dict__:
                hook.conn.close()

    # ------------------------------------------------------------ RemoteLogIO

    def upload(self, path: str | os.PathLike[str], ti: Any = None) -> None:
        """Append the local log at ``path`` to its object; never raises (a warning instead)."""
        try:
            local, relative = self._local_and_relative(path)
            if not local.is_file():
                return
            uri = self.uri(relative)
            data = local.read_bytes()
            self.write(data, uri)
        except Exception as exc:  # the task's state must not depend on where its log goes
            log.warning(
                "Task log %s was not uploaded to COS; it stays on this machine: %s: %s",
                path,
                type(exc).__name__,
                exc,
            )
            return
        if self.delete_local_copy:
            try:
                local.unlink()
            except OSError as exc:
                log.warning("Uploaded %s to %s but could not remove the local copy: %s", local, uri, exc)

    def write(self, data: bytes, uri: str) -> None:
        """Append ``data`` to the object at ``uri`` (create it if absent); raises on failure.

        COS has no append for a PUT object, so, as amazon's S3 handler does, the
        existing log is read and the whole object written again. The first
        write forbids overwriting, so two uploads racing to create the same log
        cannot silently drop one: the loser reads the winner's and appends.
        """
        from cos_provider.client.attributes import ObjectAttributes
        from cos_provider.client.copy.overwrite import is_conflict
        from cos_provider.client.upload import Uploader

        attrs = ObjectAttributes(content_type=CONTENT_TYPE)
        with self._hook() as hook:
            ref = hook.object_ref(uri, key_field="remote_base_log_folder")
            uploader = Uploader(hook.conn, logger=log)
            for attempt in range(2):
                old = self._read_ref(hook, ref)
                body = data if old is None else _joined(old, data)
                try:
                    uploader.write(body, ref, attrs, overwrite=old is not None)
                    return
                except CosServiceError as exc:
                    if attempt or not is_conflict(exc):
                        raise

    def read(self, relative_path: str, ti: Any = None) -> tuple[list[str], list[str] | None]:
        """``(uris, texts)``: the try's log, then each trigger's log of that try.

        The triggerer writes its part of a deferred try beside the try's own
        (``attempt=N.log.trigger.<job id>.log``); like amazon's S3 reader, every
        object under the try's key is shown, or the UI would lose the lines
        written while the task waited. ``([], None)``: no such log;
        ``([reason], None)``: COS failed. A failure is a source line, not an
        exception, so the UI goes on to the local file or the worker's log server.
        """
        try:
            with self._hook() as hook:
                refs = self._refs(hook, relative_path)
                texts = [self._read_ref(hook, ref) for ref in refs]
        except Exception as exc:
            log.warning("Could not read task log %s from COS: %s", relative_path, exc)
            return [f"Could not read the log from {self.remote_base}: {exc}"], None
        found = [(ref.uri(), data) for ref, data in zip(refs, texts, strict=True) if data is not None]
        if not found:
            return [], None
        return [uri for uri, _ in found], [data.decode("utf-8", errors="replace") for _, data in found]

    def stream(self, relative_path: str, ti: Any = None) -> tuple[list[str], list[Iterator[str]]]:
        """Like :meth:`read`, as lines fetched in ranged GETs (``RemoteLogStreamIO``; the API server prefers it).

        Memory is one range, whatever the log's size. Every range is pinned to
        the ETag of the HEAD, so a log appended to meanwhile is not spliced
        from two versions, and the ranges' CRC64s, combined, must equal the
        object's. A failure after the first line can only end the stream,
        so it ends with a line saying where and why.
        """
        from cos_provider.client import operations as ops

        try:
            with self._hook() as hook:
                found = []
                for ref in self._refs(hook, relative_path):
                    try:
                        found.append((ref, hook.conn.execute(ops.head_object(ref))))
                    except CosServiceError as exc:
                        if not exc.is_not_found:  # deleted between the listing and the HEAD
                            raise
        except Exception as exc:
            log.warning("Could not read task log %s from COS: %s", relative_path, exc)
            return [f"Could not read the log from {self.remote_base}: {exc}"], []
        return (
            [ref.uri() for ref, _ in found],
            [self._lines(ref, info.size, info.etag, info.crc64) for ref, info in found],
        )

    def _refs(self, hook: CosHook, relative_path: str) -> list[ObjectRef]:
        """The try's own object first, then the triggers' (``<key>.…``), from one listing."""
        ref = hook.object_ref(self.uri(relative_path), key_field="remote_base_log_folder")
        keys = {
            listed.key
            for listed in hook.client_for(ref.region).iter_objects(ref.bucket, prefix=ref.key)
            if listed.key == ref.key or listed.key.startswith(f"{ref.key}.")
        }
        ordered = sorted(keys, key=lambda key: (key != ref.key, key))
        return [dataclasses.replace(ref, key=key) for key in ordered]

    def _lines(self, ref: ObjectRef, size: int, etag: str, crc: int | None) -> Iterator[str]:
        import codecs

        from cos_provider.client import operations as ops
        from cos_provider.client.crc64 import crc64_combine

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending, position, combined = "", 0, 0
        try:
            with self._hook() as hook:
                while position < size:
                    last = min(position + STREAM_RANGE, size) - 1
                    chunks: list[bytes] = []
                    got = hook.conn.transport.execute_stream(
                        ops.get_object_stream(ref, position, last, if_match=etag),
                        chunks.append,
                        restart=chunks.clear,
                    )
                    data = b"".join(chunks)
                    if len(data) != last - position + 1:
                        raise CosIntegrityError(
                            f"{ref.uri()}: range {position}-{last} returned {len(data)} bytes"
                        )
                    combined = crc64_combine(combined, got.crc64, len(data))
                    position = last + 1
                    *lines, pending = (pending + decoder.decode(data)).split("\n")
                    yield from lines
            if crc is not None and combined != crc and size:
                raise CosIntegrityError(f"{ref.uri()}: CRC64 of the bytes read differs from the object's")
        except Exception as exc:
            log.warning("Reading task log %s from COS stopped at byte %d: %s", ref.uri(), position, exc)
            if pending:
                yield pending
            yield f"[cos-provider] the rest of this log could not be read from COS (at byte {position}): {exc}"
            return
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending

    @staticmethod
    def _read_ref(hook: CosHook, ref: ObjectRef) -> bytes | None:
        from cos_provider.client.download import read_object

        try:
            return read_object(hook.conn, ref, max_size=MAX_LOG_SIZE)
        except CosServiceError as exc:
            if exc.is_not_found:
                return None
            raise


def _joined(old: bytes, new: bytes) -> bytes:
    if not old or old.endswith(b"\n"):
        return old + new
    return old + b"\n" + new


class CosTaskHandler(FileTaskHandler):
    """A ``FileTaskHandler`` that reads finished tries from COS (provider-info ``logging``).

    Airflow 3 does not need it: the task SDK uploads through
    ``REMOTE_TASK_LOG`` and the stock ``FileTaskHandler`` reads through it. It
    is for a logging dict that names a provider handler for the ``task``
    logger, as older configurations of the amazon and alibaba providers do.
    """

    def __init__(self, base_log_folder: str, cos_log_folder: str, **kwargs: Any) -> None:
        conn_id = kwargs.pop("conn_id", None)
        delete_local_copy = kwargs.pop("delete_local_copy", None)
        super().__init__(base_log_folder, **kwargs)
        conf = _conf()
        self.io = CosRemoteLogIO(
            remote_base=cos_log_folder,
            base_log_folder=Path(base_log_folder),
            delete_local_copy=(
                conf.getboolean("logging", "delete_local_logs", fallback=False)
                if delete_local_copy is None
                else delete_local_copy
            ),
            conn_id=conn_id or conf.get("logging", "remote_log_conn_id", fallback="") or DEFAULT_CONN_ID,
        )

    def _read_remote_logs(
        self, ti: Any, try_number: int, metadata: Any = None
    ) -> tuple[list[str], list[str]]:
        sources, logs = self.io.read(self._render_filename(ti, try_number), ti)
        return sources, logs or []


__all__ = ["CosRemoteLogIO", "CosTaskHandler"]
