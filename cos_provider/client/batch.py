"""COS Batch Operations jobs, sans-IO: the control endpoint, ARNs, the manifest CSV, the job XML.

A job is created, described, listed and cancelled on the account's control
endpoint, ``<UIN>.cos-control.<region>.myqcloud.com`` (the owner UIN, not the
APPID), with the normal COS signature plus a signed ``x-cos-appid`` header
(``cos-data-plane.md §9``). Every builder here validates its input and names
the field before anything is sent; the emulator uses the same ARN, host,
manifest-line and report-key helpers, so client and emulator cannot drift.

Decisions where the documentation is silent (marked *unverified* there):

* manifest keys are URL-encoded (``quote``, ``/`` kept), as S3 Batch requires:
  a key holding ``,``, a quote, a newline or non-ASCII then stays one CSV
  field on one line;
* the completion report follows S3 Batch's layout, which COS mirrors:
  ``<prefix>/job-<JobId>/manifest.json`` lists result CSVs whose columns are
  ``Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode,
  ResultMessage``. Counts are read from DescribeJob first; the report is
  parsed defensively (:func:`parse_report_manifest`, :func:`count_report_rows`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from lxml import etree

from cos_provider.client import limits, validation
from cos_provider.client import tagging as tag_rules
from cos_provider.client.endpoints import full_bucket_name, validate_app_id
from cos_provider.client.errors import CosValidationError
from cos_provider.client.protocol import Call, CosRequest, RawResponse
from cos_provider.client.xmlcodec import XmlDecodeError, _children, _expect, _int, _opt, _root, _text

CONTROL_DOMAIN = "myqcloud.com"
_CONTROL_HOST = re.compile(r"^(?P<uin>[0-9]{1,20})\.cos-control\.(?P<region>[a-z0-9-]+)\.myqcloud\.com$")
_UIN = re.compile(r"^[0-9]{1,20}$")
_REGION = re.compile(r"^[a-z0-9-]+$")
_ARN = re.compile(
    r"^qcs::cos:(?P<region>[a-z0-9-]+):(?:uid/(?P<appid>[0-9]+))?:"
    r"(?P<bucket>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+)(?:/(?P<key>.+))?$",
    re.DOTALL,
)
_ROLE_ARN = re.compile(r"^qcs::cam::uin/(?P<uin>[0-9]{1,20}):roleName/(?P<name>[A-Za-z0-9_+=,.@-]{1,128})$")
_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")

MANIFEST_FORMAT = "COSBatchOperations_CSV_V1"
INVENTORY_FORMAT = "COSInventoryReport_CSV_V1"
MANIFEST_FIELDS = frozenset({"Ignore", "Bucket", "Key", "VersionId"})
REPORT_FORMAT = "Report_CSV_V1"
REPORT_SCOPES = frozenset({"AllTasks", "FailedTasksOnly"})
REPORT_COLUMNS = ("Bucket", "Key", "VersionId", "TaskStatus", "ErrorCode", "HTTPStatusCode", "ResultMessage")
REQUESTABLE_STATUSES = frozenset({"Ready", "Cancelled"})
_MANIFEST_SAFE = "/-_.~"


# ---------------------------------------------------------------- names: hosts and ARNs


def _uin(value: object, field: str = "uin") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _UIN.match(value):
        raise CosValidationError(
            field, f"must be the numeric account UIN such as '100000000001', got {value!r}"
        )
    return value


def _region(value: object, field: str = "region") -> str:
    if not isinstance(value, str) or not _REGION.match(value):
        raise CosValidationError(field, f"must be a COS region such as 'ap-guangzhou', got {value!r}")
    return value


def control_host(uin: object, region: object) -> str:
    """``<UIN>.cos-control.<region>.myqcloud.com``: where the job API of an account lives."""
    return f"{_uin(uin)}.cos-control.{_region(region)}.{CONTROL_DOMAIN}"


def parse_control_host(host: str) -> tuple[str, str] | None:
    """``(uin, region)`` of a control-endpoint Host (port ignored); ``None`` if it is not one."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    m = _CONTROL_HOST.match(name.lower())
    return (m.group("uin"), m.group("region")) if m else None


@dataclass(frozen=True)
class Arn:
    """A COS resource name: ``qcs::cos:<region>:[uid/<appid>]:<bucket>[/<key>]``."""

    region: str
    bucket: str
    key: str | None = None
    app_id: str | None = None

    def __str__(self) -> str:
        uid = f"uid/{self.app_id}" if self.app_id else ""
        text = f"qcs::cos:{self.region}:{uid}:{self.bucket}"
        return f"{text}/{self.key}" if self.key else text


