"""The hook's copy methods: one object, metadata in place, a prefix, and the mapped steps."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cos_provider.client import limits, params, validation
from cos_provider.client.copy import CopyOutcome, MultipartSession, mapped
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Batch
from cos_provider.client.copy.window import read_ahead
from cos_provider.client.encryption import CustomerKey, require_https
from cos_provider.client.errors import CosValidationError
from cos_provider.client.metadata import MetadataChange, replace_metadata
from cos_provider.client.moves import delete_moved_source
from cos_provider.client.selection import CopyMapping, Selection
from cos_provider.hooks.lineage import report_lineage

if TYPE_CHECKING:
    from cos_provider.client.copy.many import ManyCopyResult
from cos_provider.hooks.base import CosBaseHook


@dataclasses.dataclass(frozen=True)
class MultipartCopyStart:
    """What :meth:`CosHook.start_multipart_copy` planned: the session and its batches."""

    session: MultipartSession
    batches: list[Batch]


class CosCopyMethods(CosBaseHook):
    """Server-side copies; every method validates before its first request and reports lineage."""

    def _source_region(self, source_region: str | None, dest_region: str | None) -> str | None:
        """A copy given only ``dest_region`` reads its source in the connection's region.

        The client of ``dest_region`` signs for that region, so without this the
        source would silently be looked for in the destination's region.
        """
        return source_region or (self.region if dest_region else None)

    # ------------------------------------------------------------ copies

    def copy_object(
        self,
        source_bucket_key: str,
        dest_bucket_key: str,
        *,
        source_bucket_name: str | None = None,
        dest_bucket_name: str | None = None,
        source_version_id: str | None = None,
        source_region: str | None = None,
        dest_region: str | None = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        move: bool = False,
        logger: Any = None,
        **copy_params: Any,
    ) -> CopyOutcome:
        """Copy one object of any size: one PUT copy up to ``multipart_threshold``, verified parts above.

        ``copy_params`` are those of :class:`~cos_provider.operators.object_copy.CosCopyObjectOperator`
        (``metadata_directive``, ``metadata``, content headers, ``storage_class``, ``acl``,
        ``grant_*``, ``server_side_encryption``, ``kms_key_id``, ``kms_context``,
        ``sse_customer_key``, ``source_sse_customer_key``, ``tagging``,
        ``tagging_directive``, ``copy_source_if_*``, ``part_size``, ``resume``,
        ``overwrite``). With ``move`` the source is deleted once the copy is
        verified, and only if it is still what was copied. With
        ``overwrite=False`` an existing destination raises
        :class:`~cos_provider.client.copy.overwrite.DestinationExistsError`.
        """
        params.check_copy_params(copy_params)
        keys = self.customer_keys(copy_params)
        options = params.copy_options(
            copy_params, multipart_threshold=multipart_threshold, concurrency=concurrency, keys=keys
        )
        validation.validate_bool(move, "move")
        client = self.client_for(dest_region)
        source, dest = params.copy_refs(
            client,
            source_bucket_key,
            dest_bucket_key,
            source_bucket_name=source_bucket_name,
            dest_bucket_name=dest_bucket_name,
            source_version_id=source_version_id,
            source_region=self._source_region(source_region, dest_region),
            dest_region=dest_region,
        )
        with self._engine(client, logger) as engine:
            engine.validate(source, dest, options)
            if move and (source.bucket, source.key) == (dest.bucket, dest.key):
                raise CosValidationError("move", "cannot move an object onto itself")
            outcome = engine.copy(source, dest, options)
        if move:
            delete_moved_source(client, source, outcome, logger or self.log, keys.source)
        report_lineage(self, [source], [dest])
        return outcome

    def replace_metadata(
        self,
        bucket_key: str,
        bucket_name: str | None = None,
        *,
        region: str | None = None,
        metadata: Mapping[str, str] | None = None,
        remove: Iterable[str] | None = None,
        merge: bool = True,
        storage_class: str | None = None,
        tagging: Mapping[str, str] | str | None = None,
        tagging_directive: str | None = None,
        sse_customer_key: str | CustomerKey | None = None,
        if_match: str | None = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        logger: Any = None,
        **content_headers: str | None,
    ) -> dict[str, Any]:
        """Update an object's metadata and content headers in place (a pinned self-copy with ``Replaced``).

        With ``merge`` the object keeps what is not changed and ``remove``
        drops metadata names; without it the object gets exactly what is
        passed. ``content_headers``: ``content_type``, ``cache_control``,
        ``content_disposition``, ``content_encoding``, ``expires``. Tags are
        kept unless ``tagging`` retags the object (or
        ``tagging_directive="Replaced"`` alone removes them). An SSE-C
        object is read and rewritten with ``sse_customer_key`` (default: the
        connection's ``sse_customer_key`` extra).
        """
        params.check_sizes(
            multipart_threshold=multipart_threshold, part_size=part_size, concurrency=concurrency
        )
        client = self.client_for(region)
        ref = params.object_ref(
            client, bucket_key, bucket_name, region=region, key_field="bucket_key", bucket_field="bucket_name"
        )
        change = MetadataChange.of(
            metadata, remove, merge, storage_class, tagging, tagging_directive, **content_headers
        )
        key = self.customer_keys({"sse_customer_key": sse_customer_key}).dest
        with self._engine(client, logger) as engine:
            result = replace_metadata(
                engine,
                ref,
                change,
                customer_key=key,
                if_match=if_match,
                multipart_threshold=multipart_threshold,
                part_size=part_size,
                concurrency=concurrency,
            )
        report_lineage(self, [ref], [ref])
        return result

    def copy_prefix(
        self,
        source_bucket: str,
        dest_bucket: str | None = None,
        *,
        prefix: str | None = None,
        match_glob: str | None = None,
        keys: Iterable[str] | None = None,
        dest_prefix: str | None = None,
        source_region: str | None = None,
        dest_region: str | None = None,
        replace: bool = True,
        continue_on_failure: bool = False,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        concurrency: int = 16,
        part_concurrency: int = 8,
        logger: Any = None,
        **copy_params: Any,
    ) -> ManyCopyResult:
        """Copy every object under ``prefix``, matching ``match_glob``, or in ``keys``.

        Each destination key is ``dest_prefix`` + the source key minus the
        source prefix (the glob's literal prefix; nothing for ``keys``).
        Objects stream from the listing through a bounded window of
        ``concurrency`` copies, each through the same verified engine as
        :meth:`copy_object`. ``replace=False`` skips destinations that already
        hold the source's bytes.
        """
        params.check_copy_params(copy_params)
        options = params.copy_options(
            copy_params,
            multipart_threshold=multipart_threshold,
            concurrency=part_concurrency,
            concurrency_field="part_concurrency",
            keys=self.customer_keys(copy_params),
        )
        params.check_sizes(concurrency=concurrency)
        validation.validate_bool(replace, "replace")
        validation.validate_bool(continue_on_failure, "continue_on_failure")
        client = self.client_for(dest_region)
        if options.keys:  # before the listing: nothing is sent over http with SSE-C
            require_https(client.endpoint, options.keys.field())
        src_bucket = params.bucket_name(client, source_bucket, "source_bucket")
        mapping = CopyMapping.of(
            Selection.of(prefix, match_glob, keys),
            src_bucket,
            params.bucket_name(client, dest_bucket or src_bucket, "dest_bucket"),
            dest_prefix=dest_prefix,
            source_region=self._source_region(source_region, dest_region),
            dest_region=dest_region,
            directive=options.directive,
        )
        lister = self.client_for(mapping.source_region)
        with self._engine(client, logger) as engine:
            result = engine.copy_many(
                # The next listing page is fetched and parsed while this one copies.
                mapping.pairs(
                    lambda bucket, prefix: read_ahead(lister.iter_objects(bucket, prefix=prefix), 1000)
                ),
                options,
                concurrency=concurrency,
                replace=replace,
                continue_on_failure=continue_on_failure,
            )
        report_lineage(self, (s for s, _ in result.copied), (d for _, d in result.copied))
        return result

    # ------------------------------------------------------------ the mapped multipart copy, step by step

    def start_multipart_copy(
        self,
        source_bucket_key: str,
        dest_bucket_key: str,
        *,
        batches: int,
        part_concurrency: int = 8,
        source_bucket_name: str | None = None,
        dest_bucket_name: str | None = None,
        source_version_id: str | None = None,
        source_region: str | None = None,
        dest_region: str | None = None,
        logger: Any = None,
        **copy_params: Any,
    ) -> MultipartCopyStart:
        """Plan a multipart copy for ``batches`` workers, then resume or initiate its upload.

        The session is JSON-able (``session.to_dict()``) and travels to
        :meth:`copy_parts`, :meth:`complete_multipart_copy` and
        :meth:`abort_multipart_copy`, which may run in other processes. It
        holds the SSE-C keys' MD5s, never the keys: those steps take the keys
        again (parameters or the connection) and check them against it.
        """
        params.check_sizes(concurrency=part_concurrency, concurrency_field="part_concurrency")
        # Plan for the whole fleet: every worker runs part_concurrency parts at once.
        total = min(batches * part_concurrency, MAX_CONCURRENCY)
        params.check_copy_params(copy_params)
        options = params.copy_options(
            copy_params, multipart_threshold=0, concurrency=total, keys=self.customer_keys(copy_params)
        )
        client = self.client_for(dest_region)
        source, dest = params.copy_refs(
            client,
            source_bucket_key,
            dest_bucket_key,
            source_bucket_name=source_bucket_name,
            dest_bucket_name=dest_bucket_name,
            source_version_id=source_version_id,
            source_region=self._source_region(source_region, dest_region),
            dest_region=dest_region,
        )
        with self._engine(client, logger) as engine:
            session, planned = mapped.start_for_batches(engine, source, dest, options, batches)
        report_lineage(self, [source], [dest])
        return MultipartCopyStart(session, planned)

    def copy_parts(
        self,
        session: MultipartSession | Mapping[str, Any],
        part_numbers: Iterable[int],
        *,
        concurrency: int = 8,
        progress_interval: float = 10.0,
        label: str | None = None,
        logger: Any = None,
        sse_customer_key: str | CustomerKey | None = None,
        source_sse_customer_key: str | CustomerKey | None = None,
    ) -> dict[int, tuple[str, int | None]]:
        """Copy some parts of a session; parts an earlier try already copied are kept, not copied again.

        A failure does not abort the upload (a retry can still succeed);
        returns ``{part_number: (etag, crc64 or None)}``. SSE-C keys: as
        :meth:`copy_object` takes them; they must be the session's.
        """
        session = self._with_keys(session, sse_customer_key, source_sse_customer_key)
        params.check_sizes(concurrency=concurrency)
        with self._engine(self.client_for(session.dest.region), logger) as engine:
            return mapped.copy_batch(
                engine,
                session,
                part_numbers,
                concurrency=concurrency,
                progress_interval=progress_interval,
                label=label,
            )

    def complete_multipart_copy(
        self,
        session: MultipartSession | Mapping[str, Any],
        parts: Mapping[int, tuple[str, int | None]],
        *,
        move: bool = False,
        logger: Any = None,
        sse_customer_key: str | CustomerKey | None = None,
        source_sse_customer_key: str | CustomerKey | None = None,
    ) -> CopyOutcome:
        """Complete after checking the parts' combined CRC64, then verify size and CRC64 against the source."""
        session = self._with_keys(session, sse_customer_key, source_sse_customer_key)
        client = self.client_for(session.dest.region)
        with self._engine(client, logger) as engine:
            outcome = mapped.complete(engine, session, parts)
        if move:
            delete_moved_source(client, session.source, outcome, logger or self.log, session.keys.source)
        report_lineage(self, [session.source], [session.dest])
        return outcome

    def _with_keys(
        self, session: MultipartSession | Mapping[str, Any], dest_key: Any, source_key: Any
    ) -> MultipartSession:
        """The session (or its XCom dict) with the SSE-C keys it was started with, or a clear refusal."""
        session = params.as_session(session)
        keys = self.customer_keys({"sse_customer_key": dest_key, "source_sse_customer_key": source_key})
        session = session.with_keys(keys)
        if keys:  # before ListParts: nothing is sent over http with SSE-C
            require_https(self.client_for(session.dest.region).endpoint, keys.field())
        return session

    def abort_multipart_copy(
        self, session: MultipartSession | Mapping[str, Any], reason: str = "", *, logger: Any = None
    ) -> bool:
        """Abort the session's upload if it is still open; False when it was not.

        An abort COS keeps refusing raises
        :class:`~cos_provider.client.copy.errors.UploadNotAborted`, naming the
        upload, so it can be cleaned up by hand (or by a lifecycle rule).
        """
        session = params.as_session(session)
        with self._engine(self.client_for(session.dest.region), logger) as engine:
            return engine.abort(session, reason)
