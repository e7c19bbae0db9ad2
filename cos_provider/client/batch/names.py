"""Batch Operations names: the control-endpoint host, ARNs, job ids and the small validators.

A job is created, described, listed and cancelled on the account's control
endpoint, ``<UIN>.cos-control.<region>.myqcloud.com`` (the owner UIN, not the
APPID); this module holds that host rule, the COS and CAM ARN rules, the job id
rule, the byte-length validator and the protocol constants every other part of
the package (and the emulator) reads, so client and emulator cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cos_provider.client import limits
from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosValidationError

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