def parse_arn(value: object, field: str = "arn") -> Arn:
    if not isinstance(value, str) or not _ARN.match(value):
        raise CosValidationError(
            field, f"must be a COS ARN such as 'qcs::cos:ap-beijing::examplebucket-1250000000', got {value!r}"
        )
    if len(value.encode("utf-8")) > limits.MAX_JOB_ARN_BYTES:
        raise CosValidationError(field, f"must be at most {limits.MAX_JOB_ARN_BYTES} bytes")
    m = _ARN.match(value)
    assert m is not None
    return Arn(m.group("region"), m.group("bucket"), m.group("key"), m.group("appid"))


def bucket_arn(bucket: str, region: object, field: str = "bucket") -> Arn:
    try:
        full = full_bucket_name(bucket)
    except CosValidationError as exc:
        raise CosValidationError(field, exc.rule) from None
    return Arn(_region(region, f"{field} region"), full)


def uin_of_role(role_arn: object, field: str = "role_arn") -> str:
    """The account UIN a CAM role ARN names (``qcs::cam::uin/<uin>:roleName/<name>``)."""
    if not isinstance(role_arn, str):
        raise CosValidationError(field, f"must be a string, got {type(role_arn).__name__}")
    m = _ROLE_ARN.match(role_arn)
    if not m:
        raise CosValidationError(
            field,
            f"{role_arn!r} must look like 'qcs::cam::uin/100000000001:roleName/COS_Batch_QcsRole' "
            "(the CAM role COS assumes to run the job)",
        )
    return m.group("uin")


def validate_job_id(job_id: object, field: str = "job_id") -> str:
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise CosValidationError(field, f"must be a job id of 1-64 letters, digits and '-', got {job_id!r}")
    return job_id


def _bytes_max(value: object, field: str, maximum: int, *, minimum: int = 0) -> str:
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    size = len(value.encode("utf-8"))
    if not minimum <= size <= maximum:
        raise CosValidationError(field, f"must be {minimum}-{maximum} bytes, got {size}")
    return value


# ---------------------------------------------------------------- the manifest CSV


def manifest_line(bucket: str, key: str, version_id: str | None = None) -> str:
    """One ``COSBatchOperations_CSV_V1`` line (``Bucket,Key[,VersionId]``), key URL-encoded, with ``\\n``."""
    fields = [bucket, quote(key, safe=_MANIFEST_SAFE)]
    if version_id is not None:
        fields.append(quote(version_id, safe=_MANIFEST_SAFE))
    return ",".join(fields) + "\n"


def manifest_fields(with_versions: bool) -> tuple[str, ...]:
    return ("Bucket", "Key", "VersionId") if with_versions else ("Bucket", "Key")


def parse_manifest_line(line: str, fields: Sequence[str]) -> tuple[str, str, str | None]:
    """``(bucket, key, version_id)`` of a manifest line; ``ValueError`` if it does not fit ``fields``."""
    values = line.rstrip("\r\n").split(",")
    if len(values) != len(fields):
        raise ValueError(f"has {len(values)} columns, the manifest spec names {len(fields)}")
    row = dict(zip(fields, values, strict=True))
    bucket, key = row.get("Bucket", ""), unquote(row.get("Key", ""))
    if not bucket or not key:
        raise ValueError("has no bucket or no key")
    version = row.get("VersionId")
    return bucket, key, unquote(version) if version else None


# ---------------------------------------------------------------- CreateJob


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


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class JobDescription:
    """DescribeJob's ``Job``: status, progress and why it failed; ``to_dict()`` is JSON-able."""

    job_id: str
    status: str
    total: int | None = None
    succeeded: int = 0
    failed: int = 0
    failure_reasons: tuple[tuple[str, str], ...] = ()
    status_update_reason: str | None = None
    description: str = ""
    priority: int | None = None
    confirmation_required: bool = False
    creation_time: str | None = None
    termination_date: str | None = None
    report_bucket: str | None = None
    report_prefix: str = ""
    report_enabled: bool = False
    report_scope: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in limits.BATCH_TERMINAL_STATUSES

    def reasons_text(self) -> str:
        """The failure reasons as one line: ``Code: reason; Code: reason`` (or the status update reason)."""
        parts = [f"{code}: {reason}" if code else reason for code, reason in self.failure_reasons]
        if not parts and self.status_update_reason:
            parts.append(self.status_update_reason)
        return "; ".join(parts) or "no reason given"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "failure_reasons": [list(r) for r in self.failure_reasons],
            "status_update_reason": self.status_update_reason,
            "termination_date": self.termination_date,
        }


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    status: str
    description: str = ""
    priority: int | None = None
    operation: str | None = None
    total: int | None = None
    succeeded: int = 0
    failed: int = 0
    creation_time: str | None = None
    termination_date: str | None = None


