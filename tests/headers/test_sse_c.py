"""SSE-C: customer keys for the source and the destination, HTTPS only, and kept secret.

The emulator here serves plain HTTP, so every SSE-C exchange it accepts
needs TLS: the round trip over HTTPS is ``tests/tls/test_sse_c_tls.py``.
Here: the client's refusals before any request,
the emulator's refusals (driven by the official SDK, which does not enforce
HTTPS itself), what SSE-C objects answer without their key, and that a key
never shows in a log, an exception, a repr, a template field or an XCom.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError as SdkServiceError

from cos_provider.client import limits
from cos_provider.client import operations as ops
from cos_provider.client.copy import MultipartSession
from cos_provider.client.encryption import CustomerKey, CustomerKeys
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.protocol import prepare
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.multipart import (
    CosCopyPartsOperator,
    CosInitiateMultipartCopyOperator,
    cos_multipart_copy_group,
)
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from tests.airflow_support import run_dag, task_states
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET
from tests.headers.conftest import KEY_A, KEY_A_MD5, KEY_B, KEY_B_MD5, sdk_client

MiB = limits.MiB
RAW_A = base64.b64decode(KEY_A)


def sdk(cos: Any) -> Any:
    return sdk_client(cos.address)


def sse_c(key: str, md5: str, prefix: str = "") -> dict[str, str]:
    """The SDK's SSE-C kwargs (``prefix="CopySource"`` for the source)."""
    return {
        f"{prefix}SSECustomerAlgorithm": "AES256",
        f"{prefix}SSECustomerKey": key,
        f"{prefix}SSECustomerKeyMD5": md5,
    }


# ---------------------------------------------------------------- the client refuses plain HTTP


def copy_op(**kw: Any) -> CosCopyObjectOperator:
    return CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/o",
        **kw,
    )


ENTRY_POINTS = {
    "copy dest": (lambda: copy_op(sse_customer_key=KEY_A).execute({}), "sse_customer_key"),
    "copy source": (lambda: copy_op(source_sse_customer_key=KEY_A).execute({}), "source_sse_customer_key"),
    "copy multipart": (
        lambda: copy_op(sse_customer_key=KEY_A, multipart_threshold=0).execute({}),
        "sse_customer_key",
    ),
    "prefix": (
        lambda: CosCopyPrefixOperator(
            task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="", sse_customer_key=KEY_A
        ).execute({"ti": None}),
        "sse_customer_key",
    ),
    "replace metadata": (
        lambda: CosReplaceObjectMetadataOperator(
            task_id="r", bucket_key=f"cos://{SRC_BUCKET}/in.bin", metadata={"a": "b"}, sse_customer_key=KEY_A
        ).execute({}),
        "sse_customer_key",
    ),
    "hook start multipart": (
        lambda: CosHook().start_multipart_copy(
            f"cos://{SRC_BUCKET}/in.bin", "o", batches=1, source_sse_customer_key=KEY_A
        ),
        "source_sse_customer_key",
    ),
    "hook head": (
        lambda: CosHook().head_object(f"cos://{SRC_BUCKET}/in.bin", sse_customer_key=KEY_A),
        "sse_customer_key",
    ),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_sse_c_over_http_is_refused_before_any_request(
    cos: Any, cos_connection: str, caplog: pytest.LogCaptureFixture, entry: str
) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x" * 100)
    caplog.set_level(logging.DEBUG)
    call, field = ENTRY_POINTS[entry]
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        call()
    assert err.value.field == field
    assert "SSE-C needs HTTPS" in err.value.rule and cos.address in err.value.rule
    assert cos.counters()["requests"] == before
    assert KEY_A not in str(err.value) and KEY_A not in caplog.text


def test_keys_from_the_connection_are_used_and_refused_over_http(
    cos: Any, conn_with: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    conn_with(source_sse_customer_key=KEY_B)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CosValidationError) as err:
        copy_op().execute({})
    assert err.value.field == "source_sse_customer_key"
    assert cos.counters()["requests"] == {}
    assert KEY_B not in caplog.text


def test_mapped_part_tasks_check_the_session_keys_before_any_request(cos: Any, conn_with: Any) -> None:
    """The session XCom holds key MD5s only; a part task with another key (or none) stops at once."""
    session = MultipartSession(
        source=ops.ObjectRef(SRC_BUCKET, "in.bin"),
        dest=ops.ObjectRef(DST_BUCKET, "o"),
        upload_id="u",
        source_etag="e",
        source_size=3 * MiB,
        source_crc64=None,
        source_version_id=None,
        part_size=MiB,
        conditions=ops.CopyConditions(),
        dest_key_md5=KEY_A_MD5,
    ).to_dict()
    assert session["sse_customer_key_md5"] == KEY_A_MD5 and KEY_A not in repr(session)
    conn_with()
    with pytest.raises(CosValidationError) as err:
        CosHook().copy_parts(session, [1])
    assert (err.value.field, "is needed" in err.value.rule) == ("sse_customer_key", True)
    conn_with(sse_customer_key=KEY_B)
    with pytest.raises(CosValidationError) as err:
        CosHook().copy_parts(session, [1])
    assert f"MD5 {KEY_B_MD5}, not {KEY_A_MD5}" in err.value.rule
    conn_with(sse_customer_key=KEY_A)
    with pytest.raises(CosValidationError) as err:  # the right key, but over http
        CosHook().copy_parts(session, [1])
    assert "SSE-C needs HTTPS" in err.value.rule
    assert cos.counters()["requests"] == {}


def test_the_mapped_group_takes_keys_from_the_connection_only() -> None:
    with pytest.raises(CosValidationError) as err:
        cos_multipart_copy_group(
            source_bucket_key="cos://b-1/k", dest_bucket_key="k2", sse_customer_key=KEY_A
        )
    assert err.value.field == "sse_customer_key" and "serialized DAG" in err.value.rule
    for build in (
        lambda: CosInitiateMultipartCopyOperator(
            task_id="i", source_bucket_key="cos://b-1/k", dest_bucket_key="k2", source_sse_customer_key=KEY_A
        ),
        lambda: CosCopyPartsOperator(task_id="c", session={}, batch={}, sse_customer_key=KEY_A),
    ):
        with pytest.raises(CosValidationError) as err:
            build()
        assert KEY_A not in str(err.value)


# ---------------------------------------------------------------- keys: validation and secrecy


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"k" * 16).decode(), "decodes to 16 bytes"),
        ("0123456789ABCDEF0123456789ABCDEF", "decodes to 24 bytes"),  # the raw key, not its base64
        (b"x" * 32, "got a bytes"),
    ],
)
def test_malformed_keys_are_refused_without_quoting_them(value: Any, rule: str) -> None:
    with pytest.raises(CosValidationError) as err:
        copy_op(sse_customer_key=value)  # at DAG parse time
    assert err.value.field == "sse_customer_key" and rule in err.value.rule
    assert "not templated" in err.value.rule
    text = value if isinstance(value, str) else value.decode()
    assert text not in str(err.value)


