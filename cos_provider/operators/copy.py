"""Copy operators: one object, a metadata update in place, and a whole prefix.

They are thin: each turns its parameters into engine inputs (validated at the
start of ``execute``, before any request), runs
:class:`~cos_provider.client.copy.CopyEngine` with the hook's client, reports
lineage and returns a JSON-able result for XCom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from cos_provider.client import limits, validation
from cos_provider.client.copy import CopyEngine, CopyOptions, CopyOutcome
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.errors import CosError, CosServiceError, CosValidationError
from cos_provider.client.etag import same_etag
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.client.models import ListedObject, ObjectInfo
from cos_provider.client.operations import CONTENT_HEADERS, CopyConditions, ObjectRef
from cos_provider.operators import _base
from cos_provider.operators._copy_params import (
    COPY_PARAMS,
    COPY_TEMPLATE_FIELDS,
    OBJECT_PARAMS,
    OBJECT_TEMPLATE_FIELDS,
    CopyParams,
    ObjectCopyParams,
    keep_arguments,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from cos_provider.client.client import CosClient


class CosCopyObjectOperator(ObjectCopyParams, BaseOperator):
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
    :param storage_class: e.g. ``STANDARD_IA``; COS makes the copy STANDARD unless set.
    :param acl: Object ACL (``private``, ``public-read``, ...); ``grant_*``: ``id="<uin>"`` lists.
    :param server_side_encryption: ``AES256``.
    :param tagging: ``k=v&k2=v2``.
    :param copy_source_if_match: Copy only if the source ETag matches; likewise
        ``copy_source_if_none_match``, ``copy_source_if_modified_since``,
        ``copy_source_if_unmodified_since`` (COS allows If-Match with
        If-Unmodified-Since, or If-None-Match with If-Modified-Since).
    :param multipart_threshold: Largest size copied with one PUT copy (bytes, at most 5 GB).
    :param part_size: Multipart part size in bytes (1 MB-5 GB); automatic by default.
    :param concurrency: Parallel part copies.
    :param move: Delete the source after the copy is verified.
    :param resume: Continue an upload left by a killed earlier try (see the README).
    :param cos_conn_id: The Tencent COS connection.

    Returns (XCom) the destination URI, ETag, version id, CRC64, size,
    last-modified, source version id and part count.
    """

    template_fields: Sequence[str] = OBJECT_TEMPLATE_FIELDS
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#d6eaf8"

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
        tagging: str | None = None,
        copy_source_if_match: str | None = None,
        copy_source_if_none_match: str | None = None,
        copy_source_if_modified_since: Any = None,
        copy_source_if_unmodified_since: Any = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        move: bool = False,
        resume: bool = True,
        cos_conn_id: str = "cos_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_arguments(self, locals(), (*OBJECT_PARAMS, *COPY_PARAMS))
        self.multipart_threshold = multipart_threshold
        self.concurrency = concurrency
        self.move = move
        self.cos_conn_id = cos_conn_id
        self._engine: CopyEngine | None = None
        self._refs: tuple[ObjectRef, ObjectRef] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        hook = _base.make_hook(self.cos_conn_id, self.dest_region, self.concurrency)
        client = hook.get_conn()
        source, dest, options = self.prepare(
            client, _base.source_region(self.cos_conn_id, self.source_region, self.dest_region)
        )
        self._refs = (source, dest)
        self._engine = CopyEngine(client, logger=self.log)
        outcome = self._engine.copy(source, dest, options)
        if self.move:
            _delete_source(client, source, outcome, self.log)
        _base.report_lineage(hook, [source], [dest])
        return outcome.to_dict()

    def on_kill(self) -> None:
        if self._engine is not None:
            self.log.warning("Task killed: cancelling the copy and aborting its upload")
            self._engine.cancel()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self._refs is None:
            return None
        return _base.openlineage_facets([self._refs[0]], [self._refs[1]])


def _delete_source(client: CosClient, source: ObjectRef, outcome: CopyOutcome, log: Any) -> None:
    """The delete half of a move, only if the source is still what was copied."""
    if source.version_id:
        client.delete_object(source.bucket, source.key, source.version_id)
        log.info("Moved: deleted source version %s of %s", source.version_id, source.uri())
        return
    current = client.head_object(source.bucket, source.key, region=source.region)
    if not same_etag(current.etag, outcome.source_etag):
        raise CosError(
            f"{source.uri()} changed after it was copied (ETag {outcome.source_etag} -> {current.etag}); "
            "the copy is done but the source was NOT deleted"
        )
    client.delete_object(source.bucket, source.key)
    log.info("Moved: deleted source %s", source.uri())


