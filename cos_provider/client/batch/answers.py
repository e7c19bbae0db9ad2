"""The answers of the control endpoint: DescribeJob, ListJobs, CreateJob and UpdateJobStatus XML.

Each parser rejects what COS would not send (a missing ``JobId`` or ``Status``,
an unknown job status) with :class:`XmlDecodeError`, so a wrong or truncated
answer is never taken as success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from cos_provider.client import limits
from cos_provider.client.xmlcodec import XmlDecodeError, _children, _expect, _int, _opt, _root, _text


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
