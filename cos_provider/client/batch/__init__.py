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

The package re-exports every public name of its modules, so callers keep
using ``from cos_provider.client import batch`` and ``batch.<name>``.
"""

from __future__ import annotations

from cos_provider.client.batch.answers import (
    JobDescription,
    JobsPage,
    JobStatusUpdate,
    JobSummary,
    parse_create_job,
    parse_describe_job,
    parse_list_jobs,
    parse_update_job_status,
)
from cos_provider.client.batch.calls import (
    ControlEndpoint,
    create_job,
    describe_job,
    list_jobs,
    update_job_status,
)
from cos_provider.client.batch.jobs import (
    CONTENT_ELEMENTS,
    CopyOperation,
    JobRequest,
    ReportSpec,
    copy_operation,
    job_request,
    report_manifest_key,
    report_prefix,
)
from cos_provider.client.batch.manifest import (
    manifest_fields,
    manifest_line,
    parse_manifest_line,
)
from cos_provider.client.batch.names import (
    CONTROL_DOMAIN,
    INVENTORY_FORMAT,
    MANIFEST_FIELDS,
    MANIFEST_FORMAT,
    REPORT_COLUMNS,
    REPORT_FORMAT,
    REPORT_SCOPES,
    REQUESTABLE_STATUSES,
    Arn,
    bucket_arn,
    control_host,
    parse_arn,
    parse_control_host,
    uin_of_role,
    validate_job_id,
)
from cos_provider.client.batch.report import (
    ReportCounts,
    ReportFile,
    count_report_rows,
    parse_report_manifest,
    report_row,
)

__all__ = [
    "CONTENT_ELEMENTS",
    "CONTROL_DOMAIN",
    "INVENTORY_FORMAT",
    "MANIFEST_FIELDS",
    "MANIFEST_FORMAT",
    "REPORT_COLUMNS",
    "REPORT_FORMAT",
    "REPORT_SCOPES",
    "REQUESTABLE_STATUSES",
    "Arn",
    "ControlEndpoint",
    "CopyOperation",
    "JobDescription",
    "JobRequest",
    "JobStatusUpdate",
    "JobSummary",
    "JobsPage",
    "ReportCounts",
    "ReportFile",
    "ReportSpec",
    "bucket_arn",
    "control_host",
    "copy_operation",
    "count_report_rows",
    "create_job",
    "describe_job",
    "job_request",
    "list_jobs",
    "manifest_fields",
    "manifest_line",
    "parse_arn",
    "parse_control_host",
    "parse_create_job",
    "parse_describe_job",
    "parse_list_jobs",
    "parse_manifest_line",
    "parse_report_manifest",
    "parse_update_job_status",
    "report_manifest_key",
    "report_prefix",
    "report_row",
    "uin_of_role",
    "update_job_status",
    "validate_job_id",
]
