"""One huge copy spread over many workers (Celery, Kubernetes): a mapped pattern.

1. :class:`CosInitiateMultipartCopyOperator` HEADs the source, plans the
   parts, resumes or initiates the upload, and returns the list of batches
   (consecutive part numbers; at most ``max_mapped_tasks``, never more than
   Airflow's ``[core] max_map_length``). The session - upload id, pinned
   source ETag, part size - goes to the ``session`` XCom.
2. :class:`CosCopyPartsOperator`, used as ``.partial(session=...).expand(batch=...)``:
   each mapped task copies its batch on its own thread pool, skipping parts a
   previous try already copied, and returns ``[[part, etag, crc64], ...]``.
3. :class:`CosCompleteMultipartCopyOperator` gathers every mapped result,
   completes (after checking the combined CRC64 of the parts) and verifies
   size and CRC64 against the source.
4. :class:`CosAbortMultipartCopyOperator`, a teardown: aborts the upload if it
   is still open, i.e. when any step failed (after a successful Complete the
   upload no longer exists and it does nothing).

:func:`cos_multipart_copy_group` builds the four as one task group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import TaskGroup, XComArg

from cos_provider.client.copy import MultipartSession
from cos_provider.client.copy.plan import MAX_MAPPED_BATCHES
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.client.params import COPY_PARAMS, SECRET_PARAMS, as_session
from cos_provider.links.cos import CosConsoleLink, CosConsoleLinkMixin
from cos_provider.operators.base import (
    OBJECT_PARAMS,
    OBJECT_TEMPLATE_FIELDS,
    POOL_MARGIN,
    CosBaseOperator,
    openlineage_facets,
)
from cos_provider.operators.restore import RestoreFirstMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_MAPPED_TASKS = 16
DEFAULT_TASK_CONCURRENCY = 8


def max_map_length() -> int:
    try:
        from airflow.providers.common.compat.sdk import conf

        return int(conf.getint("core", "max_map_length", fallback=MAX_MAPPED_BATCHES))
    except Exception:  # pragma: no cover - config unavailable
        return MAX_MAPPED_BATCHES


MAPPED_KEYS_RULE = (
    "the mapped multipart copy takes SSE-C keys from the connection (extras sse_customer_key / "
    "source_sse_customer_key): a parameter of a mapped task is stored in the serialized DAG"
)


def refuse_secret_parameters(sse_customer_key: Any, source_sse_customer_key: Any) -> None:
    """Refuse SSE-C keys given as parameters of the mapped steps, without echoing them.

    They are named parameters (not left to ``**kwargs``) because Airflow's
    "invalid arguments" error would print their values.
    """
    for name, value in (
        ("sse_customer_key", sse_customer_key),
        ("source_sse_customer_key", source_sse_customer_key),
    ):
        if value is not None:
            raise CosValidationError(name, MAPPED_KEYS_RULE)


class CosInitiateMultipartCopyOperator(RestoreFirstMixin, CosConsoleLinkMixin, CosBaseOperator):
    """Step 1 of the mapped multipart copy: plan, then resume or initiate.

    Takes the source, destination and copy parameters of
    :class:`~cos_provider.operators.copy.CosCopyObjectOperator` (except
    ``move``; the threshold does not apply: this always copies in parts).
    SSE-C keys come from the connection's ``sse_customer_key`` /
    ``source_sse_customer_key`` extras only: the part-copy tasks need them
    too, and a parameter of a mapped task is stored in the serialized DAG.
    The session XCom records the keys' MD5s (never the keys), so a part
    task with another key fails before sending anything.

    :param max_mapped_tasks: How many mapped part-copy tasks to plan for
        (capped by ``[core] max_map_length``, 1024 by default).
    :param part_concurrency: Parallel part copies inside each mapped task;
        with ``max_mapped_tasks`` it sets the total concurrency the automatic
        part size is planned for.
    :param restore_first: Restore an archived source first, deferring until it is readable
        (``restore_days``, ``restore_tier``, ``restore_poke_interval``).

    Returns the list of batches (``{"index", "first_part", "last_part"}``) to
    expand over, and pushes the session to the ``session`` XCom.
    """

    console_link_fields = (("dest_bucket_key",), ("dest_bucket_name", "source_bucket_name"), "dest_region")
    template_fields: Sequence[str] = OBJECT_TEMPLATE_FIELDS
    template_fields_renderers = {"metadata": "json"}

    def __init__(
        self,
        *,
        source_bucket_key: str,
        dest_bucket_key: str,
        source_bucket_name: str | None = None,
        dest_bucket_name: str | None = None,
        source_version_id: str | None = None,
        source_region: str | None = None,
        dest_region: str | None = None,
        metadata_directive: str = "Copy",
        tagging_directive: str | None = None,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        storage_class: str | None = None,
        acl: str | None = None,
        grant_read: str | None = None,
        grant_write: str | None = None,
        grant_read_acp: str | None = None,
        grant_write_acp: str | None = None,
        grant_full_control: str | None = None,
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
        kms_context: dict[str, str] | str | None = None,
        tagging: dict[str, str] | str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: Any = None,
        copy_source_if_unmodified_since: Any = None,
        part_size: int | None = None,
        max_mapped_tasks: int = DEFAULT_MAPPED_TASKS,
        part_concurrency: int = DEFAULT_TASK_CONCURRENCY,
        resume: bool = True,
        overwrite: bool = True,
        sse_customer_key: Any = None,
        source_sse_customer_key: Any = None,
        **kwargs: Any,
    ) -> None:
        refuse_secret_parameters(sse_customer_key, source_sse_customer_key)
        super().__init__(**kwargs)
        self.keep(locals(), (*OBJECT_PARAMS, *COPY_PARAMS))
        self.max_mapped_tasks = max_mapped_tasks
        self.part_concurrency = part_concurrency

    @property
    def pool_size(self) -> int:
        return POOL_MARGIN

    def _batches_wanted(self) -> int:
        limit = max_map_length()
        value = self.max_mapped_tasks
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise CosValidationError(
                "max_mapped_tasks", f"must be from 1 to {limit} ([core] max_map_length), got {value!r}"
            )
        return value

    def execute(self, context: Context) -> list[dict[str, int]]:
        self.persist_console_link(context)
        self.restore_sources_first(context)
        start = self.hook.start_multipart_copy(
            **self.values(OBJECT_PARAMS),
            batches=self._batches_wanted(),
            part_concurrency=self.part_concurrency,
            logger=self.log,
            **self.copy_params(),
        )
        context["ti"].xcom_push(key="session", value=start.session.to_dict(include_parts=False))
        return [b.to_dict() for b in start.batches]


class CosCopyPartsOperator(CosBaseOperator):
    """Step 2: copy one batch of parts (``.partial(session=...).expand(batch=...)``).

    Parts already in the upload with the planned size (copied by an earlier
    try; all parts are pinned to the session's source ETag) are not copied
    again. A failure does not abort the upload - a retry of this task can
    still succeed; the teardown aborts if the copy as a whole fails.

    Returns ``[[part_number, etag, crc64 or None], ...]`` for the batch.
    """

    template_fields: Sequence[str] = ("session", "batch", "cos_conn_id")

    def __init__(
        self,
        *,
        session: Any,
        batch: Any,
        concurrency: int = DEFAULT_TASK_CONCURRENCY,
        progress_interval: float = 10.0,
        sse_customer_key: Any = None,
        source_sse_customer_key: Any = None,
        **kwargs: Any,
    ) -> None:
        refuse_secret_parameters(sse_customer_key, source_sse_customer_key)
        super().__init__(**kwargs)
        self.session = session
        self.batch = batch
        self.concurrency = concurrency
        self.progress_interval = progress_interval

    def _numbers(self, session: MultipartSession) -> list[int]:
        batch = self.batch
        if not isinstance(batch, Mapping) or not {"first_part", "last_part"} <= set(batch):
            raise CosValidationError("batch", "must be one item of the initiate task's return value")
        first, last = batch["first_part"], batch["last_part"]
        count = session.plan.part_count
        if not (isinstance(first, int) and isinstance(last, int) and 1 <= first <= last <= count):
            raise CosValidationError("batch", f"parts {first!r}..{last!r} are not within 1..{count}")
        return list(range(first, last + 1))

    def execute(self, context: Context) -> list[list[Any]]:
        session = as_session(self.session)
        numbers = self._numbers(session)
        results = self.hook.copy_parts(
            session,
            numbers,
            concurrency=self.concurrency,
            progress_interval=self.progress_interval,
            label=f"Batch {self.batch.get('index', '?')} (parts {numbers[0]}-{numbers[-1]})",
            logger=self.log,
        )
        return [[n, etag, crc] for n, (etag, crc) in results.items()]


def by_length(items: Iterable[Any]) -> Iterable[Any]:
    """Index a sequence up to its length instead of iterating it.

    Airflow's lazy list of mapped results is iterated by fetching offset 0, 1,
    ... until the API answers 404, which the task SDK logs as
    ``[error] XCom not found`` on every successful run. Its ``len()`` is one
    query, so reading by index never asks past the end.
    """
    try:
        count = len(items)  # type: ignore[arg-type]
    except TypeError:
        return items
    return (items[i] for i in range(count))  # type: ignore[index]


class CosCompleteMultipartCopyOperator(CosConsoleLinkMixin, CosBaseOperator):
    """Step 3: gather the mapped results, complete, verify size and CRC64.

    ``parts`` is the part-copy task's output (a list per mapped task). With
    ``move=True`` the source is deleted after verification. Returns the same
    dict as :class:`~cos_provider.operators.copy.CosCopyObjectOperator`.
    """

    template_fields: Sequence[str] = ("session", "parts", "cos_conn_id")

    def __init__(
        self,
        *,
        session: Any,
        parts: Any,
        move: bool = False,
        sse_customer_key: Any = None,
        source_sse_customer_key: Any = None,
        **kwargs: Any,
    ) -> None:
        refuse_secret_parameters(sse_customer_key, source_sse_customer_key)
        super().__init__(**kwargs)
        self.session = session
        self.parts = parts
        self.move = move
        self._refs: tuple[ObjectRef, ObjectRef] | None = None

    @staticmethod
    def gather(batches: Iterable[Any]) -> dict[int, tuple[str, int | None]]:
        parts: dict[int, tuple[str, int | None]] = {}
        for batch in by_length(batches):
            if batch is None:
                continue
            for item in batch:
                number, etag, crc = item
                parts[int(number)] = (str(etag), None if crc is None else int(crc))
        return parts

    def execute(self, context: Context) -> dict[str, Any]:
        session = as_session(self.session)
        CosConsoleLink.persist(
            context, self.hook, session.dest.key, session.dest.bucket, region=session.dest.region
        )
        try:
            parts = self.gather(self.parts)
        except (TypeError, ValueError) as exc:
            raise CosValidationError("parts", f"must be the part-copy task's output: {exc}") from None
        outcome = self.hook.complete_multipart_copy(session, parts, move=self.move, logger=self.log)
        self._refs = (session.source, session.dest)
        return outcome.to_dict()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self._refs is None:
            return None
        return openlineage_facets([self._refs[0]], [self._refs[1]])


class CosAbortMultipartCopyOperator(CosBaseOperator):
    """Step 4 (a teardown): abort the upload if it is still open."""

    template_fields: Sequence[str] = ("session", "cos_conn_id")
    ui_color = "#f5b7b1"

    def __init__(self, *, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session

    def execute(self, context: Context) -> bool:
        if self.session is None:
            self.log.info("No upload was initiated; nothing to abort")
            return False
        session = as_session(self.session)
        aborted = self.hook.abort_multipart_copy(
            session, "the mapped multipart copy did not complete", logger=self.log
        )
        if not aborted:
            self.log.info("Upload %s is not open (completed or already aborted)", session.upload_id)
        return aborted


def cos_multipart_copy_group(
    group_id: str = "cos_multipart_copy",
    *,
    source_bucket_key: str,
    dest_bucket_key: str,
    max_mapped_tasks: int = DEFAULT_MAPPED_TASKS,
    part_concurrency: int = DEFAULT_TASK_CONCURRENCY,
    move: bool = False,
    cos_conn_id: str = "cos_default",
    part_retries: int | None = None,
    **copy_params: Any,
) -> TaskGroup:
    """The whole mapped multipart copy as one task group.

    ``copy_params`` are the parameters of
    :class:`CosInitiateMultipartCopyOperator` (buckets, version, regions,
    directive, metadata, headers, conditions, ``part_size``...). Tasks:
    ``initiate`` >> ``copy_parts`` (mapped) >> ``complete``, and ``abort`` as
    the teardown of ``initiate``.
    """
    secrets = sorted(set(copy_params) & set(SECRET_PARAMS))
    if secrets:
        raise CosValidationError(secrets[0], MAPPED_KEYS_RULE)
    with TaskGroup(group_id) as group:
        initiate = CosInitiateMultipartCopyOperator(
            task_id="initiate",
            source_bucket_key=source_bucket_key,
            dest_bucket_key=dest_bucket_key,
            max_mapped_tasks=max_mapped_tasks,
            part_concurrency=part_concurrency,
            cos_conn_id=cos_conn_id,
            **copy_params,
        )
        session = XComArg(initiate, key="session")
        extra = {"retries": part_retries} if part_retries is not None else {}
        parts = CosCopyPartsOperator.partial(
            task_id="copy_parts",
            session=session,
            concurrency=part_concurrency,
            cos_conn_id=cos_conn_id,
            **extra,
        ).expand(batch=initiate.output)
        complete = CosCompleteMultipartCopyOperator(
            task_id="complete", session=session, parts=parts.output, move=move, cos_conn_id=cos_conn_id
        )
        abort = CosAbortMultipartCopyOperator(task_id="abort", session=session, cos_conn_id=cos_conn_id)
        initiate >> parts >> complete >> abort.as_teardown(setups=initiate)
    return group


__all__ = [
    "CosAbortMultipartCopyOperator",
    "CosCompleteMultipartCopyOperator",
    "CosCopyPartsOperator",
    "CosInitiateMultipartCopyOperator",
    "cos_multipart_copy_group",
]
