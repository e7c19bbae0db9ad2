"""The four job calls on the control endpoint, sans-IO: CreateJob, DescribeJob, ListJobs, UpdateJobStatus.

They go to the account's control endpoint with the normal COS signature plus a
signed ``x-cos-appid`` header (``cos-data-plane.md §9``); each returns a
:class:`Call` pairing the request with the parser of its answer.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cos_provider.client import limits
from cos_provider.client.batch.answers import (
    JobDescription,
    JobsPage,
    JobStatusUpdate,
    parse_create_job,
    parse_describe_job,
    parse_list_jobs,
    parse_update_job_status,
)
from cos_provider.client.batch.jobs import JobRequest
from cos_provider.client.batch.names import (
    REQUESTABLE_STATUSES,
    _bytes_max,
    _region,
    _uin,
    control_host,
    validate_job_id,
)
from cos_provider.client.endpoints import validate_app_id
from cos_provider.client.errors import CosValidationError
from cos_provider.client.protocol import Call, CosRequest, RawResponse


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
