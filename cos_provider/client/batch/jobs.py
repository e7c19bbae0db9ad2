"""CreateJob: the validated ``COSPutObjectCopy`` operation, the report spec and the job XML.

Every builder here validates its input and names the field before anything is
sent (``cos-data-plane.md §9``); the report layout (``<prefix>/job-<JobId>/``)
is shared with the emulator, which writes the report where the client reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from cos_provider.client import limits, validation
from cos_provider.client import tagging as tag_rules
from cos_provider.client.batch.manifest import manifest_fields
from cos_provider.client.batch.names import (
    MANIFEST_FORMAT,
    REPORT_FORMAT,
    REPORT_SCOPES,
    Arn,
    _bytes_max,
    bucket_arn,
    uin_of_role,
)
from cos_provider.client.errors import CosValidationError


def _directive(value: object, field: str) -> str | None:
    if value is None:
        return None
    text = validation.validate_string(value, field)
    canonical = {d.lower(): d for d in limits.BATCH_DIRECTIVES}.get((text or "").strip().lower())
    if canonical is None:
        raise CosValidationError(field, f"must be one of Add, Copy, Replaced, got {value!r}")
    return canonical


@dataclass(frozen=True)
class CopyOperation:
    """``COSPutObjectCopy``: where each manifest object goes and what it carries; see :func:`copy_operation`."""

    target: Arn
    target_key_prefix: str | None = None
    resources_prefix: str = ""
    storage_class: str | None = None
    acl: str | None = None
    acl_directive: str | None = None
    metadata_directive: str = "Copy"
    metadata: tuple[tuple[str, str], ...] = ()
    content_headers: tuple[tuple[str, str], ...] = ()
    sse: str | None = None
    tagging_directive: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def dest_key(self, key: str) -> str:
        """The destination key of ``key`` (the job's plain ``PrefixReplace`` string replacement)."""
        if self.target_key_prefix is None or not key.startswith(self.resources_prefix):
            return key
        return self.target_key_prefix + key[len(self.resources_prefix) :]

    def element(self) -> etree._Element:
        op = etree.Element("COSPutObjectCopy")
        _sub(op, "TargetResource", str(self.target))
        if self.storage_class:
            _sub(op, "StorageClass", self.storage_class)
        if self.acl_directive:
            _sub(op, "AccessControlDirective", self.acl_directive)
        if self.acl:
            _sub(op, "CannedAccessControlList", self.acl)
        _sub(op, "MetadataDirective", self.metadata_directive)
        if self.metadata or self.content_headers or self.sse:
            meta = etree.SubElement(op, "NewObjectMetadata")
            for name, value in self.content_headers:
                _sub(meta, name, value)
            if self.sse:
                _sub(meta, "SSEAlgorithm", self.sse)
            if self.metadata:
                _key_values(meta, "UserMetadata", "member", self.metadata)
        if self.tagging_directive:
            _sub(op, "TaggingDirective", self.tagging_directive)
        if self.tags:
            _key_values(op, "NewObjectTagging", "COSTag", self.tags)
        if self.target_key_prefix is not None:
            _sub(op, "PrefixReplace", "true")
            _sub(op, "ResourcesPrefix", self.resources_prefix)
            _sub(op, "TargetKeyPrefix", self.target_key_prefix)
        return op


CONTENT_ELEMENTS = {
    "cache_control": "CacheControl",
    "content_disposition": "ContentDisposition",
    "content_encoding": "ContentEncoding",
    "content_type": "ContentType",
    "expires": "HttpExpiresDate",
}
"""The operator's content parameters and the ``NewObjectMetadata`` elements they become."""


def copy_operation(
    target_bucket: str,
    target_region: str,
    *,
    dest_prefix: str | None = None,
    source_prefix: str = "",
    storage_class: object = None,
    acl: object = None,
    acl_directive: object = None,
    metadata_directive: object = "Copy",
    metadata: Mapping[str, str] | None = None,
    tagging_directive: object = None,
    tagging: Mapping[str, str] | str | None = None,
    server_side_encryption: object = None,
    **content: object,
) -> CopyOperation:
    """A validated ``COSPutObjectCopy``; each :class:`CosValidationError` names the parameter.

    ``dest_prefix`` replaces ``source_prefix`` at the start of every key
    (``PrefixReplace``); ``None`` keeps keys as they are.
    """
    unknown = sorted(set(content) - set(CONTENT_ELEMENTS))
    if unknown:
        raise CosValidationError(", ".join(unknown), "is not a parameter of a batch copy")
    target = bucket_arn(target_bucket, target_region, "dest_bucket")
    if dest_prefix is not None:
        _bytes_max(dest_prefix, "dest_prefix", limits.MAX_JOB_PREFIX_BYTES)
        if dest_prefix:
            validation.validate_key(dest_prefix, "dest_prefix")
    _bytes_max(source_prefix, "prefix", limits.MAX_JOB_PREFIX_BYTES)
    storage = validation.validate_storage_class(storage_class)
    if storage is not None and storage not in limits.BATCH_COPY_STORAGE_CLASSES:
        raise CosValidationError(
            "storage_class", f"a batch copy writes only STANDARD or STANDARD_IA, got {storage_class!r}"
        )
    canned = validation.validate_string(acl, "acl")
    if canned is not None and canned not in limits.BATCH_CANNED_ACLS:
        raise CosValidationError("acl", f"a batch copy takes only 'private' or 'public-read', got {acl!r}")
    acl_dir = _directive(acl_directive, "acl_directive")
    if canned is not None and acl_dir is None:
        acl_dir = "Replaced"
    if acl_dir == "Copy" and canned is not None:
        raise CosValidationError("acl", "is ignored with acl_directive 'Copy': use 'Replaced' or 'Add'")
    meta_dir = _directive(metadata_directive, "metadata_directive") or "Copy"
    meta = validation.normalise_metadata(metadata)
    headers: list[tuple[str, str]] = []
    for name, element in CONTENT_ELEMENTS.items():
        value = validation.validate_string(content.get(name), name)
        if value:
            headers.append((element, value))
    sse = validation.validate_sse(server_side_encryption)
    if sse is not None and sse != "AES256":
        raise CosValidationError("server_side_encryption", f"a batch copy supports only AES256, got {sse!r}")
    if (meta or headers) and meta_dir == "Copy":
        raise CosValidationError(
            "metadata_directive",
            "must be 'Replaced' or 'Add' when metadata or content headers are given (with 'Copy' they are ignored)",
        )
    tag_dir = _directive(tagging_directive, "tagging_directive")
    tags = tuple(tag_rules.parse(tagging, "tagging") or ()) if tagging else ()
    if tags and tag_dir in (None, "Copy"):
        raise CosValidationError(
            "tagging_directive",
            "must be 'Replaced' or 'Add' when tagging is given (with 'Copy' it is ignored)",
        )
    return CopyOperation(
        target=target,
        target_key_prefix=dest_prefix,
        resources_prefix=source_prefix if dest_prefix is not None else "",
        storage_class=storage,
        acl=canned,
        acl_directive=acl_dir,
        metadata_directive=meta_dir,
        metadata=tuple(meta.items()),
        content_headers=tuple(headers),
        sse=sse,
        tagging_directive=tag_dir,
        tags=tags,
    )


@dataclass(frozen=True)
class ReportSpec:
    """The completion report: written under ``prefix`` of ``bucket`` when the job ends."""

    bucket: Arn
    prefix: str = ""
    scope: str = "AllTasks"
    enabled: bool = True

    @classmethod
    def of(cls, bucket: str, region: str, prefix: object = "", scope: object = "AllTasks") -> ReportSpec:
        arn = bucket_arn(bucket, region, "report_bucket")
        text = _bytes_max(prefix, "report_prefix", limits.MAX_JOB_REPORT_PREFIX_BYTES)
        if not isinstance(scope, str) or scope not in REPORT_SCOPES:
            raise CosValidationError("report_scope", f"must be AllTasks or FailedTasksOnly, got {scope!r}")
        return cls(arn, text, str(scope))

    def manifest_key(self, job_id: str) -> str:
        return report_manifest_key(self.prefix, job_id)


def report_prefix(prefix: str, job_id: str) -> str:
    """Where a job's report objects go: ``<prefix>/job-<JobId>/`` (``job-<JobId>/`` without a prefix)."""
    head = prefix.rstrip("/")
    return f"{head}/job-{job_id}/" if head else f"job-{job_id}/"


def report_manifest_key(prefix: str, job_id: str) -> str:
    return report_prefix(prefix, job_id) + "manifest.json"


@dataclass(frozen=True)
class JobRequest:
    """Everything CreateJob sends; build it with :func:`job_request`."""

    token: str
    manifest: Arn
    manifest_etag: str
    fields: tuple[str, ...]
    operation: CopyOperation
    report: ReportSpec
    role_arn: str
    priority: int = 10
    description: str = ""
    confirmation_required: bool = True
    manifest_version_id: str | None = None

    def to_xml(self) -> bytes:
        root = etree.Element("CreateJobRequest")
        _sub(root, "ClientRequestToken", self.token)
        _sub(root, "ConfirmationRequired", "true" if self.confirmation_required else "false")
        if self.description:
            _sub(root, "Description", self.description)
        manifest = etree.SubElement(root, "Manifest")
        location = etree.SubElement(manifest, "Location")
        etag = self.manifest_etag.strip('"')
        _sub(location, "ETag", f'"{etag}"')
        _sub(location, "ObjectArn", str(self.manifest))
        if self.manifest_version_id:
            _sub(location, "ObjectVersionId", self.manifest_version_id)
        spec = etree.SubElement(manifest, "Spec")
        fields = etree.SubElement(spec, "Fields")
        for name in self.fields:
            _sub(fields, "member", name)
        _sub(spec, "Format", MANIFEST_FORMAT)
        operation = etree.SubElement(root, "Operation")
        operation.append(self.operation.element())
        _sub(root, "Priority", str(self.priority))
        report = etree.SubElement(root, "Report")
        _sub(report, "Bucket", str(self.report.bucket))
        _sub(report, "Enabled", "true" if self.report.enabled else "false")
        _sub(report, "Format", REPORT_FORMAT)
        _sub(report, "Prefix", self.report.prefix)
        _sub(report, "ReportScope", self.report.scope)
        _sub(root, "RoleArn", self.role_arn)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def job_request(
    *,
    token: object,
    manifest_bucket: str,
    manifest_region: str,
    manifest_key: str,
    manifest_etag: object,
    operation: CopyOperation,
    report: ReportSpec,
    role_arn: object,
    priority: object = 10,
    description: object = "",
    confirmation_required: object = True,
    with_versions: bool = False,
) -> JobRequest:
    _bytes_max(token, "client_request_token", limits.MAX_JOB_TOKEN_BYTES, minimum=1)
    validation.validate_key(manifest_key, "manifest_key")
    bucket = bucket_arn(manifest_bucket, manifest_region, "manifest_bucket")
    manifest = Arn(bucket.region, bucket.bucket, manifest_key)
    if not isinstance(manifest_etag, str) or not manifest_etag.strip('"'):
        raise CosValidationError("manifest_etag", "must be the manifest object's ETag")
    uin_of_role(role_arn)
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 0 <= priority <= limits.MAX_JOB_PRIORITY
    ):
        raise CosValidationError(
            "priority", f"must be an integer 0-{limits.MAX_JOB_PRIORITY}, got {priority!r}"
        )
    _bytes_max(description, "description", limits.MAX_JOB_DESCRIPTION_BYTES)
    validation.validate_bool(confirmation_required, "confirmation_required")
    return JobRequest(
        token=str(token),
        manifest=manifest,
        manifest_etag=manifest_etag,
        fields=manifest_fields(with_versions),
        operation=operation,
        report=report,
        role_arn=str(role_arn),
        priority=priority,
        description=str(description),
        confirmation_required=bool(confirmation_required),
    )


def _sub(parent: etree._Element, name: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, name)
    el.text = text
    return el


def _key_values(parent: etree._Element, name: str, item: str, pairs: tuple[tuple[str, str], ...]) -> None:
    """``<name><item><Key/><Value/></item>...</name>``: the job's spelling of user metadata and of tags."""
    wrapper = etree.SubElement(parent, name)
    for key, value in pairs:
        member = etree.SubElement(wrapper, item)
        _sub(member, "Key", key)
        _sub(member, "Value", value)