def test_a_key_is_masked_kept_out_of_templates_and_reprs() -> None:
    from airflow.sdk.log import redact

    op = copy_op(sse_customer_key=KEY_A, source_sse_customer_key=KEY_B)
    assert redact(f"before {KEY_A} after {KEY_B}") == "before *** after ***"
    assert not {"sse_customer_key", "source_sse_customer_key"} & set(op.template_fields)
    for shown in (repr(op.sse_customer_key), str(op.sse_customer_key), repr(vars(op))):
        assert KEY_A not in shown and KEY_B not in shown
    assert op.sse_customer_key.md5 == KEY_A_MD5  # type: ignore[attr-defined]


def test_request_headers_hide_the_key_but_send_it() -> None:
    """The headers COS needs (doc 436/10881 example 5), with the key only in what goes on the wire."""
    keys = CustomerKeys(source=CustomerKey.parse(KEY_A, "s"), dest=CustomerKey.parse(KEY_B, "d"))
    endpoint = Endpoint(region=REGION)
    call = ops.copy_object(
        ops.ObjectRef(f"src-{APP_ID}", "k"), ops.ObjectRef(f"dst-{APP_ID}", "k"), endpoint, keys=keys
    )
    headers = dict(call.request.headers)
    assert {k: v for k, v in headers.items() if "customer" in k} == {
        "x-cos-copy-source-server-side-encryption-customer-algorithm": "AES256",
        "x-cos-copy-source-server-side-encryption-customer-key": KEY_A,
        "x-cos-copy-source-server-side-encryption-customer-key-MD5": KEY_A_MD5,
        "x-cos-server-side-encryption-customer-algorithm": "AES256",
        "x-cos-server-side-encryption-customer-key": KEY_B,
        "x-cos-server-side-encryption-customer-key-MD5": KEY_B_MD5,
    }
    from cos_provider.client.credentials import Credentials

    prepared = prepare(call.request, Credentials(SECRET_ID, SECRET_KEY), endpoint)
    for shown in (repr(call.request), repr(prepared), repr(headers)):
        assert KEY_A not in shown and KEY_B not in shown
    part = ops.upload_part_copy(
        ops.ObjectRef(f"src-{APP_ID}", "k"),
        ops.ObjectRef(f"dst-{APP_ID}", "k"),
        endpoint,
        "u",
        1,
        0,
        9,
        keys=keys,
    )
    assert {k for k in part.request.headers if "customer" in k} == {k for k in headers if "customer" in k}
    initiate = ops.initiate_multipart_upload(ops.ObjectRef(f"dst-{APP_ID}", "k"), customer_key=keys.dest)
    assert initiate.request.headers["x-cos-server-side-encryption-customer-key-MD5"] == KEY_B_MD5
    with pytest.raises(CosValidationError) as err:
        ops.initiate_multipart_upload(
            ops.ObjectRef(f"dst-{APP_ID}", "k"),
            ops.ObjectAttributes(server_side_encryption="AES256"),
            customer_key=keys.dest,
        )
    assert err.value.field == "sse_customer_key"