class CosReplaceObjectMetadataOperator(BaseOperator):
    """Update an object's metadata in place (a self-copy with ``Replaced``).

    By default (``merge=True``) the object keeps every metadata entry and
    content header the caller does not change, and ``remove`` lists metadata
    names to drop; with ``merge=False`` the object gets exactly what is passed.
    The storage class and SSE are kept unless given (a self-copy would
    otherwise reset them). The copy is pinned with If-Match to the ETag read
    first (or to ``if_match`` if given), so a concurrent writer is never
    silently overwritten; objects over ``multipart_threshold`` go through the
    multipart engine.

    Returns the new ETag, version id, the resulting metadata and content headers.
    """

    template_fields: Sequence[str] = (
        "bucket_key",
        "bucket_name",
        "region",
        "metadata",
        "remove",
        "content_type",
        "cache_control",
        "content_disposition",
        "content_encoding",
        "expires",
        "storage_class",
        "if_match",
        "cos_conn_id",
    )
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#d6eaf8"

    def __init__(
        self,
        *,
        bucket_key: str,
        bucket_name: str | None = None,
        region: str | None = None,
        metadata: dict[str, str] | None = None,
        remove: Sequence[str] | None = None,
        merge: bool = True,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        storage_class: str | None = None,
        if_match: str | None = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        cos_conn_id: str = "cos_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket_key = bucket_key
        self.bucket_name = bucket_name
        self.region = region
        self.metadata = metadata
        self.remove = remove
        self.merge = merge
        self.content_type = content_type
        self.cache_control = cache_control
        self.content_disposition = content_disposition
        self.content_encoding = content_encoding
        self.expires = expires
        self.storage_class = storage_class
        self.if_match = if_match
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.concurrency = concurrency
        self.cos_conn_id = cos_conn_id
        self._engine: CopyEngine | None = None
        self._ref: ObjectRef | None = None

    def _check(self, client: CosClient) -> tuple[ObjectRef, list[str]]:
        _base.check_common(
            multipart_threshold=self.multipart_threshold,
            part_size=self.part_size,
            concurrency=self.concurrency,
        )
        ref = _base.object_ref(
            client,
            self.bucket_key,
            self.bucket_name,
            region=self.region,
            key_field="bucket_key",
            bucket_field="bucket_name",
        )
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise CosValidationError("metadata", "must be a dict of name -> value")
        validation.normalise_metadata(self.metadata)
        remove = self.remove or []
        if isinstance(remove, str) or not all(isinstance(n, str) for n in remove):
            raise CosValidationError("remove", "must be a list of metadata names")
        if remove and not self.merge:
            raise CosValidationError(
                "remove", "only applies with merge=True (merge=False replaces everything)"
            )
        removed = [n.lower().removeprefix("x-cos-meta-") for n in remove]
        clash = sorted(set(removed) & set(validation.normalise_metadata(self.metadata)))
        if clash:
            raise CosValidationError("remove", f"also sets {', '.join(clash)} in metadata; choose one")
        _base.attributes(
            {
                "storage_class": self.storage_class,
                **{name: getattr(self, name) for name in CONTENT_HEADERS},
            }
        )
        return ref, removed

    def resulting_attributes(self, current: ObjectInfo, removed: Iterable[str]) -> dict[str, Any]:
        """Content headers, metadata and storage class the object should end with."""
        new_meta = validation.normalise_metadata(self.metadata)
        if self.merge:
            meta = {k: v for k, v in current.metadata.items() if k not in set(removed)}
            meta.update(new_meta)
            content = {name: getattr(current, name) for name in CONTENT_HEADERS}
        else:
            meta = dict(new_meta)
            content = dict.fromkeys(CONTENT_HEADERS)
        for name in CONTENT_HEADERS:
            if getattr(self, name) is not None:
                content[name] = getattr(self, name)
        return {
            **content,
            "metadata": meta,
            "storage_class": self.storage_class or current.storage_class,
            "server_side_encryption": current.server_side_encryption,
        }

    def execute(self, context: Context) -> dict[str, Any]:
        hook = _base.make_hook(self.cos_conn_id, self.region, self.concurrency)
        client = hook.get_conn()
        ref, removed = self._check(client)
        self._ref = ref
        current = client.head_object(ref.bucket, ref.key, region=ref.region)
        if self.if_match and not same_etag(self.if_match, current.etag):
            raise CosServiceError(
                412,
                "PreconditionFailed",
                f"{ref.uri()} has ETag {current.etag}, not if_match {self.if_match!r}",
                request_id=current.request_id or "",
                method="HEAD",
            )
        wanted = self.resulting_attributes(current, removed)
        attrs = _base.attributes(wanted)
        options = CopyOptions(
            metadata_directive="Replaced",
            attributes=attrs,
            conditions=CopyConditions(if_match=current.etag),
            multipart_threshold=self.multipart_threshold,
            part_size=self.part_size,
            concurrency=self.concurrency,
        )
        self._engine = CopyEngine(client, logger=self.log)
        self._engine.validate(ref, ref, options)
        outcome = self._engine.copy(ref, ref, options, source_info=current)
        after = client.head_object(ref.bucket, ref.key, outcome.version_id, ref.region)
        self.log.info(
            "Replaced metadata of %s: %s (ETag %s -> %s)", ref.uri(), after.metadata, current.etag, after.etag
        )
        _base.report_lineage(hook, [ref], [ref])
        return {
            "uri": ref.uri(),
            "etag": after.etag or outcome.etag,
            "version_id": outcome.version_id,
            "previous_etag": current.etag,
            "previous_version_id": current.version_id,
            "metadata": after.metadata,
            "content_type": after.content_type,
            "cache_control": after.cache_control,
            "content_disposition": after.content_disposition,
            "content_encoding": after.content_encoding,
            "expires": after.expires,
            "storage_class": after.storage_class,
            "size": after.size,
            "crc64": after.crc64,
            "part_count": outcome.part_count,
        }

    def on_kill(self) -> None:
        if self._engine is not None:
            self._engine.cancel()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self._ref is None:
            return None
        return _base.openlineage_facets([self._ref], [self._ref])


# ---------------------------------------------------------------- prefix


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """The sensors' dialect (:mod:`cos_provider.client.globbing`), so a prefix copy and
    a sensor waiting for its sources select the same keys; errors name ``match_glob``."""
    return glob_regex(pattern, "match_glob")


glob_prefix = literal_prefix  # the listing prefix of match_glob


class CosCopyPrefixOperator(CopyParams, BaseOperator):
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

    Returns the destination URIs (``cos://bucket/key``) of copied and skipped objects.
    """

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
    ui_color = "#d6eaf8"

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
        tagging: str | None = None,
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
        cos_conn_id: str = "cos_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_arguments(self, locals(), COPY_PARAMS)
        self.source_bucket = source_bucket
        self.dest_bucket = dest_bucket
        self.prefix = prefix
        self.match_glob = match_glob
        self.keys = keys
        self.dest_prefix = dest_prefix
        self.source_region = source_region
        self.dest_region = dest_region
        self.multipart_threshold = multipart_threshold
        self.concurrency = concurrency
        self.replace = replace
        self.continue_on_failure = continue_on_failure
        self.part_concurrency = part_concurrency
        self.cos_conn_id = cos_conn_id
        self._engine: CopyEngine | None = None
        self._copied: list[tuple[ObjectRef, ObjectRef]] = []
        self._source_region: str | None = None

    # -- selection

    def _selection(self) -> tuple[str, str]:
        """(mode, listing prefix); checks that exactly one selector is given."""
        given = [n for n in ("prefix", "match_glob", "keys") if getattr(self, n) not in (None, "", [])]
        if self.prefix == "" and not given:
            given = ["prefix"]  # "" = the whole bucket
        if len(given) != 1:
            raise CosValidationError(
                "prefix/match_glob/keys", f"give exactly one of them, got {', '.join(given) or 'none'}"
            )
        mode = given[0]
        if mode == "keys":
            if isinstance(self.keys, str) or not all(isinstance(k, str) and k for k in self.keys or []):
                raise CosValidationError("keys", "must be a list of non-empty keys")
            for k in self.keys or []:
                validation.validate_key(k, "keys")
            return mode, ""
        if mode == "match_glob":
            assert self.match_glob is not None
            return mode, glob_prefix(self.match_glob)
        return mode, self.prefix or ""

    def dest_key(self, key: str, strip: str) -> str:
        if self.dest_prefix is None:
            return key
        return self.dest_prefix + key[len(strip) :]

    def prepare(self, client: CosClient) -> tuple[str, str, str, CopyOptions]:
        options = self._options(_base.conditions(vars(self)), concurrency=self.part_concurrency)
        _base.check_common(concurrency=self.part_concurrency)
        mode, strip = self._selection()
        source_bucket = _base.bucket_name(client, self.source_bucket, "source_bucket")
        dest_bucket = _base.bucket_name(client, self.dest_bucket or source_bucket, "dest_bucket")
        if self.dest_prefix is not None and self.dest_prefix != "":
            validation.validate_key(self.dest_prefix, "dest_prefix")
        same_place = source_bucket == dest_bucket  # bucket names are unique across regions
        maps_to_itself = self.dest_prefix is None or self.dest_prefix == strip
        if same_place and maps_to_itself and options.directive != "Replaced":
            raise CosValidationError(
                "metadata_directive",
                "must be 'Replaced' when source and destination are the same objects "
                "(same bucket and dest_prefix maps every key to itself)",
            )
        return mode, strip, dest_bucket, options

    def _sources(
        self, client: CosClient, mode: str, strip: str, bucket: str
    ) -> Iterable[ObjectRef | ListedObject]:
        if mode == "keys":
            for key in self.keys or []:
                yield ObjectRef(bucket, key, None, self._source_region)
            return
        pattern = glob_to_regex(self.match_glob) if mode == "match_glob" and self.match_glob else None
        for obj in self._iter_listing(client, bucket, strip, self._source_region):
            if pattern is not None and not pattern.match(obj.key):
                continue
            yield obj

    def _iter_listing(
        self, client: CosClient, bucket: str, prefix: str, region: str | None
    ) -> Iterable[ListedObject]:
        if not region:
            yield from client.iter_objects(bucket, prefix=prefix)
            return
        # The client's listing uses its own region; a source in another region
        # needs a client of that region.
        hook = _base.make_hook(self.cos_conn_id, region, 2)
        yield from hook.get_conn().iter_objects(bucket, prefix=prefix)

    def _matches(
        self, client: CosClient, src: ObjectRef, listed: ListedObject | None, dest: ObjectRef
    ) -> bool:
        """Does ``dest`` already hold ``src``'s bytes (``replace=False``)?"""
        try:
            have = client.head_object(dest.bucket, dest.key)
        except CosServiceError as exc:
            if exc.is_not_found:
                return False
            raise
        if listed is not None and (have.size != listed.size):
            return False
        src_info = client.head_object(src.bucket, src.key, region=src.region)
        if have.size != src_info.size:
            return False
        if same_etag(have.etag, src_info.etag):
            return True
        return have.crc64 is not None and have.crc64 == src_info.crc64

    def execute(self, context: Context) -> list[str]:
        hook = _base.make_hook(self.cos_conn_id, self.dest_region, self.concurrency + self.part_concurrency)
        client = hook.get_conn()
        self._source_region = _base.source_region(self.cos_conn_id, self.source_region, self.dest_region)
        mode, strip, dest_bucket, options = self.prepare(client)
        _base.check_common(concurrency=self.concurrency)
        source_bucket = client.bucket(self.source_bucket)
        engine = self._engine = CopyEngine(client, logger=self.log)
        done: list[str] = []
        failures: list[dict[str, str]] = []
        skipped = 0

        def copy_one(item: ObjectRef | ListedObject) -> tuple[str, str]:
            if isinstance(item, ListedObject):
                src = ObjectRef(source_bucket, item.key, None, self._source_region)
                listed: ListedObject | None = item
            else:
                src, listed = item, None
            dest = ObjectRef(dest_bucket, self.dest_key(src.key, strip), None, self.dest_region or None)
            if not self.replace and self._matches(client, src, listed, dest):
                return "skipped", dest.uri()
            engine.copy(src, dest, options, listed=listed)
            self._copied.append((src, dest))
            return "copied", dest.uri()

        sources = iter(self._sources(client, mode, strip, source_bucket))
        inflight: dict[Future[tuple[str, str]], str] = {}
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="cos-prefix") as pool:

            def submit_next() -> bool:
                item = next(sources, None)
                if item is None:
                    return False
                key = item.key
                inflight[pool.submit(copy_one, item)] = key
                return True

            try:
                for _ in range(self.concurrency * 2):
                    if not submit_next():
                        break
                while inflight:
                    finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        key = inflight.pop(fut)
                        exc = fut.exception()
                        if exc is None:
                            status, uri = fut.result()
                            done.append(uri)
                            skipped += status == "skipped"
                        elif self.continue_on_failure and isinstance(exc, CosError):
                            self.log.error("Failed to copy %s: %s", key, exc)
                            failures.append({"key": key, "error": str(exc)})
                        else:
                            raise exc
                        submit_next()
            except BaseException:
                engine.cancel()
                for fut in inflight:
                    fut.cancel()
                raise
        self.log.info(
            "Copied %d object(s), skipped %d already matching, %d failed",
            len(done) - skipped,
            skipped,
            len(failures),
        )
        if failures:
            context["ti"].xcom_push(key="failures", value=failures)
        _base.report_lineage(hook, [s for s, _ in self._copied], [d for _, d in self._copied])
        return done

    def on_kill(self) -> None:
        if self._engine is not None:
            self._engine.cancel()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if not self._copied:
            return None
        return _base.openlineage_facets([s for s, _ in self._copied], [d for _, d in self._copied])