@dataclass(frozen=True)
class JobsPage:
    jobs: tuple[JobSummary, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class JobStatusUpdate:
    job_id: str
    status: str
    status_update_reason: str | None = None


def _progress(job: etree._Element) -> tuple[int | None, int, int]:
    for p in _children(job, "ProgressSummary"):
        return (
            _int(_opt(p, "TotalNumberOfTasks")),
            _int(_opt(p, "NumberOfTasksSucceeded")) or 0,
            _int(_opt(p, "NumberOfTasksFailed")) or 0,
        )
    return None, 0, 0


def _single(root: etree._Element, name: str) -> etree._Element:
    for el in _children(root, name):
        return el
    raise XmlDecodeError(f"<{name}> is missing")


def _required(el: etree._Element, name: str) -> str:
    value = _text(el, name)
    if not value:
        raise XmlDecodeError(f"<{name}> is missing or empty")
    return value


def parse_create_job(body: bytes) -> str:
    root = _root(body)
    _expect(root, "CreateJobResult")
    return _required(root, "JobId")


def parse_describe_job(body: bytes) -> JobDescription:
    root = _root(body)
    _expect(root, "DescribeJobResult")
    job = _single(root, "Job")
    total, succeeded, failed = _progress(job)
    reasons: list[tuple[str, str]] = []
    for group in _children(job, "FailureReasons"):
        for failure in _children(group, "JobFailure"):
            reasons.append((_text(failure, "FailureCode"), _text(failure, "FailureReason")))
    report_bucket, report_prefix_, enabled, scope = None, "", False, None
    for report in _children(job, "Report"):
        report_bucket = _opt(report, "Bucket")
        report_prefix_ = _text(report, "Prefix")
        enabled = _text(report, "Enabled").lower() == "true"
        scope = _opt(report, "ReportScope")
    status = _required(job, "Status")
    if status not in limits.BATCH_JOB_STATUSES:
        raise XmlDecodeError(f"unknown job status {status!r}")
    return JobDescription(
        job_id=_required(job, "JobId"),
        status=status,
        total=total,
        succeeded=succeeded,
        failed=failed,
        failure_reasons=tuple(reasons),
        status_update_reason=_opt(job, "StatusUpdateReason") or None,
        description=_text(job, "Description"),
        priority=_int(_opt(job, "Priority")),
        confirmation_required=_text(job, "ConfirmationRequired").lower() == "true",
        creation_time=_opt(job, "CreationTime"),
        termination_date=_opt(job, "TerminationDate") or None,
        report_bucket=report_bucket,
        report_prefix=report_prefix_,
        report_enabled=enabled,
        report_scope=scope,
    )


def parse_list_jobs(body: bytes) -> JobsPage:
    root = _root(body)
    _expect(root, "ListJobsResult")
    jobs: list[JobSummary] = []
    for group in _children(root, "Jobs"):
        for member in _children(group, "member"):
            total, succeeded, failed = _progress(member)
            operation = None
            for op in _children(member, "Operation"):
                operation = (op.text or "").strip() or next((etree.QName(c).localname for c in op), None)
            jobs.append(
                JobSummary(
                    job_id=_required(member, "JobId"),
                    status=_required(member, "Status"),
                    description=_text(member, "Description"),
                    priority=_int(_opt(member, "Priority")),
                    operation=operation,
                    total=total,
                    succeeded=succeeded,
                    failed=failed,
                    creation_time=_opt(member, "CreationTime"),
                    termination_date=_opt(member, "TerminationDate") or None,
                )
            )
    return JobsPage(tuple(jobs), _opt(root, "NextToken") or None)


def parse_update_job_status(body: bytes) -> JobStatusUpdate:
    root = _root(body)
    _expect(root, "UpdateJobStatusResult")
    return JobStatusUpdate(
        _required(root, "JobId"), _required(root, "Status"), _opt(root, "StatusUpdateReason") or None
    )


# ---------------------------------------------------------------- the calls


@dataclass(frozen=True)
class ControlEndpoint:
    """Whose job API, in which region: the UIN and region of the host, and the ``x-cos-appid``."""

    uin: str
    region: str
    app_id: str

    @classmethod
    def of(cls, uin: object, region: object, app_id: object) -> ControlEndpoint:
        appid = validate_app_id(app_id)
        if appid is None:
            raise CosValidationError("app_id", "is required for Batch Operations (sent as x-cos-appid)")
        return cls(_uin(uin), _region(region), appid)

    @property
    def host(self) -> str:
        return control_host(self.uin, self.region)

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> CosRequest:
        headers = {"x-cos-appid": self.app_id}
        if body:
            headers["Content-Type"] = "application/xml"
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
        return CosRequest(
            operation=operation,
            method=method,
            bucket="",
            key=path,
            params=dict(params or {}),
            headers=headers,
            body=body,
            region=self.region,
            host=self.host,
        )


def _body(parse: Any) -> Any:
    def read(r: RawResponse) -> Any:
        return parse(r.body)

    return read


def create_job(control: ControlEndpoint, request: JobRequest) -> Call[str]:
    return Call(control.request("CreateJob", "POST", "jobs", body=request.to_xml()), _body(parse_create_job))


def describe_job(control: ControlEndpoint, job_id: str) -> Call[JobDescription]:
    path = f"jobs/{validate_job_id(job_id)}"
    return Call(control.request("DescribeJob", "GET", path), _body(parse_describe_job))


def list_jobs(
    control: ControlEndpoint,
    statuses: Iterable[str] = (),
    max_results: int = limits.MAX_LIST_JOBS,
    next_token: str | None = None,
) -> Call[JobsPage]:
    wanted = list(statuses)
    for status in wanted:
        if status not in limits.BATCH_JOB_STATUSES:
            raise CosValidationError("job_statuses", f"{status!r} is not a job status")
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= limits.MAX_LIST_JOBS
    ):
        raise CosValidationError(
            "max_results", f"must be an integer 1-{limits.MAX_LIST_JOBS}, got {max_results!r}"
        )
    params: dict[str, str] = {"maxResults": str(max_results)}
    if wanted:
        params["jobStatuses"] = ",".join(wanted)
    if next_token:
        params["nextToken"] = next_token
    return Call(control.request("ListJobs", "GET", "jobs", params=params), _body(parse_list_jobs))