def test_a_failed_sse_c_task_leaks_no_key_to_logs_xcom_or_rendered_fields(
    airflow_db: None, cos: Any, cos_connection: str, caplog: pytest.LogCaptureFixture, capfd: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    run = run_dag("cos_sse_c_over_http")
    assert task_states(run) == {"copy": "failed"}
    out, err = capfd.readouterr()
    text = out + err + caplog.text
    assert "SSE-C needs HTTPS" in text  # the failure was logged, and it is the one expected
    assert KEY_A not in text and KEY_B not in text
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(run_id=run.run_id).all()
        rendered = session.query(RTIF).filter_by(run_id=run.run_id).all()
        stored = repr([(r.key, r.value) for r in rows]) + repr([r.rendered_fields for r in rendered])
    assert rendered, "Airflow stored the rendered template fields"
    assert KEY_A not in stored and KEY_B not in stored


# ---------------------------------------------------------------- the emulator is as strict as COS


def test_emulator_refuses_customer_keys_over_http(cos: Any) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x" * 100)
    client = sdk(cos)
    source = {"Bucket": SRC_BUCKET, "Key": "in.bin", "Region": REGION}
    upload = client.create_multipart_upload(Bucket=DST_BUCKET, Key="plain")["UploadId"]
    calls = {
        "PUT copy, destination key": lambda: client.copy_object(
            Bucket=DST_BUCKET, Key="o", CopySource=source, **sse_c(KEY_A, KEY_A_MD5)
        ),
        "PUT copy, source key": lambda: client.copy_object(
            Bucket=DST_BUCKET, Key="o", CopySource=source, **sse_c(KEY_A, KEY_A_MD5, "CopySource")
        ),
        "Initiate": lambda: client.create_multipart_upload(
            Bucket=DST_BUCKET, Key="o", **sse_c(KEY_A, KEY_A_MD5)
        ),
        "Upload Part - Copy": lambda: client.upload_part_copy(
            Bucket=DST_BUCKET,
            Key="plain",
            PartNumber=1,
            UploadId=upload,
            CopySource=source,
            **sse_c(KEY_A, KEY_A_MD5, "CopySource"),
        ),
        "PUT": lambda: client.put_object(Bucket=DST_BUCKET, Key="o", Body=b"1", **sse_c(KEY_A, KEY_A_MD5)),
        "GET": lambda: client.get_object(Bucket=SRC_BUCKET, Key="in.bin", **sse_c(KEY_A, KEY_A_MD5)),
    }
    for name, call in calls.items():
        with pytest.raises(SdkServiceError) as err:
            call()
        assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest"), name
        assert KEY_A not in err.value.get_error_msg()
    assert cos.head(DST_BUCKET, "o") is None


def test_emulator_sse_c_objects_are_unreadable_without_their_key(cos: Any, cos_connection: str) -> None:
    """Seeded directly (no HTTP needed): GET, HEAD and copies of an SSE-C object want its key."""
    cos.put_object(SRC_BUCKET, "secret.bin", b"s" * (2 * MiB), sse_c_md5=KEY_A_MD5)
    client = sdk(cos)
    with pytest.raises(SdkServiceError) as err:
        client.get_object(Bucket=SRC_BUCKET, Key="secret.bin")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest")
    with pytest.raises(SdkServiceError) as err:
        client.head_object(Bucket=SRC_BUCKET, Key="secret.bin")
    assert err.value.get_status_code() == 400
    source = {"Bucket": SRC_BUCKET, "Key": "secret.bin", "Region": REGION}
    with pytest.raises(SdkServiceError) as err:
        client.copy_object(Bucket=DST_BUCKET, Key="o", CopySource=source)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest")
    upload = client.create_multipart_upload(Bucket=DST_BUCKET, Key="o")["UploadId"]
    with pytest.raises(SdkServiceError) as err:
        client.upload_part_copy(Bucket=DST_BUCKET, Key="o", PartNumber=1, UploadId=upload, CopySource=source)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest")
    # our client, given no key, says which parameter supplies it
    with pytest.raises(CosServiceError) as ours:
        CosCopyObjectOperator(
            task_id="t",
            source_bucket_key=f"cos://{SRC_BUCKET}/secret.bin",
            dest_bucket_key=f"cos://{DST_BUCKET}/o",
        ).execute({})  # type: ignore[arg-type]
    assert ours.value.status == 400 and "give source_sse_customer_key" in str(ours.value)
    with pytest.raises(CosServiceError) as ours:
        CosHook().replace_metadata(f"cos://{SRC_BUCKET}/secret.bin", metadata={"a": "b"})
    assert "give sse_customer_key" in str(ours.value)
    assert cos.head(DST_BUCKET, "o") is None
