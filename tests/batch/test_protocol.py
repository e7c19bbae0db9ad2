"""The job API over real HTTP: the client's builders against the emulator's control endpoint."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from cos_provider.client import batch
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.protocol import Call, CosRequest
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET

UIN = "100000000001"
ROLE = f"qcs::cam::uin/{UIN}:roleName/COS_Batch_QcsRole"
CONTROL = batch.ControlEndpoint.of(UIN, REGION, APP_ID)
ODD_KEYS = ["data/plain.txt", "data/a,b c.txt", 'data/quote"d.txt', "data/é 中文.txt", "data/100%+x.txt"]


def _manifest(cos: Any, keys: list[str], key: str = "m/manifest.csv") -> dict[str, Any]:
    body = "".join(batch.manifest_line(SRC_BUCKET, k) for k in keys).encode()
    return cos.put_object(SRC_BUCKET, key, body)


def _request(etag: str, *, manifest_key: str = "m/manifest.csv", **op: Any) -> batch.JobRequest:
    return batch.job_request(
        token=str(uuid.uuid4()),
        manifest_bucket=SRC_BUCKET,
        manifest_region=REGION,
        manifest_key=manifest_key,
        manifest_etag=etag,
        operation=batch.copy_operation(DST_BUCKET, REGION, **op),
        report=batch.ReportSpec.of(DST_BUCKET, REGION, "reports"),
        role_arn=ROLE,
    )


def _wait(cos: Any, job_id: str, status: str) -> None:
    done = threading.Event()
    for _ in range(500):
        if cos.batch_jobs.job(job_id).status == status:
            return
        done.wait(0.01)
    raise AssertionError(f"job {job_id} never became {status}: {cos.batch_jobs.status_history(job_id)}")


def test_a_confirmed_job_copies_every_key_and_reports(cos: Any, client: CosClient) -> None:
    for i, key in enumerate(ODD_KEYS):
        cos.put_object(SRC_BUCKET, key, b"v%d" % i, metadata={"a": "1"})
    info = _manifest(cos, [*ODD_KEYS, "data/missing.txt"])
    request = _request(
        info["etag"],
        dest_prefix="out/",
        source_prefix="data/",
        metadata_directive="Replaced",
        metadata={"b": "2"},
        content_type="text/plain",
        storage_class="standard_ia",
        acl="public-read",
    )
    job_id = client.execute(batch.create_job(CONTROL, request))
    _wait(cos, job_id, "Suspended")
    described = client.execute(batch.describe_job(CONTROL, job_id))
    assert (described.status, described.total, described.confirmation_required) == ("Suspended", 6, True)
    assert client.execute(batch.update_job_status(CONTROL, job_id, "Ready")).status == "Ready"
    _wait(cos, job_id, "Complete")
    described = client.execute(batch.describe_job(CONTROL, job_id))
    assert (described.succeeded, described.failed, described.terminal) == (5, 1, True)
    for i, key in enumerate(ODD_KEYS):
        dest = "out/" + key[len("data/") :]
        head = cos.head(DST_BUCKET, dest)
        assert head is not None, dest
        assert cos.get_object_bytes(DST_BUCKET, dest) == b"v%d" % i
        assert (head["metadata"], head["content_type"], head["storage_class"], head["acl"]) == (
            {"b": "2"},
            "text/plain",
            "STANDARD_IA",
            "public-read",
        )
    assert cos.batch_jobs.status_history(job_id) == [
        "New",
        "Preparing",
        "Suspended",
        "Ready",
        "Active",
        "Completing",
        "Complete",
    ]
    raw = cos.get_object_bytes(DST_BUCKET, batch.report_manifest_key("reports", job_id))
    counts = batch.ReportCounts()
    for entry in batch.parse_report_manifest(raw, DST_BUCKET):
        batch.count_report_rows(cos.get_object_bytes(DST_BUCKET, entry.key), counts)
    assert (counts.succeeded, counts.failed) == (5, 1)
    assert counts.failures[0]["key"] == "data/missing.txt"
    assert (counts.failures[0]["error_code"], counts.failures[0]["http_status"]) == ("NoSuchKey", "404")
    page = client.execute(batch.list_jobs(CONTROL, ["Complete"]))
    assert [j.job_id for j in page.jobs] == [job_id]
    assert client.execute(batch.list_jobs(CONTROL, ["Active"])).jobs == ()


def test_create_job_checks_the_manifest_and_the_token(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "data/a", b"a")
    info = _manifest(cos, ["data/a"])
    with pytest.raises(CosServiceError) as wrong_etag:
        client.execute(batch.create_job(CONTROL, _request("0" * 32)))
    assert (wrong_etag.value.status, wrong_etag.value.code) == (400, "InvalidRequest")
    assert "ETag" in wrong_etag.value.message
    with pytest.raises(CosServiceError) as missing:
        client.execute(batch.create_job(CONTROL, _request(info["etag"], manifest_key="m/none.csv")))
    assert missing.value.code == "InvalidRequest" and "does not exist" in missing.value.message
    request = _request(info["etag"])
    client.execute(batch.create_job(CONTROL, request))
    with pytest.raises(CosServiceError, match="duplicate") as dup:
        client.execute(batch.create_job(CONTROL, request))
    assert dup.value.code == "InvalidRequest"
    with pytest.raises(CosServiceError) as unknown:
        client.execute(batch.describe_job(CONTROL, "no-such-job"))
    assert (unknown.value.status, unknown.value.code) == (404, "NoSuchJob")


def test_the_control_endpoint_verifies_the_signature_uin_and_appid(cos: Any) -> None:
    endpoint = Endpoint(region=REGION, scheme="http", connect_address=cos.address)
    config = TransportConfig(retry=RetryPolicy(max_attempts=1))
    bad = CosClient(Credentials(SECRET_ID, "not-the-secret-key"), endpoint, config, app_id=APP_ID)
    with bad, pytest.raises(CosServiceError) as denied:
        bad.execute(batch.list_jobs(CONTROL))
    assert (denied.value.status, denied.value.code) == (403, "SignatureDoesNotMatch")
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint, config, app_id=APP_ID) as good:
        other = batch.ControlEndpoint.of("100000000099", REGION, APP_ID)
        with pytest.raises(CosServiceError) as stranger:
            good.execute(batch.list_jobs(other))
        assert (stranger.value.status, stranger.value.code) == (403, "AccessDenied")
        listed = batch.list_jobs(CONTROL)
        no_appid = CosRequest(
            operation="ListJobs", method="GET", bucket="", key="jobs", host=CONTROL.host, region=REGION
        )
        with pytest.raises(CosServiceError) as appid:
            good.execute(Call(no_appid, listed.parse))
        assert (appid.value.status, appid.value.code) == (400, "InvalidRequest")
        assert "x-cos-appid" in appid.value.message
        assert good.execute(listed).jobs == ()
    requests = cos.counters()["requests"]["ListJobs"]
    assert requests == {"403": 2, "400": 1, "200": 1}


def test_cancelling_a_running_job_stops_it_and_reports_what_ran(cos: Any, client: CosClient) -> None:
    keys = [f"data/{i:03d}" for i in range(40)]
    for key in keys:
        cos.put_object(SRC_BUCKET, key, b"x")
    cos.batch_jobs.set_rate(20)
    info = _manifest(cos, keys)
    job_id = client.execute(batch.create_job(CONTROL, _request(info["etag"])))
    _wait(cos, job_id, "Suspended")
    client.execute(batch.update_job_status(CONTROL, job_id, "Ready"))
    _wait(cos, job_id, "Active")
    update = client.execute(batch.update_job_status(CONTROL, job_id, "Cancelled", "stop it"))
    assert (update.status, update.status_update_reason) == ("Cancelling", "stop it")
    _wait(cos, job_id, "Cancelled")
    described = client.execute(batch.describe_job(CONTROL, job_id))
    assert described.succeeded < 40 and described.failed == 0
    assert (
        len([o for o in client.iter_objects(DST_BUCKET) if o.key.startswith("data/")]) == described.succeeded
    )
    with pytest.raises(CosServiceError, match="is Cancelled; only a Suspended job"):
        client.execute(batch.update_job_status(CONTROL, job_id, "Ready"))
    with pytest.raises(CosServiceError, match="already Cancelled"):
        client.execute(batch.update_job_status(CONTROL, job_id, "Cancelled"))


def test_an_injected_failure_and_the_failure_threshold_fail_the_job(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "data/a", b"a")
    info = _manifest(cos, ["data/a", "data/b", "data/c"])
    cos.batch_jobs.inject_failure("AccessDenied", "the role may not read the source")
    job_id = client.execute(batch.create_job(CONTROL, _request(info["etag"])))
    _wait(cos, job_id, "Suspended")
    client.execute(batch.update_job_status(CONTROL, job_id, "Ready"))
    _wait(cos, job_id, "Failed")
    failed = client.execute(batch.describe_job(CONTROL, job_id))
    assert failed.failure_reasons == (("AccessDenied", "the role may not read the source"),)
    job2 = client.execute(batch.create_job(CONTROL, _request(info["etag"])))
    _wait(cos, job2, "Suspended")
    client.execute(batch.update_job_status(CONTROL, job2, "Ready"))
    _wait(cos, job2, "Failed")
    threshold = client.execute(batch.describe_job(CONTROL, job2))
    assert threshold.failure_reasons[0][0] == "TaskFailureThresholdExceeded"
    assert (threshold.succeeded, threshold.failed) == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"storage_class": "ARCHIVE"}, "storage_class"),
        ({"acl": "authenticated-read"}, "acl"),
        ({"metadata": {"a": "1"}}, "metadata_directive"),
        ({"tagging": {"a": "1"}}, "tagging_directive"),
        ({"metadata_directive": "Merge"}, "metadata_directive"),
        ({"server_side_encryption": "cos/kms"}, "server_side_encryption"),
        ({"dest_prefix": 5}, "dest_prefix"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_copy_operation_refuses_what_a_batch_copy_cannot_do(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(CosValidationError) as exc:
        batch.copy_operation(DST_BUCKET, REGION, **kwargs)
    assert exc.value.field == field


def test_job_builders_validate_before_sending() -> None:
    op = batch.copy_operation(DST_BUCKET, REGION)
    report = batch.ReportSpec.of(DST_BUCKET, REGION)
    base: dict[str, Any] = {
        "token": "t",
        "manifest_bucket": SRC_BUCKET,
        "manifest_region": REGION,
        "manifest_key": "m.csv",
        "manifest_etag": "abc",
        "operation": op,
        "report": report,
        "role_arn": ROLE,
    }
    for change, field in [
        ({"role_arn": "arn:aws:iam::1:role/x"}, "role_arn"),
        ({"priority": -1}, "priority"),
        ({"priority": True}, "priority"),
        ({"token": ""}, "client_request_token"),
        ({"description": "x" * 257}, "description"),
        ({"manifest_etag": ""}, "manifest_etag"),
        ({"confirmation_required": "yes"}, "confirmation_required"),
    ]:
        with pytest.raises(CosValidationError) as exc:
            batch.job_request(**{**base, **change})
        assert exc.value.field == field, change
    with pytest.raises(CosValidationError, match="report_scope"):
        batch.ReportSpec.of(DST_BUCKET, REGION, scope="Some")
    with pytest.raises(CosValidationError, match="job_id"):
        batch.describe_job(CONTROL, "../etc")
    with pytest.raises(CosValidationError, match="requested_job_status"):
        batch.update_job_status(CONTROL, "j1", "Active")
    with pytest.raises(CosValidationError, match="app_id"):
        batch.ControlEndpoint.of(UIN, REGION, None)
    assert batch.control_host(UIN, REGION) == f"{UIN}.cos-control.{REGION}.myqcloud.com"
    assert batch.parse_control_host(f"{UIN}.cos-control.{REGION}.myqcloud.com:8080") == (UIN, REGION)


def test_manifest_lines_round_trip_keys_that_csv_would_break() -> None:
    for key in [*ODD_KEYS, "a\nb", "x,\r\ny"]:
        line = batch.manifest_line(SRC_BUCKET, key)
        assert line.count("\n") == 1 and line.count(",") == 1
        assert batch.parse_manifest_line(line, ("Bucket", "Key")) == (SRC_BUCKET, key, None)
    assert batch.manifest_line(SRC_BUCKET, "a b") == f"{SRC_BUCKET},a%20b\n"


def test_list_jobs_pages_and_the_admin_api_drives_the_jobs(cos: Any, client: CosClient) -> None:
    import requests

    cos.put_object(SRC_BUCKET, "data/a", b"a")
    info = _manifest(cos, ["data/a"])
    assert requests.put(f"{cos.address}/_emulator/batch", json={"rate": 50}, timeout=5).json()["rate"] == 50
    fail = {"code": "SlowDown", "reason": "injected over the admin API"}
    assert requests.post(f"{cos.address}/_emulator/batch/fail", json=fail, timeout=5).status_code == 200
    ids = [client.execute(batch.create_job(CONTROL, _request(info["etag"]))) for _ in range(3)]
    first = client.execute(batch.list_jobs(CONTROL, max_results=2))
    assert [j.job_id for j in first.jobs] == ids[:2] and first.next_token
    rest = client.execute(batch.list_jobs(CONTROL, max_results=2, next_token=first.next_token))
    assert [j.job_id for j in rest.jobs] == ids[2:] and rest.next_token is None
    _wait(cos, ids[0], "Suspended")
    client.execute(batch.update_job_status(CONTROL, ids[0], "Ready"))
    _wait(cos, ids[0], "Failed")
    assert cos.batch_jobs.job(ids[0]).failure_reasons == [("SlowDown", "injected over the admin API")]
    stats = requests.get(f"{cos.address}/_emulator/batch", timeout=5).json()
    assert stats["jobs"][ids[0]]["status"] == "Failed" and stats["rate"] == 50
    assert requests.put(f"{cos.address}/_emulator/batch", json={"speed": 1}, timeout=5).status_code == 400
