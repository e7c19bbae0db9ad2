"""``CosBatchCopyJobOperator`` and the hook's batch methods, against the emulator (``dag.test()`` where it runs in Airflow)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from cos_provider.client import batch
from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.batch import CosBatchCopyJobOperator
from cos_provider.triggers.batch import CosBatchJobTrigger
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET, SRC_BUCKET

UIN = "100000000001"
ROLE = f"qcs::cam::uin/{UIN}:roleName/COS_Batch_QcsRole"


def _seed(cos: Any, n: int, prefix: str = "data/") -> list[str]:
    keys = [f"{prefix}{i:03d}.bin" for i in range(n)]
    for i, key in enumerate(keys):
        cos.put_object(SRC_BUCKET, key, b"payload-%d" % i, metadata={"keep": "yes"})
    return keys


def _control_requests(cos: Any) -> dict[str, dict[str, int]]:
    ops = ("CreateJob", "DescribeJob", "UpdateJobStatus", "ListJobs")
    return {op: counts for op, counts in cos.counters()["requests"].items() if op in ops}


def _only_job(cos: Any) -> Any:
    jobs = list(cos.batch_jobs.jobs.values())
    assert len(jobs) == 1, jobs
    return jobs[0]


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_batch_copy_dag_succeeds_with_the_report_counts(cos: Any, cos_connection: str) -> None:
    keys = _seed(cos, 25)
    cos.put_object(SRC_BUCKET, "other/skip.bin", b"no")
    run = run_dag("cos_batch_copy")
    assert task_states(run) == {"batch_copy": "success"}
    result = xcom(run, "batch_copy")
    job = _only_job(cos)
    assert result["job_id"] == job.job_id == xcom(run, "batch_copy", key="batch_job_id")
    assert (result["status"], result["total"], result["succeeded"], result["failed"]) == (
        "Complete",
        25,
        25,
        0,
    )
    assert result["manifest_uri"].startswith(
        f"cos://{SRC_BUCKET}/_batch/manifests/cos_batch_copy/batch_copy/"
    )
    assert result["report_uri"] == (
        f"cos://{DST_BUCKET}/_batch/reports/cos_batch_copy/batch_copy/job-{job.job_id}/manifest.json"
    )
    for i, key in enumerate(keys):
        dest = "copied/" + key[len("data/") :]
        head = cos.head(DST_BUCKET, dest)
        assert head is not None and cos.get_object_bytes(DST_BUCKET, dest) == b"payload-%d" % i
        assert head["metadata"] == {"keep": "yes", "origin": "batch"}
        assert head["tags"] == {"job": "cos_batch_copy"} and head["storage_class"] == "STANDARD_IA"
    assert cos.head(DST_BUCKET, "copied/skip.bin") is None and cos.head(DST_BUCKET, "other/skip.bin") is None
    control = _control_requests(cos)
    assert control["CreateJob"] == {"200": 1} and control["UpdateJobStatus"] == {"200": 1}
    assert control["DescribeJob"]["200"] >= 1
    assert job.status == "Complete" and "Suspended" in job.history
    manifest = cos.get_object_bytes(SRC_BUCKET, result["manifest_uri"].split("/", 3)[3]).decode()
    assert manifest.splitlines() == [batch.manifest_line(SRC_BUCKET, k).rstrip("\n") for k in keys]


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_batch_job_that_fails_fails_the_task_with_its_reasons(
    cos: Any, cos_connection: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(cos, 5)
    cos.batch_jobs.inject_failure("AccessDenied", "COS_Batch_QcsRole may not write dst", after_tasks=2)
    run = run_dag("cos_batch_fail")
    logged = "".join(capsys.readouterr())
    assert task_states(run) == {"batch_fail": "failed"}
    job = _only_job(cos)
    assert job.status == "Failed" and job.succeeded == 2
    assert f"COS batch job {job.job_id} failed: AccessDenied: COS_Batch_QcsRole may not write dst" in logged
    assert xcom(run, "batch_fail") is None


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_a_batch_job_that_outlives_wait_timeout_is_cancelled(
    cos: Any, cos_connection: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(cos, 30)
    cos.batch_jobs.set_rate(5)  # 6 s of work, 0.5 s of patience
    run = run_dag("cos_batch_timeout")
    logged = "".join(capsys.readouterr())
    assert task_states(run) == {"batch_timeout": "failed"}
    job = _only_job(cos)
    assert job.history[-2:] == ["Cancelling", "Cancelled"], job.history
    assert job.status_update_reason == "the Airflow task timed out"
    assert _control_requests(cos)["UpdateJobStatus"] == {"200": 2}  # Ready, then Cancelled
    assert "the job was cancelled" in logged
    assert job.succeeded < 30


def test_on_kill_cancels_the_job_the_task_created(cos: Any, cos_connection: str) -> None:
    _seed(cos, 10)
    cos.batch_jobs.set_rate(2)
    op = CosBatchCopyJobOperator(
        task_id="killed", source_bucket="src", prefix="data/", dest_bucket="dst", role_arn=ROLE
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, CosBatchJobTrigger)
    assert "secret" not in repr(trigger.serialize()).lower()
    op.on_kill()
    job = cos.batch_jobs.job(trigger.job_id)
    assert job.status_update_reason == "the Airflow task was killed"
    assert "Cancelling" in job.history or job.status == "Cancelled"
    event = asyncio.run(_first_event(trigger))
    assert event["status"] == "done" and event["job"]["status"] == "Cancelled"
    with pytest.raises(
        Exception, match=f"COS batch job {trigger.job_id} was cancelled: the Airflow task was killed"
    ):
        op.execute_complete({}, event, **deferred.value.kwargs)


async def _first_event(trigger: CosBatchJobTrigger) -> dict[str, Any]:
    trigger.poll_interval = 0.02
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger fired no event")


def test_failed_objects_are_counted_and_fail_the_task_unless_allowed(cos: Any, cos_connection: str) -> None:
    _seed(cos, 3)
    keys = ["data/000.bin", "data/001.bin", "data/002.bin", "data/gone.bin"]
    for allowed in (True, False):
        op = CosBatchCopyJobOperator(
            task_id=f"keys_{allowed}",
            source_bucket="src",
            keys=keys,
            dest_bucket="dst",
            dest_prefix=f"k{allowed}/",
            role_arn=ROLE,
            fail_on_failed_tasks=not allowed,
            poll_interval=0.02,
            deferrable=False,
        )
        if allowed:
            result = op.execute({})
            assert (result["succeeded"], result["failed"], result["total"]) == (3, 1, 4)
            assert result["failures"][0]["key"] == "data/gone.bin"
            assert result["failures"][0]["error_code"] == "NoSuchKey"
            assert cos.head(DST_BUCKET, "kTrue/data/000.bin") is not None
        else:
            with pytest.raises(Exception, match=r"1 failed objects of 4 .*data/gone.bin: 404 NoSuchKey"):
                op.execute({})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role_arn": "qcs::cam::uin/abc:roleName/x"}, "role_arn"),
        ({"prefix": "data/", "keys": ["a"]}, "prefix/match_glob/keys"),
        ({"storage_class": "ARCHIVE"}, "storage_class"),
        ({"metadata": {"a": "b"}}, "metadata_directive"),
        ({"acl": "bucket-owner-read"}, "acl"),
        ({"priority": 2**31}, "priority"),
        ({"report_scope": "Everything"}, "report_scope"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"dest_bucket": "Bad_Bucket"}, "dest_bucket"),
        ({"fail_on_failed_tasks": "yes"}, "fail_on_failed_tasks"),
    ],
)
def test_bad_input_fails_before_any_request(
    cos: Any, cos_connection: str, kwargs: dict[str, Any], field: str
) -> None:
    params: dict[str, Any] = {
        "task_id": "bad",
        "source_bucket": "src",
        "prefix": "data/",
        "dest_bucket": "dst",
        "role_arn": ROLE,
        **kwargs,
    }
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as exc:
        CosBatchCopyJobOperator(**params).execute({})
    assert exc.value.field == field
    assert cos.counters()["requests"] == before == {}


def test_hook_methods_step_by_step(cos: Any, cos_connection: str) -> None:
    keys = _seed(cos, 4, prefix="logs/2026/")
    cos.put_object(SRC_BUCKET, "logs/2026/readme.txt", b"r")
    hook = CosHook(cos_connection)
    manifest = hook.write_batch_manifest("src", "m/glob.csv", match_glob="logs/**/*.bin")
    assert (manifest.count, manifest.source_prefix, manifest.uri) == (
        4,
        "logs/",
        f"cos://{SRC_BUCKET}/m/glob.csv",
    )
    job_id = hook.create_batch_copy_job(
        manifest, "dst", role_arn=ROLE, dest_prefix="archive/", report_prefix="r", description="step"
    )
    assert hook.describe_batch_job(job_id, uin=UIN).status in ("New", "Preparing", "Suspended")
    page = hook.list_batch_jobs(uin=UIN)
    assert [j.job_id for j in page.jobs] == [job_id] and page.jobs[0].description.startswith("step [token ")
    for _ in range(200):
        if hook.describe_batch_job(job_id, uin=UIN).status == "Suspended":
            break
    assert hook.confirm_batch_job(job_id, uin=UIN) == "Ready"
    for _ in range(500):
        if hook.describe_batch_job(job_id, uin=UIN).terminal:
            break
    counts = hook.read_batch_report(job_id, "dst", "r")
    assert (counts.succeeded, counts.failed) == (4, 0)
    assert sorted(o.key for o in hook.iter_objects("dst", "archive/")) == sorted(
        "archive/" + k[len("logs/") :] for k in keys
    )
    assert hook.cancel_batch_job(job_id, uin=UIN) == "Complete"  # already ended: left as it is
    empty = hook.write_batch_manifest("src", "m/empty.csv", prefix="nothing/")
    assert empty.count == 0 and cos.head(SRC_BUCKET, "m/empty.csv") is None
    with pytest.raises(CosValidationError, match="manifest"):
        hook.create_batch_copy_job(empty, "dst", role_arn=ROLE)


class _TaskInstance:
    """What ``resume_execution`` reads of the task instance: the job id the try pushed."""

    def __init__(self, pushed: dict[str, Any]) -> None:
        self.pushed = pushed

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return self.pushed.get(key)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_a_deferral_the_framework_timed_out_cancels_the_job(cos: Any, cos_connection: str) -> None:
    from airflow.sdk.exceptions import TaskDeferralTimeout

    _seed(cos, 10)
    cos.batch_jobs.set_rate(2)
    ti = _TaskInstance({})
    op = CosBatchCopyJobOperator(
        task_id="late", source_bucket="src", prefix="data/", dest_bucket="dst", role_arn=ROLE
    )
    with pytest.raises(TaskDeferred):
        op.execute({"ti": ti})
    job_id = ti.pushed["batch_job_id"]
    resumed = CosBatchCopyJobOperator(
        task_id="late", source_bucket="src", prefix="data/", dest_bucket="dst", role_arn=ROLE
    )
    with pytest.raises(TaskDeferralTimeout):
        resumed.resume_execution("__fail__", {"error": "Trigger timeout"}, {"ti": ti})
    job = cos.batch_jobs.job(job_id)
    assert job.status_update_reason == "the Airflow task failed while waiting"
    assert "Cancelling" in job.history or job.status == "Cancelled"


def test_a_lost_createjob_answer_is_recovered_by_its_token(cos: Any, cos_connection: str) -> None:
    from cos_provider.emulator import FaultRule

    _seed(cos, 2)
    hook = CosHook(cos_connection)
    manifest = hook.write_batch_manifest("src", "m/lost.csv", prefix="data/")
    cos.add_fault(FaultRule(operation="CreateJob", kind="reset", times=1))
    job_id = hook.create_batch_copy_job(manifest, "dst", role_arn=ROLE, client_request_token="tok-lost-1")
    job = _only_job(cos)  # the first attempt made it; the retry was refused as a duplicate
    assert job.job_id == job_id and job.token == "tok-lost-1"
    assert cos.counters()["requests"]["CreateJob"] == {"200": 1, "400": 1}
    assert "ListJobs" in cos.counters()["requests"]
