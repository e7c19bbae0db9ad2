"""The completion report: its ``manifest.json`` and result CSV rows.

The report follows S3 Batch's layout, which COS mirrors (*unverified*, the
documentation is silent): ``<prefix>/job-<JobId>/manifest.json`` lists result
CSVs whose columns are ``Bucket, Key, VersionId, TaskStatus, ErrorCode,
HTTPStatusCode, ResultMessage``. Counts are read from DescribeJob first; the
report is parsed defensively, and the emulator writes rows with :func:`report_row`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from cos_provider.client.batch.names import _MANIFEST_SAFE, REPORT_COLUMNS


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
