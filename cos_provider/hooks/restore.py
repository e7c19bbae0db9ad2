"""The hook's archive-restore methods: start restores, read where they stand.

Restoring is idempotent here: a restore already running is left alone (COS
would answer 409 ``RestoreAlreadyInProgress``; that answer, should a race
bring it, counts as running too), and an object already restored is
restored again, which extends its readable copy to ``days`` from now. Objects
that are not archived need no restore and are reported as such. Nothing of
this fails a task; only COS refusing a request does.

Every parameter is checked before the first request, and the DEEP_ARCHIVE
rule (no Expedited tier) is checked on every object's HEAD before the first
POST, so a refused selection starts no restore at all.
"""

from __future__ import annotations

from typing import Any

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy.plan import validate_concurrency
from cos_provider.client.copy.window import run_window
from cos_provider.client.errors import CosServiceError
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.restore import (
    IN_PROGRESS,
    NOT_ARCHIVED,
    RestoreState,
    check_tier_for,
    is_archived,
    require_readable,
    restore_object,
    restore_state,
    validate_days,
    validate_tier,
)
from cos_provider.client.selection import Selection
from cos_provider.hooks.base import CosBaseHook
from cos_provider.hooks.lineage import report_lineage

DEFAULT_RESTORE_CONCURRENCY = 8
"""POSTs in flight; COS limits POST Object restore to 100 QPS (doc 436/12633)."""


def _in_order(work: Any, items: list[Any], concurrency: int) -> list[Any]:
    """``work(item)`` for each item through the bounded window, results in the items' order."""
    out: dict[int, Any] = {}
    run_window(
        lambda pair: work(pair[1]),
        list(enumerate(items)),
        concurrency=max(1, min(concurrency, len(items) or 1)),
        on_result=lambda pair, result: out.__setitem__(pair[0], result),
        thread_name="cos-restore",
    )
    return [out[i] for i in range(len(items))]


class CosRestoreMethods(CosBaseHook):
    """POST Object restore for one key, a list, a prefix or a glob; the restore state from HEAD."""

    def get_restore_state(
        self, key: str, bucket: str | None = None, *, version_id: str | None = None, region: str | None = None
    ) -> RestoreState:
        """Where ``key`` (or ``cos://bucket/key``) stands: not archived, not requested, in progress or restored."""
        ref = self.object_ref(key, bucket, version_id=version_id, region=region)
        return restore_state(self.client_for(region).execute(ops.head_object(ref)))

    def require_restored(
        self, uris: Any, action: str = "copy", *, region: str | None = None, concurrency: int = 8
    ) -> None:
        """Raise :class:`~cos_provider.client.restore.ArchivedObjectError` unless every
        ``cos://`` URI in ``uris`` is readable (restored, or not archived): HEADs only.

        Bulk operations call it on the archived entries of their listing before
        their first write, so none of the batch is half done for an archive.
        """
        refs = [self.object_ref(uri, region=region) for uri in uris]
        client = self.client_for(region)
        for info in _in_order(lambda r: client.execute(ops.head_object(r)), refs, concurrency):
            require_readable(info, action)

    def restore_object(
        self,
        key: str,
        bucket: str | None = None,
        *,
        days: int = 1,
        tier: str = "Standard",
        version_id: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Restore one object for ``days`` with ``tier``; returns its record (see :meth:`restore_objects`)."""
        days, tier = validate_days(days), validate_tier(tier)
        ref = self.object_ref(key, bucket, version_id=version_id, region=region)
        (record,) = self._restore(self.client_for(region), [ref], days, tier, 1)
        return record

    def restore_objects(
        self,
        bucket: str,
        *,
        keys: Any = None,
        prefix: str | None = None,
        match_glob: str | None = None,
        days: int = 1,
        tier: str = "Standard",
        region: str | None = None,
        concurrency: int = DEFAULT_RESTORE_CONCURRENCY,
    ) -> list[dict[str, Any]]:
        """Restore the objects named by exactly one of ``keys``, ``prefix`` or ``match_glob``.

        One record per object: ``bucket, key, uri, version_id, storage_class,
        status`` (``not_archived``, ``in_progress`` or ``restored``),
        ``expiry_date`` (ISO 8601, once restored) and ``requested`` (whether
        this call sent a POST that COS accepted).
        """
        days, tier = validate_days(days), validate_tier(tier)
        selection = Selection.of(prefix=prefix, match_glob=match_glob, keys=keys)
        validate_concurrency(concurrency)
        full = self.bucket(bucket)
        client = self.client_for(region)
        if selection.mode == "keys":
            refs = [ObjectRef(full, k, None, region) for k in selection.keys]
            listed_plain: dict[str, str] = {}
        else:
            listed = list(selection.filter(client.iter_objects(full, prefix=selection.prefix)))
            refs = [ObjectRef(full, o.key, None, region) for o in listed]
            # A listing names the class: objects that are not archived need no HEAD.
            listed_plain = {
                o.key: (o.storage_class or "STANDARD").upper()
                for o in listed
                if not is_archived(o.storage_class)
            }
        return self._restore(client, refs, days, tier, concurrency, listed_plain)

    def _restore(
        self,
        client: CosClient,
        refs: list[ObjectRef],
        days: int,
        tier: str,
        concurrency: int,
        listed_plain: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        plain = listed_plain or {}
        to_head = [r for r in refs if r.key not in plain]
        heads: dict[str, ObjectInfo] = dict(
            zip(
                (r.key for r in to_head),
                _in_order(lambda r: client.execute(ops.head_object(r)), to_head, concurrency),
                strict=True,
            )
        )
        states = {key: restore_state(info) for key, info in heads.items()}
        for state in states.values():
            if state.status != NOT_ARCHIVED:
                check_tier_for(state.storage_class, tier, state.uri)
        wanted = [r for r in to_head if states[r.key].status not in (NOT_ARCHIVED, IN_PROGRESS)]
        posted = dict(
            zip(
                (r.key for r in wanted),
                _in_order(lambda r: self._post(client, r, days, tier), wanted, concurrency),
                strict=True,
            )
        )
        records = []
        for ref in refs:
            if ref.key in plain:
                state = RestoreState(ref.bucket, ref.key, None, plain[ref.key], NOT_ARCHIVED)
                records.append(state.to_dict(requested=False))
                continue
            state, accepted = posted.get(ref.key) or (states[ref.key], False)
            records.append(state.to_dict(requested=accepted))
        started = sum(1 for r in records if r["requested"])
        self.log.info(
            "Restore (%s, %d day(s)): %d object(s), %d requested, %d already running, %d not archived",
            tier,
            days,
            len(records),
            started,
            sum(1 for r in records if r["status"] == IN_PROGRESS and not r["requested"]),
            sum(1 for r in records if r["status"] == NOT_ARCHIVED),
        )
        report_lineage(self, inputs=[r for r in refs if r.key not in plain])
        return records

    def _post(self, client: CosClient, ref: ObjectRef, days: int, tier: str) -> tuple[RestoreState, bool]:
        """POST, then HEAD for the state it left (running, or restored with its new expiry).

        The flag says whether COS accepted this POST: a 409 ``RestoreAlreadyInProgress``
        (another restore won a race) is not an error, but not ours either.
        """
        try:
            client.execute(restore_object(ref, days, tier))
            accepted = True
        except CosServiceError as exc:
            if exc.code != "RestoreAlreadyInProgress":
                raise
            accepted = False
        return restore_state(client.execute(ops.head_object(ref))), accepted


__all__ = ["DEFAULT_RESTORE_CONCURRENCY", "CosRestoreMethods"]
