"""The hook's Batch Operations family: manifests, and jobs on the account's control endpoint.

A job copies millions of objects inside COS while the worker waits; these
methods are the steps :class:`~cos_provider.operators.batch.CosBatchCopyJobOperator`
takes, usable one by one from a ``@task``. Every method validates before it
sends anything (:mod:`cos_provider.client.batch` holds the rules).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cos_provider.client import batch, validation
from cos_provider.client.batch import ControlEndpoint, JobDescription, JobsPage, ReportCounts
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.client.selection import Selection
from cos_provider.hooks.download import CosDownloadMethods
from cos_provider.hooks.lineage import report_lineage
from cos_provider.hooks.upload import CosUploadMethods

PREPARING = frozenset({"New", "Preparing"})
"""Statuses of a job that has not read its manifest yet: too early to confirm."""
MANIFEST_PROGRESS_EVERY = 100_000


@dataclass(frozen=True)
class BatchManifest:
    """A manifest written to COS: where it is, its ETag (CreateJob needs it) and how many objects."""

    bucket: str
    key: str
    region: str
    etag: str
    count: int
    size: int
    source_prefix: str
    """What the selection strips from keys (the prefix, or a glob's literal prefix; '' for keys)."""

    @property
    def uri(self) -> str:
        return f"cos://{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "bucket": self.bucket,
            "key": self.key,
            "region": self.region,
            "etag": self.etag,
            "count": self.count,
            "size": self.size,
            "source_prefix": self.source_prefix,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchManifest:
        return cls(**{k: v for k, v in data.items() if k != "uri"})


class CosBatchMethods(CosDownloadMethods, CosUploadMethods):
    """Batch Operations jobs: manifests, CreateJob, confirm, describe, cancel, reports."""

    def batch_control(self, uin: object, region: str | None = None) -> ControlEndpoint:
        """The control endpoint of account ``uin`` (the owner UIN, as in the role ARN) in ``region``."""
        app_id = self.app_id
        if app_id is None:
            raise CosValidationError(
                f"connection {self.cos_conn_id!r} extra app_id",
                "is required for Batch Operations (x-cos-appid)",
            )
        return ControlEndpoint.of(uin, region or self.region, app_id)

    # ------------------------------------------------------------ the manifest

    def write_batch_manifest(
        self,
        source_bucket: str,
        manifest_key: str,
        *,
        prefix: str | None = None,
        match_glob: str | None = None,
        keys: Iterable[str] | None = None,
        manifest_bucket: str | None = None,
        region: str | None = None,
    ) -> BatchManifest:
        """List the selection and write it as a ``COSBatchOperations_CSV_V1`` manifest.

        The listing is streamed into a temporary file a line at a time and
        uploaded from there, so memory does not grow with the number of
        objects. Keys are URL-encoded in the CSV (see :mod:`cos_provider.client.batch`).
        """
        selection = Selection.of(prefix, match_glob, keys)
        src = self.bucket(source_bucket, "source_bucket")
        ref = self.object_ref(
            manifest_key,
            manifest_bucket or src,
            region=region,
            key_field="manifest_key",
            bucket_field="manifest_bucket",
        )
        count = 0
        fd, path = tempfile.mkstemp(prefix="cos-batch-manifest-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                for key in self._selected_keys(src, selection, region):
                    out.write(batch.manifest_line(src, key))
                    count += 1
                    if count % MANIFEST_PROGRESS_EVERY == 0:
                        self.log.info("Manifest %s: %d objects listed so far", ref.key, count)
            size = os.path.getsize(path)
            if count:
                result = self.upload_file(path, ref.key, ref.bucket, region=region, content_type="text/csv")
                etag = result.etag
            else:
                etag = ""
        finally:
            os.unlink(path)
        if count:
            report_lineage(self, outputs=[ref])
        return BatchManifest(
            bucket=ref.bucket,
            key=ref.key,
            region=region or self.region or "",
            etag=etag,
            count=count,
            size=size,
            source_prefix=selection.strip,
        )

    def _selected_keys(self, bucket: str, selection: Selection, region: str | None) -> Iterator[str]:
        if selection.mode == "keys":
            yield from selection.keys
            return
        lister = self.client_for(region)
        for obj in selection.filter(lister.iter_objects(bucket, prefix=selection.prefix)):
            yield obj.key

    # ------------------------------------------------------------ jobs

    def create_batch_copy_job(
        self,
        manifest: BatchManifest,
        dest_bucket: str,
        *,
        role_arn: str,
        dest_prefix: str | None = None,
        dest_region: str | None = None,
        report_bucket: str | None = None,
        report_prefix: str = "",
        report_scope: str = "AllTasks",
        priority: int = 10,
        description: str = "",
        confirmation_required: bool = True,
        client_request_token: str | None = None,
        **copy_params: Any,
    ) -> str:
        """CreateJob with ``COSPutObjectCopy`` over ``manifest``; returns the job id.

        ``copy_params``: ``metadata_directive`` (Copy, Replaced, Add), ``metadata``,
        the content headers, ``tagging_directive``, ``tagging``, ``storage_class``
        (STANDARD or STANDARD_IA), ``acl`` (private, public-read), ``acl_directive``,
        ``server_side_encryption`` (AES256). With ``confirmation_required`` the
        job waits in ``Suspended`` until :meth:`confirm_batch_job`.

        The request is idempotent by its ``ClientRequestToken``: if an answer
        was lost and the retry is refused as a duplicate, the job made by the
        first attempt is found by the token, which the description carries.
        """
        uin = batch.uin_of_role(role_arn)
        region = manifest.region or self.region
        dest = self.bucket(dest_bucket, "dest_bucket")
        operation = batch.copy_operation(
            dest,
            dest_region or region or "",
            dest_prefix=dest_prefix,
            source_prefix=manifest.source_prefix,
            **copy_params,
        )
        report = batch.ReportSpec.of(
            self.bucket(report_bucket, "report_bucket") if report_bucket else dest,
            dest_region or region or "",
            report_prefix,
            report_scope,
        )
        token = client_request_token or str(uuid.uuid4())
        if not isinstance(description, str):
            raise CosValidationError("description", f"must be a string, got {type(description).__name__}")
        tagged = f"{description} [token {token}]".strip()
        request = batch.job_request(
            token=token,
            manifest_bucket=manifest.bucket,
            manifest_region=region or "",
            manifest_key=manifest.key,
            manifest_etag=manifest.etag,
            operation=operation,
            report=report,
            role_arn=role_arn,
            priority=priority,
            description=tagged,
            confirmation_required=confirmation_required,
        )
        if manifest.count < 1:
            raise CosValidationError("manifest", "lists no objects: a job needs at least one")
        control = self.batch_control(uin, region)
        try:
            job_id = self.conn.execute(batch.create_job(control, request))
        except CosServiceError as exc:
            found = self._job_of_token(control, token) if self._duplicate(exc) else None
            if found is None:
                raise
            job_id = found
        self.log.info(
            "Created COS batch job %s (%d objects, manifest %s)", job_id, manifest.count, manifest.uri
        )
        report_lineage(self, inputs=[ObjectRef(manifest.bucket, manifest.key)])
        return job_id

    @staticmethod
    def _duplicate(exc: CosServiceError) -> bool:
        return exc.code == "InvalidRequest" and "duplicate" in exc.message.lower() and exc.attempt > 1

    def _job_of_token(self, control: ControlEndpoint, token: str) -> str | None:
        next_token: str | None = None
        while True:
            page = self.conn.execute(batch.list_jobs(control, next_token=next_token))
            for job in page.jobs:
                if job.description.endswith(f"[token {token}]"):
                    return job.job_id
            if not page.next_token:
                return None
            next_token = page.next_token

    def confirm_batch_job(
        self, job_id: str, *, uin: str, region: str | None = None, wait: float = 600.0
    ) -> str:
        """UpdateJobStatus ``Ready``: let a job created with confirmation run; returns the new status.

        A job reads its manifest (``New``, ``Preparing``) before it waits for
        confirmation (``Suspended``), and only then can it be confirmed: this
        polls DescribeJob until then, at most ``wait`` seconds. A job that is
        already past ``Suspended`` is left as it is.
        """
        control = self.batch_control(uin, region)
        deadline = time.monotonic() + wait
        delay = 0.05
        while True:
            job = self.conn.execute(batch.describe_job(control, job_id))
            if job.status not in PREPARING:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"batch job {job_id} was still {job.status} after {wait:.0f} s: not confirmed"
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        if job.status != "Suspended":
            return job.status
        update = self.conn.execute(batch.update_job_status(control, job_id, "Ready"))
        return update.status

    def cancel_batch_job(
        self, job_id: str, *, uin: str, region: str | None = None, reason: str | None = None
    ) -> str:
        """UpdateJobStatus ``Cancelled``; a job that already ended is left as it is. Returns its status."""
        control = self.batch_control(uin, region)
        try:
            update = self.conn.execute(batch.update_job_status(control, job_id, "Cancelled", reason))
        except CosServiceError as exc:
            if exc.code != "InvalidRequest":
                raise
            current = self.describe_batch_job(job_id, uin=uin, region=region)
            if not current.terminal:
                raise
            return current.status
        return update.status

    def describe_batch_job(self, job_id: str, *, uin: str, region: str | None = None) -> JobDescription:
        return self.conn.execute(batch.describe_job(self.batch_control(uin, region), job_id))

    def list_batch_jobs(
        self,
        *,
        uin: str,
        region: str | None = None,
        statuses: Iterable[str] = (),
        max_results: int = 1000,
        next_token: str | None = None,
    ) -> JobsPage:
        return self.conn.execute(
            batch.list_jobs(self.batch_control(uin, region), statuses, max_results, next_token)
        )

    def read_batch_report(self, job_id: str, report_bucket: str, report_prefix: str = "") -> ReportCounts:
        """The succeeded and failed counts of a job's completion report (and its first failures).

        Reads ``<prefix>/job-<id>/manifest.json`` and each result CSV it lists
        (10 MB cap per file through :meth:`read_bytes`).
        """
        batch.validate_job_id(job_id)
        bucket = self.bucket(report_bucket, "report_bucket")
        manifest_key = batch.report_manifest_key(
            validation.validate_string(report_prefix, "report_prefix") or "", job_id
        )
        counts = ReportCounts()
        files = batch.parse_report_manifest(self.read_bytes(manifest_key, bucket), bucket)
        for entry in files:
            batch.count_report_rows(self.read_bytes(entry.key, bucket, max_size=512 * 1024**2), counts)
        return counts