def update_job_status(
    control: ControlEndpoint, job_id: str, status: str, reason: str | None = None
) -> Call[JobStatusUpdate]:
    if status not in REQUESTABLE_STATUSES:
        raise CosValidationError("requested_job_status", f"must be Ready or Cancelled, got {status!r}")
    params = {"requestedJobStatus": status}
    if reason:
        params["statusUpdateReason"] = _bytes_max(
            reason, "status_update_reason", limits.MAX_JOB_STATUS_REASON_BYTES
        )
    path = f"jobs/{validate_job_id(job_id)}/status"
    return Call(
        control.request("UpdateJobStatus", "POST", path, params=params), _body(parse_update_job_status)
    )


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class ReportFile:
    key: str
    status: str
    """``succeeded`` or ``failed`` (S3's ``TaskExecutionStatus``), as the report's manifest says."""


@dataclass
class ReportCounts:
    succeeded: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    """The first failed rows (bucket, key, code, HTTP status, message), for the log and XCom."""


def parse_report_manifest(body: bytes, bucket: str) -> list[ReportFile]:
    """The result CSVs that a report's ``manifest.json`` lists (in ``bucket``, the report bucket)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the report manifest is not JSON: {exc}") from exc
    results = data.get("Results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValueError("the report manifest has no Results list")
    files: list[ReportFile] = []
    for entry in results:
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
            raise ValueError("a Results entry of the report manifest has no Key")
        if entry.get("Bucket") not in (None, bucket):
            raise ValueError(f"the report manifest names another bucket: {entry.get('Bucket')!r}")
        files.append(ReportFile(entry["Key"], str(entry.get("TaskExecutionStatus", ""))))
    return files


def count_report_rows(body: bytes, counts: ReportCounts, keep_failures: int = 20) -> None:
    """Add one result CSV's rows to ``counts`` (``TaskStatus`` column: succeeded / failed)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    for row in reader:
        if not row:
            continue
        if len(row) < 4:
            raise ValueError(f"a report row has {len(row)} columns, expected {len(REPORT_COLUMNS)}")
        status = row[3].strip().lower()
        if status == "succeeded":
            counts.succeeded += 1
        elif status == "failed":
            counts.failed += 1
            if len(counts.failures) < keep_failures:
                padded = [*row, "", "", ""]
                counts.failures.append(
                    {
                        "bucket": row[0],
                        "key": unquote(row[1]),
                        "error_code": padded[4],
                        "http_status": padded[5],
                        "message": padded[6],
                    }
                )
        else:
            raise ValueError(f"a report row has TaskStatus {row[3]!r}")


def report_row(
    bucket: str,
    key: str,
    version_id: str | None,
    ok: bool,
    code: str = "",
    http: int = 200,
    message: str = "",
) -> list[str]:
    """One report CSV row (for the emulator, which writes what the client reads)."""
    return [
        bucket,
        quote(key, safe=_MANIFEST_SAFE),
        version_id or "",
        "succeeded" if ok else "failed",
        code,
        str(http),
        message,
    ]
