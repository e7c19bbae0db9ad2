"""Batch Operations: the job API of the control endpoint, and jobs that run in the background.

Requests to ``<UIN>.cos-control.<region>.myqcloud.com`` are routed here by
:func:`route` (the server checks the signature first, as for every COS
request). A job's copies run on its own thread at a modelled rate,
:attr:`JobBook.rate` objects per second, reading the CSV manifest line by
line, and the completion report is written to the report bucket when the
job ends. Operations: ``CreateJob``, ``DescribeJob``, ``ListJobs``,
``UpdateJobStatus`` (``UpdateJobPriority`` is 501).

Decisions where the documentation is silent (``cos-data-plane.md §9``):

* the Host's UIN must be the emulator's owner UIN (else 403 ``AccessDenied``),
  and ``x-cos-appid`` (digits) is required (400 ``InvalidRequest``);
* CreateJob checks, before answering, that the manifest object exists with
  the given ETag, that the manifest, destination and report buckets exist in
  the regions their ARNs name, and that the manifest bucket is in the control
  endpoint's region (400 ``InvalidRequest`` naming the element); anything not
  well-formed is 400 ``MalformedXML``; a repeated ``ClientRequestToken`` is
  400 ``InvalidRequest`` "duplicate request";
* statuses: ``New`` -> ``Preparing`` -> ``Suspended`` (confirmation required,
  until UpdateJobStatus ``Ready``) or ``Ready`` -> ``Active`` -> ``Completing``
  -> ``Complete``; ``Cancelled`` is accepted from any non-terminal status
  (through ``Cancelling`` while a task is in flight); ``Ready`` only from
  ``Suspended``; anything else is 400 ``InvalidRequest``. An unknown job is 404
  ``NoSuchJob``;
* a task whose source is missing fails (``404 NoSuchKey``), one whose source is
  archived fails (``403 InvalidObjectState``); the job fails
  (``TaskFailureThresholdExceeded``, S3's rule) once at least
  ``min(total, 1000)`` tasks ran and more than half of them failed; a manifest
  line that does not fit its ``Fields`` fails the job
  (``ManifestFormatInvalid``). :meth:`JobBook.inject_failure` makes the next
  job (or a given one) fail after some tasks with a chosen code and reason;
* the report (if enabled) is written when the job ends - Complete, Failed or
  Cancelled - as S3 Batch writes it (``client/batch/``):
  ``<prefix>/job-<id>/manifest.json`` plus ``results/succeeded.csv`` and/or
  ``results/failed.csv``;
* job tasks are not HTTP requests: they do not appear in the request counters;
  :meth:`JobBook.stats` counts them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from cos_provider.client import limits
from cos_provider.client.batch import (
    MANIFEST_FIELDS,
    MANIFEST_FORMAT,
    REPORT_FORMAT,
    REPORT_SCOPES,
    Arn,
    parse_arn,
    parse_control_host,
    parse_manifest_line,
    report_prefix,
    report_row,
    uin_of_role,
)
from cos_provider.client.errors import CosValidationError
from cos_provider.emulator.content import Content
from cos_provider.emulator.errors import CosError, invalid_request
from cos_provider.emulator.store import Bucket, ObjectAttrs, ObjectVersion
from cos_provider.emulator.wire import Request, Response
from cos_provider.emulator.xmlout import DECLARATION, iso8601

if TYPE_CHECKING:
    from cos_provider.emulator.core import Core
    from cos_provider.emulator.faults import Fault

Handler = Callable[["Core", Request, "Fault | None"], Response]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
FAILURE_THRESHOLD_MIN_TASKS = 1000
TICK = 0.01
"""Seconds between a running job's batches of tasks (the rate is kept on average)."""


# ---------------------------------------------------------------- state


@dataclass
class CopySpec:
    target: Arn
    storage_class: str = "STANDARD"
    acl_directive: str | None = None
    acl: str | None = None
    metadata_directive: str = "Copy"
    content: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    sse: str | None = None
    tagging_directive: str = "Copy"
    tags: tuple[tuple[str, str], ...] = ()
    prefix_replace: bool = False
    resources_prefix: str = ""
    target_key_prefix: str = ""

    def dest_key(self, key: str) -> str:
        if self.prefix_replace and key.startswith(self.resources_prefix):
            return self.target_key_prefix + key[len(self.resources_prefix) :]
        return key


