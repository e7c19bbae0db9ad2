"""``CosBatchCopyJobOperator``: copy a prefix, a glob or a key list with a COS Batch Operations job.

The worker lists the selection once (streamed into the manifest), writes the
manifest, creates and confirms the job, and then waits in the triggerer:
COS does the copies. See the README's "Batch Operations jobs" for when this
beats :class:`~cos_provider.operators.prefix_copy.CosCopyPrefixOperator`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowTaskTimeout

from cos_provider.client import batch, validation
from cos_provider.client.errors import CosValidationError
from cos_provider.client.selection import Selection
from cos_provider.hooks.batch import BatchManifest
from cos_provider.operators.base import CosBaseOperator
from cos_provider.triggers.batch import DEFAULT_TIMEOUT, CosBatchJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

JOB_ID_XCOM = "batch_job_id"
"""XCom key of the job id, pushed as soon as the job exists (a timed-out resume cancels it from here)."""
TRIGGER_GRACE = 60.0
COPY_FIELDS = (
    "metadata_directive",
    "metadata",
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "expires",
    "tagging_directive",
    "tagging",
    "storage_class",
    "acl",
    "acl_directive",
    "server_side_encryption",
)


class CosBatchCopyJobOperator(CosBaseOperator):
    """Copy objects with a COS Batch Operations ``COSPutObjectCopy`` job, waiting deferrably.

    Exactly one of ``prefix``, ``match_glob`` or ``keys`` selects the sources
    in ``source_bucket``; each destination key is ``dest_prefix`` + the source
    key minus the source prefix (the glob's literal prefix; nothing for
    ``keys``), done by the job's ``PrefixReplace``. Without ``dest_prefix``
    keys stay the same.

    :param role_arn: The CAM role COS assumes (``qcs::cam::uin/<uin>:roleName/<name>``);
        its UIN names the account's control endpoint.
    :param manifest_key: Where the CSV manifest is written (default
        ``_batch/manifests/<dag>/<task>/<run>.csv`` in ``manifest_bucket``,
        default ``source_bucket``).
    :param report_bucket: Bucket of the completion report (default ``dest_bucket``);
        ``report_prefix`` defaults to ``_batch/reports/<dag>/<task>``.
    :param report_scope: ``AllTasks`` or ``FailedTasksOnly``.
    :param fail_on_failed_tasks: Fail the task when the job completed but some objects
        failed (their first errors are in the message). With ``False`` the counts are pushed and the task succeeds.
    :param poll_interval: Seconds between DescribeJob calls.
    :param wait_timeout: Seconds to wait for the job; then it is cancelled and the task fails.
        Defaults to ``execution_timeout`` (or 7 days).
    :param deferrable: Wait in the triggerer (default); ``False`` polls in the worker.

    The copy parameters (``metadata_directive`` Copy/Replaced/Add, ``metadata``, the content
    headers, ``tagging_directive``, ``tagging``, ``storage_class`` STANDARD/STANDARD_IA,
    ``acl`` private/public-read, ``acl_directive``, ``server_side_encryption`` AES256) become
    the job's ``COSPutObjectCopy`` fields.

    Returns ``{"job_id", "status", "total", "succeeded", "failed", "manifest_uri",
    "report_uri", "failures"}``; ``on_kill`` and timeouts cancel the job.
    """

    template_fields: Sequence[str] = (
        "source_bucket",
        "dest_bucket",
        "prefix",
        "match_glob",
        "keys",
        "dest_prefix",
        "role_arn",
        "manifest_bucket",
        "manifest_key",
        "report_bucket",
        "report_prefix",
        "description",
        "metadata",
        "tagging",
        "content_type",
        "storage_class",
        "cos_conn_id",
        "region",
    )
    template_fields_renderers = {"metadata": "json", "keys": "json"}

    def __init__(
        self,
        *,
        source_bucket: str,
        dest_bucket: str,
        role_arn: str,
        prefix: str | None = None,
        match_glob: str | None = None,
        keys: Sequence[str] | None = None,
        dest_prefix: str | None = None,
        manifest_bucket: str | None = None,
        manifest_key: str | None = None,
        report_bucket: str | None = None,
        report_prefix: str | None = None,
        report_scope: str = "AllTasks",
        metadata_directive: str = "Copy",
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        tagging_directive: str | None = None,
        tagging: dict[str, str] | str | None = None,
        storage_class: str | None = None,
        acl: str | None = None,
        acl_directive: str | None = None,
        server_side_encryption: str | None = None,
        priority: int = 10,
        description: str = "",
        fail_on_failed_tasks: bool = True,
        poll_interval: float = 30.0,
        wait_timeout: float | None = None,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_bucket = source_bucket
        self.dest_bucket = dest_bucket
        self.role_arn = role_arn
        self.prefix = prefix
        self.match_glob = match_glob
        self.keys = keys
        self.dest_prefix = dest_prefix
        self.manifest_bucket = manifest_bucket
        self.manifest_key = manifest_key
        self.report_bucket = report_bucket
        self.report_prefix = report_prefix
        self.report_scope = report_scope
        self.keep(locals(), COPY_FIELDS)
        self.priority = priority
        self.description = description
        self.fail_on_failed_tasks = fail_on_failed_tasks
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.deferrable = deferrable
        self._job_id: str | None = None

    # ------------------------------------------------------------ validation (before any request)

    def _check(self) -> str:
        """Validate every parameter; returns the account UIN. Nothing has been sent yet."""
        uin = batch.uin_of_role(self.role_arn)
        Selection.of(self.prefix, self.match_glob, self.keys)
        validation.validate_bool(self.fail_on_failed_tasks, "fail_on_failed_tasks")
        validation.validate_bool(self.deferrable, "deferrable")
        for name in ("poll_interval", "wait_timeout"):
            value = getattr(self, name)
            if value is None and name == "wait_timeout":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise CosValidationError(name, f"must be a number of seconds > 0, got {value!r}")
        region = self.region or self.hook.region or ""
        operation = batch.copy_operation(
            self.hook.bucket(self.dest_bucket, "dest_bucket"),
            region,
            dest_prefix=self.dest_prefix,
            source_prefix=Selection.of(self.prefix, self.match_glob, self.keys).strip,
            **self.values(COPY_FIELDS),
        )
        batch.ReportSpec.of(
            self.hook.bucket(self.report_bucket or self.dest_bucket, "report_bucket"),
            region,
            self.report_prefix or "",
            self.report_scope,
        )
        batch.job_request(
            token="check",
            manifest_bucket=self.hook.bucket(self.manifest_bucket or self.source_bucket, "manifest_bucket"),
            manifest_region=region,
            manifest_key=self.manifest_key or "m.csv",
            manifest_etag="check",
            operation=operation,
            report=batch.ReportSpec.of(self.hook.bucket(self.dest_bucket, "dest_bucket"), region),
            role_arn=self.role_arn,
            priority=self.priority,
            description=self.description,
        )
        self.hook.batch_control(uin)
        return uin

    def _defaults(self, context: Context) -> tuple[str, str]:
        ti = context.get("ti")
        dag_id = getattr(ti, "dag_id", None) or "dag"
        run_id = str(getattr(ti, "run_id", None) or int(time.time()))
        safe_run = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
        manifest_key = self.manifest_key or f"_batch/manifests/{dag_id}/{self.task_id}/{safe_run}.csv"
        report_prefix = (
            self.report_prefix
            if self.report_prefix is not None
            else f"_batch/reports/{dag_id}/{self.task_id}"
        )
        return manifest_key, report_prefix

    # ------------------------------------------------------------ execute

    def execute(self, context: Context) -> Any:
        uin = self._check()
        manifest_key, report_prefix = self._defaults(context)
        self.report_prefix = report_prefix
        manifest = self.hook.write_batch_manifest(
            self.source_bucket,
            manifest_key,
            prefix=self.prefix,
            match_glob=self.match_glob,
            keys=self.keys,
            manifest_bucket=self.manifest_bucket,
            region=self.region,
        )
        self.log.info(
            "Wrote the manifest %s: %d objects, %d bytes", manifest.uri, manifest.count, manifest.size
        )
        if manifest.count == 0:
            self.log.info("Nothing to copy: the selection is empty, no job created")
            return self._result(None, "Complete", 0, 0, 0, manifest.uri if manifest.etag else None, None, [])
        job_id = self.hook.create_batch_copy_job(
            manifest,
            self.dest_bucket,
            role_arn=self.role_arn,
            dest_prefix=self.dest_prefix,
            report_bucket=self.report_bucket,
            report_prefix=report_prefix,
            report_scope=self.report_scope,
            priority=self.priority,
            description=self.description,
            confirmation_required=True,
            **self.values(COPY_FIELDS),
        )
        self._job_id = job_id
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=JOB_ID_XCOM, value=job_id)
        status = self.hook.confirm_batch_job(job_id, uin=uin, region=self.region)
        self.log.info("Confirmed batch job %s (%s); waiting for it", job_id, status)
        started = time.time()
        timeout = self._wait_timeout()
        extra = {"manifest": manifest.to_dict(), "report_prefix": report_prefix}
        if not self.deferrable:
            return self._wait_here(context, job_id, uin, started, timeout, extra)
        self.defer(
            trigger=CosBatchJobTrigger(
                job_id=job_id,
                uin=uin,
                cos_conn_id=self.cos_conn_id,
                region=self.region,
                poll_interval=self.poll_interval,
                timeout=timeout,
                started_at=started,
            ),
            method_name="execute_complete",
            kwargs=extra,
            timeout=timedelta(seconds=timeout + self.poll_interval + TRIGGER_GRACE),
        )

    def _wait_timeout(self) -> float:
        if self.wait_timeout is not None:
            return float(self.wait_timeout)
        if self.execution_timeout is not None:
            return self.execution_timeout.total_seconds()
        return DEFAULT_TIMEOUT

    def _wait_here(
        self, context: Context, job_id: str, uin: str, started: float, timeout: float, extra: dict[str, Any]
    ) -> Any:
        while True:
            job = self.hook.describe_batch_job(job_id, uin=uin, region=self.region)
            if job.terminal:
                return self.execute_complete(
                    context, {"status": "done", "job_id": job_id, "job": job.to_dict()}, **extra
                )
            if time.time() - started >= timeout:
                return self.execute_complete(
                    context,
                    {
                        "status": "timeout",
                        "job_id": job_id,
                        "job": job.to_dict(),
                        "message": "wait_timeout passed",
                    },
                    **extra,
                )
            time.sleep(self.poll_interval)

    # ------------------------------------------------------------ resume

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        manifest: dict[str, Any] | None = None,
        report_prefix: str | None = None,
    ) -> Any:
        """Resume after the trigger: fail with the job's reasons, or read the report and push the counts.

        ``manifest`` and ``report_prefix`` come from ``defer(kwargs=…)``; where a
        runner hands back only the event (``dag.test()`` does), they are derived
        again from the context, as ``execute`` derived them.
        """
        if report_prefix is None or manifest is None:
            manifest_key, default_prefix = self._defaults(context)
            report_prefix = default_prefix if report_prefix is None else report_prefix
            if manifest is None:
                bucket = self.hook.bucket(self.manifest_bucket or self.source_bucket, "manifest_bucket")
                manifest = {"uri": f"cos://{bucket}/{manifest_key}"}
        if not event:
            raise AirflowException("the COS batch trigger returned no event")
        job_id = str(event.get("job_id") or "")
        self._job_id = job_id
        uin = batch.uin_of_role(self.role_arn)
        status = event.get("status")
        if status == "timeout":
            final = self._cancel(job_id, uin, "the Airflow task timed out")
            raise AirflowTaskTimeout(f"{event.get('message')}; the job was cancelled (now {final})")
        if status == "error":
            raise AirflowException(
                f"Could not follow COS batch job {job_id}: {event.get('message')} (the job may still be running)"
            )
        if status != "done":
            raise AirflowException(f"Unexpected event from the COS batch trigger: {event!r}")
        job = event.get("job") or {}
        described = batch.JobDescription(
            job_id=job_id,
            status=str(job.get("status")),
            total=job.get("total"),
            succeeded=int(job.get("succeeded") or 0),
            failed=int(job.get("failed") or 0),
            failure_reasons=tuple((str(r[0]), str(r[1])) for r in job.get("failure_reasons") or ()),
            status_update_reason=job.get("status_update_reason"),
        )
        if described.status == "Failed":
            raise AirflowException(
                f"COS batch job {job_id} failed: {described.reasons_text()} "
                f"({described.succeeded} objects copied, {described.failed} failed, of {described.total})"
            )
        if described.status == "Cancelled":
            raise AirflowException(f"COS batch job {job_id} was cancelled: {described.reasons_text()}")
        report_bucket = self.hook.bucket(self.report_bucket or self.dest_bucket, "report_bucket")
        counts = self.hook.read_batch_report(job_id, report_bucket, report_prefix)
        if self.report_scope == "FailedTasksOnly":
            counts.succeeded = described.succeeded
        if (counts.succeeded, counts.failed) != (described.succeeded, described.failed):
            self.log.warning(
                "The report of job %s counts %d succeeded / %d failed; DescribeJob says %d / %d",
                job_id,
                counts.succeeded,
                counts.failed,
                described.succeeded,
                described.failed,
            )
        manifest_uri = (manifest or {}).get("uri")
        report_uri = f"cos://{report_bucket}/{batch.report_manifest_key(report_prefix, job_id)}"
        self.log.info(
            "Batch job %s complete: %d objects copied, %d failed (report %s)",
            job_id,
            counts.succeeded,
            counts.failed,
            report_uri,
        )
        result = self._result(
            job_id,
            described.status,
            described.total,
            counts.succeeded,
            counts.failed,
            manifest_uri,
            report_uri,
            counts.failures,
        )
        if counts.failed and self.fail_on_failed_tasks:
            first = "; ".join(
                f"{f['key']}: {f['http_status']} {f['error_code']} {f['message']}".strip()
                for f in counts.failures[:5]
            )
            if context.get("ti") is not None:
                context["ti"].xcom_push(key="batch_result", value=result)
            raise AirflowException(
                f"COS batch job {job_id} completed with {counts.failed} failed objects of {described.total} "
                f"(first: {first}); report {report_uri}"
            )
        return result

    @staticmethod
    def _result(
        job_id: str | None,
        status: str,
        total: int | None,
        succeeded: int,
        failed: int,
        manifest_uri: str | None,
        report_uri: str | None,
        failures: list[dict[str, str]],
    ) -> dict[str, Any]:
        return {
            "job_id": job_id,
            "status": status,
            "total": total,
            "succeeded": succeeded,
            "failed": failed,
            "manifest_uri": manifest_uri,
            "report_uri": report_uri,
            "failures": failures,
        }

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """A deferral that timed out in the framework (not in the trigger) cancels the job too."""
        from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR

        if next_method == TRIGGER_FAIL_REPR:
            ti = context.get("ti")
            job_id = ti.xcom_pull(task_ids=self.task_id, key=JOB_ID_XCOM) if ti is not None else None
            if job_id:
                self._cancel(
                    str(job_id), batch.uin_of_role(self.role_arn), "the Airflow task failed while waiting"
                )
        return super().resume_execution(next_method, next_kwargs, context)

    # ------------------------------------------------------------ cancellation

    def _cancel(self, job_id: str, uin: str, reason: str) -> str:
        try:
            status = self.hook.cancel_batch_job(job_id, uin=uin, region=self.region, reason=reason)
        except Exception as exc:
            self.log.error("Could not cancel COS batch job %s: %s", job_id, exc)
            return "unknown (cancel failed)"
        self.log.warning("Cancelled COS batch job %s (%s): %s", job_id, status, reason)
        return status

    def on_kill(self) -> None:
        if self._job_id:
            self._cancel(self._job_id, batch.uin_of_role(self.role_arn), "the Airflow task was killed")
        super().on_kill()


__all__ = ["JOB_ID_XCOM", "BatchManifest", "CosBatchCopyJobOperator"]
