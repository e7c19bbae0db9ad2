"""The parts of an upload: copying them through the window, and reading back those already there.

Two readers need to know which parts of an open upload can be kept: a
resumed copy (:mod:`resume`) and a retried mapped part-copy task. Both keep
exactly the parts :func:`planned_parts` returns: a number within the plan
(so never the resume witness, part 10,000, which no plan that has a witness
reaches) with the planned size for that number. Every part the engine copies
is pinned to the session's source ETag, so such a part holds the planned bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from cos_provider.client.client import CosClient
from cos_provider.client.copy.cancel import OpenUploads, reason
from cos_provider.client.copy.cleanup import abort_quietly
from cos_provider.client.copy.errors import restate
from cos_provider.client.copy.models import CopiedPart, MultipartSession
from cos_provider.client.copy.plan import CopyPlan, PartRange, validate_concurrency
from cos_provider.client.copy.progress import LoggerLike, ProgressReporter
from cos_provider.client.copy.window import run_window
from cos_provider.client.models import PartCopyResult
from cos_provider.client.operations import ObjectRef


def planned_parts(
    client: CosClient, dest: ObjectRef, upload_id: str, plan: CopyPlan, numbers: Iterable[int] | None = None
) -> dict[int, CopiedPart]:
    """ListParts of ``upload_id``, keeping the parts that fit ``plan`` (see the module docstring).

    ``numbers`` narrows the answer to those part numbers (a batch).
    """
    wanted = set(numbers) if numbers is not None else None
    out: dict[int, CopiedPart] = {}
    for part in client.iter_parts(dest, upload_id):
        n = part.part_number
        if wanted is not None and n not in wanted:
            continue
        if 1 <= n <= plan.part_count and part.size == plan.part(n).size and part.etag:
            out[n] = CopiedPart(n, part.etag, None, part.size)
    return out


def copy_parts(
    client: CosClient,
    uploads: OpenUploads,
    session: MultipartSession,
    numbers: Iterable[int],
    concurrency: int,
    *,
    log: LoggerLike,
    progress_interval: float = 10.0,
    abort_on_failure: bool = True,
    label: str | None = None,
    total_parts: int | None = None,
    reused_parts: int = 0,
    reused_bytes: int = 0,
) -> dict[int, PartCopyResult]:
    """Copy the given parts through the window; the first failure stops the rest.

    The error names the part, its range and the upload. With
    ``abort_on_failure`` the upload is aborted at once, so COS stops
    accepting the parts in flight, and once more after they drain, in case
    one landed in between.
    """
    validate_concurrency(concurrency)
    plan = session.plan
    todo = [plan.part(n) for n in numbers]
    results: dict[int, PartCopyResult] = {}
    if not todo:
        return results
    if total_parts is None:  # a batch: progress of these parts only
        total_parts, total_bytes = len(todo) + reused_parts, sum(p.size for p in todo) + reused_bytes
    else:
        total_bytes = session.source_size
    progress = ProgressReporter(
        total_parts,
        total_bytes,
        label=label or f"Copy to {session.dest.uri()}",
        log=log,
        interval=progress_interval,
        reused_parts=reused_parts,
        reused_bytes=reused_bytes,
    )

    def copy(part: PartRange) -> PartCopyResult:
        return client.upload_part_copy(
            session.source,
            session.dest,
            session.upload_id,
            part.number,
            part.first,
            part.last,
            session.conditions,
            session.keys,
        )

    def done(part: PartRange, result: PartCopyResult) -> None:
        results[part.number] = result
        progress.add(part.size)

    def failed(part: PartRange, exc: BaseException) -> None:
        raise restate(exc, "UploadPartCopy", part, session.upload_id) from exc

    def tick() -> float:
        progress.maybe_report()
        return progress.seconds_to_next()

    def stop(exc: BaseException) -> None:
        if abort_on_failure:
            uploads.abort(session.dest, session.upload_id, reason(exc), failure=exc)

    try:
        run_window(
            copy,
            todo,
            concurrency=concurrency,
            on_result=done,
            on_error=failed,
            on_stop=stop,
            cancel=uploads.cancelled,
            tick=tick,
        )
    except BaseException as exc:
        if abort_on_failure:
            abort_quietly(client, session.dest, session.upload_id, logger=log, failure=exc)
        raise
    progress.finish()
    return results
