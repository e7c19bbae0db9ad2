"""``overwrite=False``: an atomic no-clobber copy through ``x-cos-forbid-overwrite``."""

from __future__ import annotations

from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError as SdkServiceError

from cos_provider.client import limits
from cos_provider.client.copy.overwrite import DestinationExistsError
from cos_provider.client.errors import CosValidationError
from cos_provider.emulator import FaultRule
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from tests.conftest import DST_BUCKET, SRC_BUCKET, VERSIONED_BUCKET
from tests.headers.conftest import sdk_client

MiB = limits.MiB
MODES = {"single": {}, "multipart": {"multipart_threshold": 0, "part_size": MiB}}
DATA = bytes(range(256)) * (8 * 1024 + 3)  # 2 MiB + 768 B


def copy(dest_bucket: str = DST_BUCKET, **kw: Any) -> dict[str, Any]:
    op = CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
        dest_bucket_key=f"cos://{dest_bucket}/out.bin",
        **kw,
    )
    return op.execute({})  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_an_existing_destination_is_not_replaced(cos: Any, cos_connection: str, mode: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    before = cos.put_object(DST_BUCKET, "out.bin", b"precious")
    with pytest.raises(DestinationExistsError) as err:
        copy(overwrite=False, **MODES[mode])
    assert (err.value.status, err.value.code) == (409, "FileAlreadyExists")
    assert f"cos://{DST_BUCKET}/out.bin already exists and overwrite=False" in str(err.value)
    assert cos.head(DST_BUCKET, "out.bin")["etag"] == before["etag"]
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == b"precious"
    assert cos.live_uploads() == 0  # a refused Complete aborts its upload


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_destination_is_copied(cos: Any, cos_connection: str, mode: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    result = copy(overwrite=False, **MODES[mode])
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == DATA
    assert result["method"] == mode


def test_the_check_is_made_by_complete_not_before(cos: Any, cos_connection: str) -> None:
    """A destination written between Initiate and Complete is not clobbered: COS checks at Complete."""
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    hook = CosHook()
    start = hook.start_multipart_copy(
        f"cos://{SRC_BUCKET}/in.bin", f"cos://{DST_BUCKET}/out.bin", batches=1, part_size=MiB, overwrite=False
    )
    assert start.session.to_dict()["forbid_overwrite"] is True  # travels to the Complete task
    parts = hook.copy_parts(start.session.to_dict(), range(1, start.session.plan.part_count + 1))
    cos.put_object(DST_BUCKET, "out.bin", b"written meanwhile")
    with pytest.raises(DestinationExistsError) as err:
        hook.complete_multipart_copy(start.session.to_dict(), parts)
    assert "Complete of upload" in str(err.value)
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == b"written meanwhile"
    assert cos.live_uploads() == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_no_effect_on_a_bucket_that_has_had_versioning(
    cos: Any, cos_connection: str, mode: str, status: str
) -> None:
    """COS ignores the header once versioning was ever enabled; so does the emulator."""
    cos.set_versioning(VERSIONED_BUCKET, status)
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    cos.put_object(VERSIONED_BUCKET, "out.bin", b"old")
    copy(dest_bucket=VERSIONED_BUCKET, overwrite=False, **MODES[mode])
    assert cos.get_object_bytes(VERSIONED_BUCKET, "out.bin") == DATA


def test_a_retry_after_a_lost_answer_is_not_a_conflict(
    cos: Any, cos_connection: str, requests_of: Any
) -> None:
    """The first PUT copy lands but its answer is cut; the retry's 409 is our own copy."""
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    cos.add_fault(FaultRule(operation="CopyObject", kind="reset", times=1))
    result = copy(overwrite=False)
    assert cos.counters()["faults_injected"] == {"CopyObject": {"reset": 1}}
    assert cos.counters()["requests"]["CopyObject"] == {"200": 1, "409": 1}
    assert result["crc64"] == cos.head(SRC_BUCKET, "in.bin")["crc64"]
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == DATA


def test_a_retry_that_finds_someone_elses_object_is_a_conflict(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    cos.put_object(DST_BUCKET, "out.bin", b"theirs")
    cos.add_fault(FaultRule(operation="CopyObject", kind="internal_error", times=1))
    with pytest.raises(DestinationExistsError):
        copy(overwrite=False)
    assert cos.counters()["faults_injected"] == {"CopyObject": {"internal_error": 1}}
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == b"theirs"


def test_prefix_copy_records_each_refusal(cos: Any, cos_connection: str) -> None:
    for name in ("a", "b"):
        cos.put_object(SRC_BUCKET, f"p/{name}", name.encode())
    cos.put_object(DST_BUCKET, "p/a", b"keep")

    class TI:
        xcoms: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.xcoms[key] = value

    ti = TI()
    copied = CosCopyPrefixOperator(
        task_id="p",
        source_bucket=SRC_BUCKET,
        dest_bucket=DST_BUCKET,
        prefix="p/",
        overwrite=False,
        continue_on_failure=True,
    ).execute({"ti": ti})  # type: ignore[arg-type]
    assert copied == [f"cos://{DST_BUCKET}/p/b"]
    (failure,) = ti.xcoms["failures"]
    assert failure["key"] == "p/a" and "already exists and overwrite=False" in failure["error"]
    assert cos.get_object_bytes(DST_BUCKET, "p/a") == b"keep"


@pytest.mark.parametrize("value", ["no", 0, None])
def test_overwrite_must_be_a_bool(cos: Any, cos_connection: str, value: Any) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    with pytest.raises(CosValidationError) as err:
        copy(overwrite=value)
    assert err.value.field == "overwrite"


def test_emulator_forbid_overwrite_as_the_sdk_sends_it(cos: Any) -> None:
    """The SDK has no kwarg; its Metadata pass-through sends the header (cos-data-plane.md §1)."""
    client = sdk_client(cos.address)
    forbid = {"x-cos-forbid-overwrite": "true"}
    client.put_object(Bucket=DST_BUCKET, Key="k", Body=b"1", Metadata=forbid)
    with pytest.raises(SdkServiceError) as err:
        client.put_object(Bucket=DST_BUCKET, Key="k", Body=b"2", Metadata=forbid)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "FileAlreadyExists")
    # on Initiate only, as the SDK's create_multipart_upload sends it: Complete refuses
    upload = client.create_multipart_upload(Bucket=DST_BUCKET, Key="k", Metadata=forbid)["UploadId"]
    part = client.upload_part(Bucket=DST_BUCKET, Key="k", PartNumber=1, UploadId=upload, Body=b"3")
    with pytest.raises(SdkServiceError) as err:
        client.complete_multipart_upload(
            Bucket=DST_BUCKET,
            Key="k",
            UploadId=upload,
            MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "FileAlreadyExists")
    assert cos.get_object_bytes(DST_BUCKET, "k") == b"1"
    assert cos.live_uploads() == 1  # a refused Complete leaves the upload, as COS does for errors
    client.put_object(Bucket=VERSIONED_BUCKET, Key="k", Body=b"1", Metadata=forbid)
    client.put_object(Bucket=VERSIONED_BUCKET, Key="k", Body=b"2", Metadata=forbid)  # ignored there
    assert cos.get_object_bytes(VERSIONED_BUCKET, "k") == b"2"
