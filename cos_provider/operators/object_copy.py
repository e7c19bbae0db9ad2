"""Copy one object of any size: :meth:`CosHook.copy_object <cos_provider.hooks.cos.CosHook.copy_object>` as a task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client import limits
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.params import COPY_PARAMS
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.operators.base import (
    OBJECT_PARAMS,
    OBJECT_TEMPLATE_FIELDS,
    CosBaseOperator,
    openlineage_facets,
    refs_of,
)
from cos_provider.operators.restore import RestoreFirstMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from cos_provider.client.operations import ObjectRef


class CosCopyObjectOperator(RestoreFirstMixin, CosConsoleLinkMixin, CosBaseOperator):
    """Copy one object of any size (single PUT copy up to ``multipart_threshold``,
    verified multipart range copy above it, in-region or across regions).

    :param source_bucket_key: Source key, or ``cos://bucket/key`` (the key is taken verbatim).
    :param dest_bucket_key: Destination key, or ``cos://bucket/key``.
    :param source_bucket_name: Source bucket (``name-appid``, or ``name`` with the connection's APPID).
    :param dest_bucket_name: Destination bucket; defaults to the source bucket (a rename).
    :param source_version_id: Copy this version of the source.
    :param source_region: Region of the source bucket, if not the connection's (cross-region copy).
    :param dest_region: Region of the destination bucket, if not the connection's.
    :param metadata_directive: ``Copy`` (keep the source's content headers and metadata) or ``Replaced``.
    :param metadata: ``x-cos-meta-*`` of the new object (with ``Replaced``).
    :param content_type: With ``Replaced``; likewise ``cache_control``, ``content_disposition``,
        ``content_encoding``, ``expires``.
    :param storage_class: e.g. ``STANDARD_IA`` (any case); COS makes the copy STANDARD unless set.
    :param acl: Object ACL (``private``, ``public-read``, ..., any case); ``grant_*``: comma-separated
        ``id="<uin>"`` or ``id="qcs::cam::uin/<owner>:uin/<uin>"`` lists.
    :param server_side_encryption: ``AES256`` or ``SM4`` (SSE-COS), ``cos/kms`` (SSE-KMS), any case.
        COS leaves the copy unencrypted unless this (or ``sse_customer_key``) is given.
    :param kms_key_id: With ``cos/kms``: the KMS key (CMK) id; COS's default key if not given.
    :param kms_context: With ``cos/kms``: the encryption context, a dict (sent as base64 JSON) or
        an already base64-encoded JSON object.
    :param sse_customer_key: SSE-C: encrypt the copy with this key (base64 of 32 bytes). A secret:
        not templated, masked in logs; defaults to the connection's ``sse_customer_key`` extra.
        Needs HTTPS.
    :param source_sse_customer_key: SSE-C key of an SSE-C source (likewise a secret; defaults to
        the connection's ``source_sse_customer_key`` extra).
    :param tagging: Tags of the copy: a dict, or ``k=v&k2=v2`` with URL-encoded keys and values.
    :param tagging_directive: ``Copy`` (keep the source's tags) or ``Replaced`` (use ``tagging``;
        no tags if none is given). Default: ``Replaced`` when ``tagging`` is given, else ``Copy``.
    :param copy_source_if_match: Copy only if the source ETag matches; likewise
        ``copy_source_if_none_match``, ``copy_source_if_modified_since``,
        ``copy_source_if_unmodified_since`` (COS allows If-Match with
        If-Unmodified-Since, or If-None-Match with If-Modified-Since).
    :param multipart_threshold: Largest size copied with one PUT copy (bytes, at most 5 GB).
    :param part_size: Multipart part size in bytes (1 MB-5 GB); automatic by default.
    :param concurrency: Parallel part copies.
    :param move: Delete the source after the copy is verified.
    :param resume: Continue an upload left by a killed earlier try (see the README).
    :param overwrite: ``False``: fail (409 ``FileAlreadyExists``) rather than replace an existing
        destination, checked atomically by COS. No effect on a bucket that has ever had versioning.
    :param restore_first: Restore an archived source first, deferring until it is readable
        (``restore_days``, ``restore_tier``, ``restore_poke_interval``: see :class:`RestoreFirstMixin`).
    :param cos_conn_id: The Tencent COS connection.
    :param region: Overrides the connection's region.

    Returns (XCom) the destination URI, ETag, version id, CRC64, size,
    last-modified, source version id and part count.
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
        sse_customer_key: str | None = None,
        source_sse_customer_key: str | None = None,
        tagging: dict[str, str] | str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: Any = None,
        copy_source_if_unmodified_since: Any = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        move: bool = False,
        resume: bool = True,
        overwrite: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep(locals(), (*OBJECT_PARAMS, *COPY_PARAMS))
        self.keep_secrets(locals())
        self.multipart_threshold = multipart_threshold
        self.concurrency = concurrency
        self.move = move
        self._refs: tuple[ObjectRef, ObjectRef] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        self.persist_console_link(context)
        self.restore_sources_first(context)
        outcome = self.hook.copy_object(
            **self.values(OBJECT_PARAMS),
            multipart_threshold=self.multipart_threshold,
            concurrency=self.concurrency,
            move=self.move,
            logger=self.log,
            **self.copy_params(),
        )
        self._refs = refs_of(outcome)
        return outcome.to_dict()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self._refs is None:
            return None
        return openlineage_facets([self._refs[0]], [self._refs[1]])
