"""Delete a prefix, a glob or a list of keys: :meth:`CosHook.delete_objects
<cos_provider.hooks.cos.CosHook.delete_objects>` as a task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client.delete import DeleteResult
from cos_provider.client.errors import CosError
from cos_provider.operators.base import CosBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

XCOM_KEYS_CAP = 1000
"""At most this many deleted keys (and errors) go into the XCom; the counts are always exact."""


class CosDeleteFailed(CosError):
    """Some keys were not deleted (and ``continue_on_failure`` is False)."""


class CosDeleteObjectsOperator(CosBaseOperator):
    """Delete every object under a prefix, matching a glob, or in a list of keys.

    Exactly one of ``prefix`` (not empty: a whole bucket is refused),
    ``match_glob`` (``*``/``?`` within a path segment, ``**`` across segments)
    or ``keys`` selects the objects. They are deleted in batches of at most
    1,000 keys per Delete Multiple Objects request, ``concurrency`` requests
    at a time.

    :param dry_run: Only list what would be deleted.
    :param versions: Delete every version and delete marker of each selected
        key (a versioned bucket), so nothing of them is left.
    :param continue_on_failure: Succeed even if COS refused some keys (they are
        in the ``errors`` of the XCom). Otherwise any refused key fails the
        task, after the XCom is pushed.

    Returns ``{"bucket", "dry_run", "deleted_count", "deleted_keys" (the first
    1,000), "keys_truncated", "error_count", "errors" (the first 1,000, each
    ``{"key", "code", "message", "version_id"}``), "requests", "versions_deleted"}``.
    """

    template_fields: Sequence[str] = ("bucket", "prefix", "match_glob", "keys", "cos_conn_id", "region")
    template_fields_renderers = {"keys": "json"}

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str | None = None,
        match_glob: str | None = None,
        keys: Sequence[str] | None = None,
        dry_run: bool = False,
        versions: bool = False,
        continue_on_failure: bool = False,
        concurrency: int = 4,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.prefix = prefix
        self.match_glob = match_glob
        self.keys = keys
        # Stored under another name: ``BaseOperator.dry_run()`` is a method.
        self.list_only = dry_run
        self.versions = versions
        self.continue_on_failure = continue_on_failure
        self.concurrency = concurrency

    @property
    def pool_size(self) -> int | None:
        return self.concurrency + 2 if isinstance(self.concurrency, int) else None

    def execute(self, context: Context) -> dict[str, Any]:
        result = self.hook.delete_objects(
            self.bucket,
            keys=self.keys,
            prefix=self.prefix,
            match_glob=self.match_glob,
            dry_run=self.list_only,
            versions=self.versions,
            concurrency=self.concurrency,
        )
        summary = summarise(result)
        verb = "would delete" if result.dry_run else "deleted"
        self.log.info(
            "%s %d object(s) in %s; %d error(s)", verb, result.count, result.bucket, len(result.errors)
        )
        for error in result.errors[:20]:
            self.log.warning("not deleted: %s: %s %s", error.key, error.code, error.message)
        if result.errors and not self.continue_on_failure:
            context["ti"].xcom_push(key="return_value", value=summary)
            first = result.errors[0]
            raise CosDeleteFailed(
                f"{len(result.errors)} key(s) not deleted from {result.bucket}, "
                f"first {first.key!r}: {first.code} (set continue_on_failure=True to succeed anyway)"
            )
        return summary


def summarise(result: DeleteResult) -> dict[str, Any]:
    return {
        "bucket": result.bucket,
        "dry_run": result.dry_run,
        "deleted_count": result.count,
        "deleted_keys": result.deleted[:XCOM_KEYS_CAP],
        "keys_truncated": result.count > XCOM_KEYS_CAP,
        "error_count": len(result.errors),
        "errors": [e.to_dict() for e in result.errors[:XCOM_KEYS_CAP]],
        "requests": result.requests,
        "versions_deleted": result.versions_deleted,
    }
