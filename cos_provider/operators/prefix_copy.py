"""Copy a whole prefix, a glob or a list of keys: :meth:`CosHook.copy_prefix
<cos_provider.hooks.cos.CosHook.copy_prefix>` as a task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client import limits
from cos_provider.client.params import COPY_PARAMS
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.operators.base import COPY_TEMPLATE_FIELDS, CosBaseOperator, openlineage_facets
from cos_provider.operators.restore import RestoreFirstMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from cos_provider.client.operations import ObjectRef

PARAMS = (
    "source_bucket",
    "dest_bucket",
    "prefix",
    "match_glob",
    "keys",
    "dest_prefix",
    "source_region",
    "dest_region",
    "replace",
    "continue_on_failure",
)


class CosCopyPrefixOperator(RestoreFirstMixin, CosConsoleLinkMixin, CosBaseOperator):
    """Copy every object under a prefix, matching a glob, or in a list of keys.

    Exactly one of ``prefix``, ``match_glob`` (``*``/``?`` within a path
    segment, ``**`` across segments) or ``keys`` selects the sources. Each
    destination key is ``dest_prefix`` + the source key minus the source
    prefix (the glob's literal prefix; nothing for ``keys``); without
    ``dest_prefix`` keys stay the same. Objects are copied ``concurrency`` at
    a time, each through the same engine as :class:`CosCopyObjectOperator`
    (big ones in parts, ``part_concurrency`` at a time).

    :param replace: If False, skip a destination that already matches its
        source: same size and same ETag, or same size and same CRC64.
    :param continue_on_failure: Keep copying after a failure; failures are
        logged and pushed as the ``failures`` XCom, and the task succeeds.
        Otherwise the first failure stops the copy and fails the task.
    :param overwrite: ``False``: never replace an existing destination (COS refuses each such
        copy with ``FileAlreadyExists``, a failure of that object).
    :param restore_first: Restore the archived sources first, deferring until they are readable
        (``restore_days``, ``restore_tier``, ``restore_poke_interval``).

    The attribute, tagging, encryption and SSE-C parameters are those of
    :class:`~cos_provider.operators.object_copy.CosCopyObjectOperator`,
    applied to every object.

    Returns the destination URIs (``cos://bucket/key``) of copied and skipped objects.
    """

    console_link_fields = (
        ("dest_prefix", "prefix", "match_glob"),
        ("dest_bucket", "source_bucket"),
        "dest_region",
    )
    template_fields: Sequence[str] = (
        "source_bucket",
        "dest_bucket",
        "prefix",
        "match_glob",
        "keys",
        "dest_prefix",
        "source_region",
        "dest_region",
        *COPY_TEMPLATE_FIELDS,
    )
    template_fields_renderers = {"metadata": "json", "keys": "json"}

    def __init__(
        self,
        *,
        source_bucket: str,
        dest_bucket: str | None = None,
        prefix: str | None = None,
        match_glob: str | None = None,
        keys: Sequence[str] | None = None,
        dest_prefix: str | None = None,
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
        sse_customer_key: str | None = None,
        source_sse_customer_key: str | None = None,
        tagging: dict[str, str] | str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: Any = None,
        copy_source_if_unmodified_since: Any = None,
        replace: bool = True,
        continue_on_failure: bool = False,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = 16,
        part_concurrency: int = 8,
        resume: bool = True,
        overwrite: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep(locals(), (*PARAMS, *COPY_PARAMS))
        self.keep_secrets(locals())
        self.multipart_threshold = multipart_threshold
        self.concurrency = concurrency
        self.part_concurrency = part_concurrency
        self._copied: Sequence[tuple[ObjectRef, ObjectRef]] = ()

    @property
    def pool_size(self) -> int:
        return self.concurrency + self.part_concurrency

    def execute(self, context: Context) -> list[str]:
        self.persist_console_link(context)
        self.restore_sources_first(context)
        result = self.hook.copy_prefix(
            **self.values(PARAMS),
            multipart_threshold=self.multipart_threshold,
            concurrency=self.concurrency,
            part_concurrency=self.part_concurrency,
            logger=self.log,
            **self.copy_params(),
        )
        self._copied = result.copied  # compact; not a list of a million ObjectRef pairs
        if result.failures:
            context["ti"].xcom_push(key="failures", value=result.failures)
        return [d.uri() for _, d in result.copied] + [d.uri() for d in result.skipped]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return openlineage_facets([s for s, _ in self._copied], [d for _, d in self._copied])
