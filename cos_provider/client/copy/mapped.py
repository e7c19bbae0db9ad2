"""The multipart copy cut into steps that run in different processes.

The mapped Airflow pattern plans in one task, copies batches of parts in
many (each may be retried on another worker), and completes in one more; the
:class:`~cos_provider.client.copy.MultipartSession` travels between them as
JSON. A retried batch must not copy again what its killed try already
copied, so each batch starts by listing the parts already in the upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cos_provider.client.copy import CopyEngine, CopyOptions, CopyOutcome, MultipartSession
from cos_provider.client.copy.plan import Batch
from cos_provider.client.operations import ObjectRef


def start_for_batches(
    engine: CopyEngine, source: ObjectRef, dest: ObjectRef, options: CopyOptions, batches: int
) -> tuple[MultipartSession, list[Batch]]:
    """Resume or initiate the upload, and cut its plan into at most ``batches`` runs of parts."""
    engine.validate(source, dest, options)
    session = engine.start_multipart(source, dest, options)
    planned = session.plan.batches(batches)
    engine.log.info(
        "Planned %d parts of %d bytes in %d batches for upload %s (%d parts already copied)",
        session.plan.part_count,
        session.part_size,
        len(planned),
        session.upload_id,
        len(session.resumed_parts),
    )
    return session, planned


def copy_batch(
    engine: CopyEngine,
    session: MultipartSession,
    numbers: Iterable[int],
    *,
    concurrency: int,
    progress_interval: float = 10.0,
    label: str | None = None,
) -> dict[int, tuple[str, int | None]]:
    """``{part: (etag, crc64 or None)}`` for ``numbers``; a failure leaves the upload open for a retry."""
    wanted = list(numbers)
    existing = engine.existing_parts(session, wanted)
    if existing:
        engine.log.info(
            "%d of the batch's %d parts were copied by an earlier try", len(existing), len(wanted)
        )
    results = engine.copy_parts(
        session,
        [n for n in wanted if n not in existing],
        concurrency,
        progress_interval=progress_interval,
        abort_on_failure=False,
        label=label,
        reused_parts=len(existing),
        reused_bytes=sum(p.size for p in existing.values()),
    )
    return {
        n: (results[n].etag, results[n].crc64) if n in results else (existing[n].etag, None) for n in wanted
    }


def complete(
    engine: CopyEngine, session: MultipartSession, parts: Mapping[int, tuple[str, int | None]]
) -> CopyOutcome:
    """Complete (after the combined-CRC64 check) and verify the result against the source."""
    outcome = engine.finish_multipart(session, parts, parts_copied=len(parts))
    engine.log.info(
        "Completed %s: %d bytes in %d parts, CRC64 %s verified",
        outcome.dest_uri,
        outcome.size,
        outcome.part_count,
        outcome.crc64,
    )
    return outcome