@dataclass
class Job:
    job_id: str
    token: str
    priority: int
    description: str
    confirmation_required: bool
    manifest: Arn
    manifest_etag: str
    fields: tuple[str, ...]
    copy: CopySpec
    operation_xml: bytes
    report_bucket: Arn
    report_enabled: bool
    report_prefix: str
    report_scope: str
    role_arn: str
    created: float = field(default_factory=time.time)
    status: str = "New"
    status_update_reason: str | None = None
    terminated: float | None = None
    total: int | None = None
    succeeded: int = 0
    failed: int = 0
    failure_reasons: list[tuple[str, str]] = field(default_factory=list)
    results: list[list[str]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    confirmed: threading.Event = field(default_factory=threading.Event)
    injected: tuple[int, str, str] | None = None
    history: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    @property
    def terminal(self) -> bool:
        return self.status in limits.BATCH_TERMINAL_STATUSES


class JobBook:
    """Every job of the emulator, and the model of how fast they run."""

    DEFAULT_RATE = 1000.0

    def __init__(self, rate: float = DEFAULT_RATE) -> None:
        self.lock = threading.RLock()
        self.rate = rate
        """Tasks (objects) per second of one job; a model setting."""
        self.jobs: dict[str, Job] = {}
        self.tokens: set[str] = set()
        self._pending_failure: tuple[int, str, str] | None = None
        self._counter = itertools.count(1)
        self.tasks_run = 0

    def set_rate(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError("the batch rate must be > 0 objects/s")
        self.rate = float(rate)

    def inject_failure(
        self,
        code: str = "InternalError",
        reason: str = "The job failed (injected by the emulator).",
        *,
        after_tasks: int = 0,
        job_id: str | None = None,
    ) -> None:
        """Fail ``job_id`` (or the next job created) once ``after_tasks`` tasks ran, with this reason."""
        with self.lock:
            if job_id is None:
                self._pending_failure = (after_tasks, code, reason)
                return
            self.jobs[job_id].injected = (after_tasks, code, reason)

    def job(self, job_id: str) -> Job:
        with self.lock:
            found = self.jobs.get(job_id)
        if found is None:
            raise CosError(404, "NoSuchJob", f"The specified job {job_id} does not exist.")
        return found

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "rate": self.rate,
                "tasks_run": self.tasks_run,
                "jobs": {
                    j.job_id: {
                        "status": j.status,
                        "succeeded": j.succeeded,
                        "failed": j.failed,
                        "total": j.total,
                    }
                    for j in self.jobs.values()
                },
            }

    def status_history(self, job_id: str) -> list[str]:
        """Every status ``job_id`` went through, in order (tests assert transitions with it)."""
        with self.lock:
            found = self.jobs.get(job_id)
            return list(found.history) if found is not None else []

    def reset(self) -> None:
        self.shutdown()
        with self.lock:
            self.jobs.clear()
            self.tokens.clear()
            self._pending_failure = None
            self.tasks_run = 0
            self.rate = self.DEFAULT_RATE

    def shutdown(self) -> None:
        """Stop every running job's thread (the emulator is stopping or being reset)."""
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            job.cancel.set()
            job.confirmed.set()
        for job in jobs:
            if job.thread is not None and job.thread is not threading.current_thread():
                job.thread.join(timeout=5)

    def _add(self, job: Job) -> None:
        with self.lock:
            if job.token in self.tokens:
                raise invalid_request("duplicate request: this ClientRequestToken was already used")
            self.tokens.add(job.token)
            job.injected, self._pending_failure = self._pending_failure, None
            self.jobs[job.job_id] = job


def _set_status(job: Job, status: str, reason: str | None = None) -> None:
    job.status = status
    if reason is not None:
        job.status_update_reason = reason
    if status in limits.BATCH_TERMINAL_STATUSES:
        job.terminated = time.time()
    job.history.append(status)


# ---------------------------------------------------------------- routing


def route(req: Request) -> tuple[str, Handler] | None:
    """The job operation of a control-endpoint request; ``None`` if the Host is not a control host."""
    control = parse_control_host(req.host)
    if control is None:
        return None
    req.region = control[1]
    req.key = ""
    path, method = req.path, req.method
    if path == "/jobs":
        if method == "POST":
            return "CreateJob", create_job
        if method == "GET":
            return "ListJobs", list_jobs
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "jobs" and parts[2] and method == "GET":
        return "DescribeJob", describe_job
    if len(parts) == 4 and parts[1] == "jobs" and parts[3] == "status" and method == "POST":
        return "UpdateJobStatus", update_job_status
    if len(parts) == 4 and parts[1] == "jobs" and parts[3] == "priority" and method == "POST":
        return "UpdateJobPriority", _not_implemented
    return "Unknown", _not_implemented


def _not_implemented(core: Core, req: Request, fault: Fault | None) -> Response:
    raise CosError(501, "NotImplemented", f"The emulator does not implement {req.method} {req.path}.")


def _account(core: Core, req: Request) -> str:
    control = parse_control_host(req.host)
    assert control is not None
    uin, region = control
    if uin != core.owner_uin:
        raise CosError(403, "AccessDenied", f"UIN {uin} in the Host is not the account of these credentials.")
    appid = req.header("x-cos-appid")
    if not appid or not appid.isdigit() or len(appid) > 64:
        raise invalid_request("the x-cos-appid header (the account's APPID, digits) is required")
    return region


def _xml(root: etree._Element) -> Response:
    body = DECLARATION.encode() + etree.tostring(root, encoding="UTF-8")
    return Response.xml(body)


# ---------------------------------------------------------------- CreateJob


def _malformed(message: str) -> CosError:
    return CosError(400, "MalformedXML", message)


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if isinstance(c.tag, str) and etree.QName(c).localname == name:
            return c
    return None


def _text(el: etree._Element, name: str, *, required: bool = True) -> str | None:
    c = _child(el, name)
    if c is None:
        if required:
            raise _malformed(f"<{name}> is required in <{etree.QName(el).localname}>")
        return None
    return (c.text or "").strip()


def _bool(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value not in ("true", "false"):
        raise _malformed(f"<{name}> must be true or false, got {value!r}")
    return value == "true"


def _arn(value: str | None, name: str) -> Arn:
    try:
        return parse_arn(value, name)
    except CosValidationError as exc:
        raise _malformed(f"<{name}>: {exc.rule}") from None


def _bucket(core: Core, arn: Arn, name: str) -> Bucket:
    try:
        bucket = core.store.bucket(arn.bucket)
    except CosError:
        raise invalid_request(f"<{name}>: bucket {arn.bucket} does not exist") from None
    if bucket.region != arn.region:
        raise invalid_request(f"<{name}>: bucket {arn.bucket} is in {bucket.region}, not {arn.region}")
    return bucket


def _directive(value: str | None, name: str, default: str | None = None) -> str | None:
    if value is None or value == "":
        return default
    if value not in limits.BATCH_DIRECTIVES:
        raise _malformed(f"<{name}> must be Copy, Replaced or Add, got {value!r}")
    return value


_CONTENT = {
    "CacheControl": "cache_control",
    "ContentDisposition": "content_disposition",
    "ContentEncoding": "content_encoding",
    "ContentType": "content_type",
    "HttpExpiresDate": "expires",
}


def _copy_spec(core: Core, op: etree._Element) -> CopySpec:
    target = _arn(_text(op, "TargetResource"), "TargetResource")
    _bucket(core, target, "TargetResource")
    storage = _text(op, "StorageClass", required=False) or "STANDARD"
    if storage not in limits.BATCH_COPY_STORAGE_CLASSES:
        raise _malformed(f"<StorageClass> must be STANDARD or STANDARD_IA, got {storage!r}")
    acl = _text(op, "CannedAccessControlList", required=False) or None
    if acl is not None and acl not in limits.BATCH_CANNED_ACLS:
        raise _malformed(f"<CannedAccessControlList> must be private or public-read, got {acl!r}")
    spec = CopySpec(
        target=target,
        storage_class=storage,
        acl_directive=_directive(
            _text(op, "AccessControlDirective", required=False), "AccessControlDirective"
        ),
        acl=acl,
        metadata_directive=_directive(
            _text(op, "MetadataDirective", required=False), "MetadataDirective", "Copy"
        )
        or "Copy",
        tagging_directive=_directive(
            _text(op, "TaggingDirective", required=False), "TaggingDirective", "Copy"
        )
        or "Copy",
    )
    meta = _child(op, "NewObjectMetadata")
    if meta is not None:
        for element, attr in _CONTENT.items():
            value = _text(meta, element, required=False)
            if value:
                spec.content[attr] = value
        sse = _text(meta, "SSEAlgorithm", required=False)
        if sse:
            if sse != "AES256":
                raise _malformed(f"<SSEAlgorithm> must be AES256, got {sse!r}")
            spec.sse = sse
        user = _child(meta, "UserMetadata")
        for member in user if user is not None else []:
            key, value = _text(member, "Key"), _text(member, "Value")
            if not key:
                raise _malformed("<UserMetadata><member><Key> must not be empty")
            spec.metadata[key.lower()] = value or ""
    tagging = _child(op, "NewObjectTagging")
    if tagging is not None:
        spec.tags = tuple((_text(t, "Key") or "", _text(t, "Value") or "") for t in tagging)
        if len(spec.tags) > limits.MAX_TAGS:
            raise _malformed(f"<NewObjectTagging> holds more than {limits.MAX_TAGS} tags")
    spec.prefix_replace = _bool(_text(op, "PrefixReplace", required=False), "PrefixReplace")
    if spec.prefix_replace:
        spec.resources_prefix = _text(op, "ResourcesPrefix", required=False) or ""
        spec.target_key_prefix = _text(op, "TargetKeyPrefix", required=False) or ""
        for name, value in (
            ("ResourcesPrefix", spec.resources_prefix),
            ("TargetKeyPrefix", spec.target_key_prefix),
        ):
            if len(value.encode()) > limits.MAX_JOB_PREFIX_BYTES:
                raise _malformed(f"<{name}> is longer than {limits.MAX_JOB_PREFIX_BYTES} bytes")
    return spec


def create_job(core: Core, req: Request, fault: Fault | None) -> Response:
    region = _account(core, req)
    try:
        root = etree.fromstring(req.body.strip(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _malformed(f"the body is not XML: {exc}") from None
    if etree.QName(root).localname != "CreateJobRequest":
        raise _malformed("the root element must be <CreateJobRequest>")
    token = _text(root, "ClientRequestToken") or ""
    if not 1 <= len(token.encode()) <= limits.MAX_JOB_TOKEN_BYTES:
        raise invalid_request(f"<ClientRequestToken> must be 1-{limits.MAX_JOB_TOKEN_BYTES} bytes")
    priority_text = _text(root, "Priority") or ""
    if not priority_text.isdigit() or int(priority_text) > limits.MAX_JOB_PRIORITY:
        raise invalid_request(
            f"<Priority> must be an integer 0-{limits.MAX_JOB_PRIORITY}, got {priority_text!r}"
        )
    description = _text(root, "Description", required=False) or ""
    if len(description.encode()) > limits.MAX_JOB_DESCRIPTION_BYTES:
        raise invalid_request(f"<Description> is longer than {limits.MAX_JOB_DESCRIPTION_BYTES} bytes")
    role_arn = _text(root, "RoleArn") or ""
    try:
        role_uin = uin_of_role(role_arn, "RoleArn")
    except CosValidationError as exc:
        raise _malformed(f"<RoleArn>: {exc.rule}") from None
    if role_uin != core.owner_uin:
        raise CosError(403, "AccessDenied", f"<RoleArn> names account {role_uin}, not {core.owner_uin}")

    manifest = _child(root, "Manifest")
    location = _child(manifest, "Location") if manifest is not None else None
    spec = _child(manifest, "Spec") if manifest is not None else None
    if location is None or spec is None:
        raise _malformed("<Manifest> must hold <Location> and <Spec>")
    manifest_arn = _arn(_text(location, "ObjectArn"), "ObjectArn")
    if not manifest_arn.key:
        raise _malformed("<ObjectArn> must name an object: qcs::cos:<region>::<bucket>/<key>")
    etag = _text(location, "ETag") or ""
    if not (len(etag) > 2 and etag.startswith('"') and etag.endswith('"')):
        raise invalid_request('<ETag> must be the manifest object\'s ETag in quotes ("...")')
    fmt = _text(spec, "Format")
    if fmt != MANIFEST_FORMAT:
        raise _malformed(f"<Format> must be {MANIFEST_FORMAT} (the emulator reads no inventory reports)")
    fields_el = _child(spec, "Fields")
    fields = tuple((m.text or "").strip() for m in fields_el) if fields_el is not None else ()
    if not fields or any(f not in MANIFEST_FIELDS for f in fields) or not {"Bucket", "Key"} <= set(fields):
        raise _malformed("<Fields> must list Bucket and Key (and optionally VersionId, Ignore)")
    mbucket = _bucket(core, manifest_arn, "ObjectArn")
    if mbucket.region != region:
        raise invalid_request(f"the manifest bucket is in {mbucket.region}; create the job in that region")
    mversion = core.store.version(
        mbucket, manifest_arn.key, _text(location, "ObjectVersionId", required=False) or None
    )
    if mversion is None or mversion.is_delete_marker:
        raise invalid_request(f"<ObjectArn>: the manifest object {manifest_arn.key} does not exist")
    if mversion.etag != etag.strip('"'):
        raise invalid_request(f'<ETag> {etag} is not the manifest object\'s ETag ("{mversion.etag}")')

    operation = _child(root, "Operation")
    ops = [c for c in operation if isinstance(c.tag, str)] if operation is not None else []
    if operation is None or len(ops) != 1:
        raise _malformed("<Operation> must hold exactly one operation")
    if etree.QName(ops[0]).localname != "COSPutObjectCopy":
        raise CosError(501, "NotImplemented", f"the emulator runs COSPutObjectCopy only, not {ops[0].tag}")
    copy = _copy_spec(core, ops[0])

    report = _child(root, "Report")
    if report is None:
        raise _malformed("<Report> is required")
    report_bucket = _arn(_text(report, "Bucket"), "Report/Bucket")
    enabled = _bool(_text(report, "Enabled"), "Enabled")
    if enabled:
        _bucket(core, report_bucket, "Report/Bucket")
    if (_text(report, "Format") or "") != REPORT_FORMAT:
        raise _malformed(f"<Report><Format> must be {REPORT_FORMAT}")
    scope = _text(report, "ReportScope") or ""
    if scope not in REPORT_SCOPES:
        raise _malformed("<ReportScope> must be AllTasks or FailedTasksOnly")
    prefix = _text(report, "Prefix", required=False) or ""
    if len(prefix.encode()) > limits.MAX_JOB_REPORT_PREFIX_BYTES:
        raise invalid_request(f"<Report><Prefix> is longer than {limits.MAX_JOB_REPORT_PREFIX_BYTES} bytes")

    job = Job(
        job_id=str(uuid.uuid4()),
        token=token,
        priority=int(priority_text),
        description=description,
        confirmation_required=_bool(
            _text(root, "ConfirmationRequired", required=False), "ConfirmationRequired"
        ),
        manifest=manifest_arn,
        manifest_etag=etag,
        fields=fields,
        copy=copy,
        operation_xml=etree.tostring(operation),
        report_bucket=report_bucket,
        report_enabled=enabled,
        report_prefix=prefix,
        report_scope=scope,
        role_arn=role_arn,
    )
    content = mversion.content
    assert content is not None
    core.jobs._add(job)
    _set_status(job, "New")
    job.thread = threading.Thread(
        target=_run, args=(core, job, content), name=f"cos-emulator-job-{job.job_id[:8]}", daemon=True
    )
    job.thread.start()
    root_out = etree.Element("CreateJobResult")
    etree.SubElement(root_out, "JobId").text = job.job_id
    return _xml(root_out)


# ---------------------------------------------------------------- the other calls


def _progress(parent: etree._Element, job: Job) -> None:
    p = etree.SubElement(parent, "ProgressSummary")
    etree.SubElement(p, "NumberOfTasksFailed").text = str(job.failed)
    etree.SubElement(p, "NumberOfTasksSucceeded").text = str(job.succeeded)
    etree.SubElement(p, "TotalNumberOfTasks").text = str(job.total if job.total is not None else 0)


def _job_id(req: Request) -> str:
    return req.path.split("/")[2]


def describe_job(core: Core, req: Request, fault: Fault | None) -> Response:
    _account(core, req)
    job = core.jobs.job(_job_id(req))
    with core.jobs.lock:
        root = etree.Element("DescribeJobResult")
        el = etree.SubElement(root, "Job")
        etree.SubElement(el, "ConfirmationRequired").text = "true" if job.confirmation_required else "false"
        etree.SubElement(el, "CreationTime").text = iso8601(job.created)
        etree.SubElement(el, "Description").text = job.description
        if job.failure_reasons:
            reasons = etree.SubElement(el, "FailureReasons")
            for code, reason in job.failure_reasons:
                f = etree.SubElement(reasons, "JobFailure")
                etree.SubElement(f, "FailureCode").text = code
                etree.SubElement(f, "FailureReason").text = reason
        etree.SubElement(el, "JobId").text = job.job_id
        manifest = etree.SubElement(el, "Manifest")
        loc = etree.SubElement(manifest, "Location")
        etree.SubElement(loc, "ETag").text = job.manifest_etag
        etree.SubElement(loc, "ObjectArn").text = str(job.manifest)
        spec = etree.SubElement(manifest, "Spec")
        fields = etree.SubElement(spec, "Fields")
        for name in job.fields:
            etree.SubElement(fields, "member").text = name
        etree.SubElement(spec, "Format").text = MANIFEST_FORMAT
        el.append(etree.fromstring(job.operation_xml))
        etree.SubElement(el, "Priority").text = str(job.priority)
        _progress(el, job)
        report = etree.SubElement(el, "Report")
        etree.SubElement(report, "Bucket").text = str(job.report_bucket)
        etree.SubElement(report, "Enabled").text = "true" if job.report_enabled else "false"
        etree.SubElement(report, "Format").text = REPORT_FORMAT
        etree.SubElement(report, "Prefix").text = job.report_prefix
        etree.SubElement(report, "ReportScope").text = job.report_scope
        etree.SubElement(el, "RoleArn").text = job.role_arn
        etree.SubElement(el, "Status").text = job.status
        if job.status_update_reason:
            etree.SubElement(el, "StatusUpdateReason").text = job.status_update_reason
        if job.terminated is not None:
            etree.SubElement(el, "TerminationDate").text = iso8601(job.terminated)
    return _xml(root)


def list_jobs(core: Core, req: Request, fault: Fault | None) -> Response:
    _account(core, req)
    wanted = {s for s in (req.param("jobStatuses") or "").split(",") if s}
    unknown = sorted(wanted - limits.BATCH_JOB_STATUSES)
    if unknown:
        raise invalid_request(f"jobStatuses: {unknown[0]!r} is not a job status")
    raw_max = req.param("maxResults") or str(limits.MAX_LIST_JOBS)
    if not raw_max.isdigit() or not 1 <= int(raw_max) <= limits.MAX_LIST_JOBS:
        raise invalid_request(f"maxResults must be 1-{limits.MAX_LIST_JOBS}, got {raw_max!r}")
    token = req.param("nextToken") or ""
    with core.jobs.lock:
        jobs = sorted(core.jobs.jobs.values(), key=lambda j: (j.created, j.job_id))
        selected = [j for j in jobs if not wanted or j.status in wanted]
        if token:
            ids = [j.job_id for j in selected]
            if token not in ids:
                raise invalid_request("nextToken is not a token this listing gave")
            selected = selected[ids.index(token) + 1 :]
        page, more = selected[: int(raw_max)], len(selected) > int(raw_max)
        root = etree.Element("ListJobsResult")
        group = etree.SubElement(root, "Jobs")
        for job in page:
            m = etree.SubElement(group, "member")
            etree.SubElement(m, "CreationTime").text = iso8601(job.created)
            etree.SubElement(m, "Description").text = job.description
            etree.SubElement(m, "JobId").text = job.job_id
            etree.SubElement(m, "Operation").text = "COSPutObjectCopy"
            etree.SubElement(m, "Priority").text = str(job.priority)
            _progress(m, job)
            etree.SubElement(m, "Status").text = job.status
            if job.terminated is not None:
                etree.SubElement(m, "TerminationDate").text = iso8601(job.terminated)
        if more:
            etree.SubElement(root, "NextToken").text = page[-1].job_id
    return _xml(root)


def update_job_status(core: Core, req: Request, fault: Fault | None) -> Response:
    _account(core, req)
    job = core.jobs.job(_job_id(req))
    wanted = req.param("requestedJobStatus")
    reason = req.param("statusUpdateReason")
    if reason is not None and len(reason.encode()) > limits.MAX_JOB_STATUS_REASON_BYTES:
        raise invalid_request(f"statusUpdateReason is longer than {limits.MAX_JOB_STATUS_REASON_BYTES} bytes")
    with core.jobs.lock:
        if wanted == "Ready":
            if job.status != "Suspended":
                raise invalid_request(
                    f"job {job.job_id} is {job.status}; only a Suspended job can be made Ready"
                )
            _set_status(job, "Ready", reason)
            job.confirmed.set()
        elif wanted == "Cancelled":
            if job.terminal:
                raise invalid_request(f"job {job.job_id} is already {job.status}")
            _set_status(job, "Cancelling", reason)
            job.cancel.set()
            job.confirmed.set()
        else:
            raise invalid_request(f"requestedJobStatus must be Ready or Cancelled, got {wanted!r}")
        status = job.status
    root = etree.Element("UpdateJobStatusResult")
    etree.SubElement(root, "JobId").text = job.job_id
    etree.SubElement(root, "Status").text = status
    if job.status_update_reason:
        etree.SubElement(root, "StatusUpdateReason").text = job.status_update_reason
    return _xml(root)


# ---------------------------------------------------------------- running a job


def _lines(content: Content) -> Iterator[str]:
    """The manifest's lines, read a block at a time (the manifest is never held as one string)."""
    block, offset, rest = 256 * 1024, 0, b""
    while offset < content.size:
        chunk = content.read(offset, min(content.size, offset + block))
        offset += len(chunk)
        rest += chunk
        *lines, rest = rest.split(b"\n")
        for line in lines:
            if line.strip():
                yield line.decode("utf-8")
    if rest.strip():
        yield rest.decode("utf-8")


def _count_lines(content: Content) -> int:
    return sum(1 for _ in _lines(content))


def _copy_task(
    core: Core, job: Job, bucket_name: str, key: str, version_id: str | None
) -> tuple[int, str, str]:
    """One COSPutObjectCopy task: ``(http status, error code, message)``."""
    from cos_provider.emulator.objects import ARCHIVED  # objects imports core, which imports this module

    try:
        src_bucket = core.store.bucket(bucket_name)
    except CosError:
        return 404, "NoSuchBucket", f"The source bucket {bucket_name} does not exist."
    src = core.store.version(src_bucket, key, version_id)
    if src is None or src.is_delete_marker or src.content is None:
        return 404, "NoSuchKey", "The specified source key does not exist."
    if src.attrs.storage_class in ARCHIVED:
        return 403, "InvalidObjectState", "The source object is archived; restore it before copying."
    spec = job.copy
    dest_bucket = core.store.bucket(spec.target.bucket)
    dest_key = spec.dest_key(key)
    if not dest_key or len(dest_key.encode()) > limits.MAX_KEY_BYTES:
        return 400, "InvalidArgument", f"the destination key {dest_key!r} is not a valid key"
    attrs = _attrs(spec, src)
    etag = src.etag if src.parts_count is None else src.content.range_etag(0, src.size)
    core.store.put(dest_bucket, dest_key, src.content, etag, attrs)
    core.counters.copied(src.size)
    return 200, "", ""


def _attrs(spec: CopySpec, src: ObjectVersion) -> ObjectAttrs:
    if spec.metadata_directive == "Replaced":
        attrs = ObjectAttrs(metadata=dict(spec.metadata), **spec.content)  # type: ignore[arg-type]
    elif spec.metadata_directive == "Add":
        attrs = src.attrs.with_(metadata={**src.attrs.metadata, **spec.metadata}, **spec.content)
    else:
        attrs = src.attrs
    if spec.tagging_directive == "Replaced":
        tags = spec.tags
    elif spec.tagging_directive == "Add":
        merged = dict(src.attrs.tags)
        merged.update(spec.tags)
        tags = tuple(merged.items())
    else:
        tags = src.attrs.tags
    acl = spec.acl if spec.acl_directive in ("Replaced", "Add") else src.attrs.acl
    return attrs.with_(storage_class=spec.storage_class, tags=tags, acl=acl, sse=spec.sse, kms_key_id=None)


def _fail(core: Core, job: Job, code: str, reason: str) -> None:
    with core.jobs.lock:
        job.failure_reasons.append((code, reason))
        _set_status(job, "Failing")


def _run(core: Core, job: Job, manifest: Content) -> None:
    book = core.jobs
    try:
        with book.lock:
            _set_status(job, "Preparing")
        total = _count_lines(manifest)
        with book.lock:
            job.total = total
            if job.cancel.is_set():
                pass
            elif job.confirmation_required:
                _set_status(job, "Suspended")
            else:
                _set_status(job, "Ready")
                job.confirmed.set()
        job.confirmed.wait()
        if not job.cancel.is_set():
            with book.lock:
                _set_status(job, "Active")
            _run_tasks(core, job, manifest, total)
    except Exception as exc:  # a bug: fail the job rather than leave it Active forever
        _fail(core, job, "InternalError", f"emulator error: {exc!r}")
    with book.lock:
        status = job.status
        if status == "Cancelling" or (job.cancel.is_set() and status != "Failing"):
            final = "Cancelled"
        elif status == "Failing":
            final = "Failed"
        else:
            _set_status(job, "Completing")
            final = "Complete"
    _write_report(core, job)
    with book.lock:
        _set_status(job, final)


def _run_tasks(core: Core, job: Job, manifest: Content, total: int) -> None:
    book = core.jobs
    started = time.monotonic()
    done = 0
    lines = _lines(manifest)
    while done < total:
        if job.cancel.wait(0) or job.status == "Failing":
            return
        allowed = min(total, max(1, int((time.monotonic() - started) * book.rate)))
        while done < allowed:
            line = next(lines)
            try:
                bucket, key, version = parse_manifest_line(line, job.fields)
            except ValueError as exc:
                _fail(core, job, "ManifestFormatInvalid", f"manifest line {done + 1} {exc}")
                return
            status, code, message = _copy_task(core, job, bucket, key, version)
            done += 1
            with book.lock:
                book.tasks_run += 1
                if status == 200:
                    job.succeeded += 1
                else:
                    job.failed += 1
                if job.report_enabled and (status != 200 or job.report_scope == "AllTasks"):
                    job.results.append(report_row(bucket, key, version, status == 200, code, status, message))
            if _should_fail(core, job, done, total):
                return
            if job.cancel.is_set():
                return
        if done < total:
            next_at = started + (done + 1) / book.rate
            job.cancel.wait(max(0.0, min(TICK, next_at - time.monotonic())))


def _should_fail(core: Core, job: Job, done: int, total: int) -> bool:
    if job.injected is not None and done >= job.injected[0]:
        _, code, reason = job.injected
        _fail(core, job, code, reason)
        return True
    if done >= min(total, FAILURE_THRESHOLD_MIN_TASKS) and job.failed * 2 > done:
        _fail(
            core,
            job,
            "TaskFailureThresholdExceeded",
            f"{job.failed} of the first {done} tasks failed (more than 50%); the job was stopped",
        )
        return True
    return False


def _write_report(core: Core, job: Job) -> None:
    if not job.report_enabled:
        return
    try:
        bucket = core.store.bucket(job.report_bucket.bucket)
    except CosError:
        return
    base = report_prefix(job.report_prefix, job.job_id)
    results: list[dict[str, str]] = []
    for status in ("succeeded", "failed"):
        rows = [r for r in job.results if r[3] == status]
        if not rows:
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        data = out.getvalue().encode("utf-8")
        key = f"{base}results/{status}.csv"
        md5 = hashlib.md5(data).hexdigest()
        core.store.put(bucket, key, Content.from_bytes(data), md5, ObjectAttrs(content_type="text/csv"))
        results.append({"TaskExecutionStatus": status, "Bucket": bucket.name, "MD5Checksum": md5, "Key": key})
    manifest = {
        "Format": REPORT_FORMAT,
        "ReportCreationDate": iso8601(time.time()),
        "Results": results,
        "ReportSchema": "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage",
    }
    data = json.dumps(manifest).encode()
    core.store.put(
        bucket,
        base + "manifest.json",
        Content.from_bytes(data),
        hashlib.md5(data).hexdigest(),
        ObjectAttrs(content_type="application/json"),
    )


def handle_admin(book: JobBook, method: str, name: str, data: dict[str, Any]) -> tuple[int, Any]:
    """``/_emulator/batch`` (GET: :meth:`JobBook.stats`; PUT ``{"rate"}``) and
    ``/_emulator/batch/fail`` (POST ``{"code", "reason", "after_tasks", "job_id"}``)."""
    if name == "batch" and method == "GET":
        return 200, book.stats()
    if name == "batch" and method == "PUT":
        unknown = set(data) - {"rate"}
        if unknown:
            raise ValueError(f"unknown batch fields: {', '.join(sorted(unknown))}")
        if "rate" in data:
            book.set_rate(float(data["rate"]))
        return 200, book.stats()
    if name == "batch/fail" and method == "POST":
        book.inject_failure(
            str(data.get("code", "InternalError")),
            str(data.get("reason", "The job failed (injected by the emulator).")),
            after_tasks=int(data.get("after_tasks", 0)),
            job_id=data.get("job_id"),
        )
        return 200, {"injected": True}
    return 404, {"error": f"no admin endpoint {method} /_emulator/{name}"}
