"""The emulator's archive model over real HTTP: storage classes, POST ?restore, the restore clock."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.errors import CosServiceError
from cos_provider.client.operations import ObjectAttributes, ObjectRef
from cos_provider.client.protocol import Call, CosRequest
from cos_provider.client.restore import parse_restore_header, restore_object
from cos_provider.emulator.__main__ import _parser, build
from cos_provider.emulator.restore import expiry_after
from tests.conftest import DST_BUCKET, SRC_BUCKET
from tests.restore.conftest import HOUR

DAY = 86400.0


def raw_restore(client: CosClient, key: str, body: bytes) -> int:
    """A POST ?restore with any body (the builder refuses bad ones before sending)."""
    request = CosRequest("PostObjectRestore", "POST", SRC_BUCKET, key, params={"restore": ""}, body=body)
    return client.execute(Call(request, lambda r: r.status))


def refused(call: Any) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call()
    return caught.value


def test_storage_class_on_put_and_copy_is_echoed_by_head(cos: Any, client: CosClient) -> None:
    client.put_object(SRC_BUCKET, "a.bin", b"abc", attributes=ObjectAttributes(storage_class="archive"))
    client.put_object(SRC_BUCKET, "plain.bin", b"abc")
    assert client.head_object(SRC_BUCKET, "a.bin").storage_class == "ARCHIVE"
    assert client.head_object(SRC_BUCKET, "plain.bin").storage_class == "STANDARD"  # header absent
    client.copy_object(
        ObjectRef(SRC_BUCKET, "plain.bin"),
        ObjectRef(DST_BUCKET, "deep.bin"),
        attributes=ObjectAttributes(storage_class="DEEP_ARCHIVE"),
    )
    assert client.head_object(DST_BUCKET, "deep.bin").storage_class == "DEEP_ARCHIVE"
    assert cos.head(DST_BUCKET, "deep.bin")["storage_class"] == "DEEP_ARCHIVE"


def test_unrestored_archive_refuses_get_copy_and_part_copy(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a.bin", b"x" * 100, storage_class="ARCHIVE")
    src, dst = ObjectRef(SRC_BUCKET, "a.bin"), ObjectRef(DST_BUCKET, "a.bin")
    for error in (
        refused(lambda: client.execute(ops.get_object(src))),
        refused(lambda: client.copy_object(src, dst)),
    ):
        assert (error.status, error.code) == (403, "InvalidObjectState")
    upload = client.execute(ops.initiate_multipart_upload(dst)).upload_id
    error = refused(lambda: client.execute(ops.upload_part_copy(src, dst, client.endpoint, upload, 1, 0, 99)))
    assert (error.status, error.code) == (403, "InvalidObjectState")
    client.abort_multipart_upload(dst, upload)
    assert client.head_object(SRC_BUCKET, "a.bin").restore is None  # HEAD works, no restore header


def test_restore_lifecycle_on_the_restore_clock(cos: Any, client: CosClient) -> None:
    cos.set_restore_times(expedited=120)
    cos.put_object(SRC_BUCKET, "a.bin", b"x" * 100, storage_class="ARCHIVE")
    ref, dst = ObjectRef(SRC_BUCKET, "a.bin"), ObjectRef(DST_BUCKET, "a.bin")
    assert client.execute(restore_object(ref, 2, "Expedited")) == 202
    again = refused(lambda: client.execute(restore_object(ref, 2, "Expedited")))
    assert (again.status, again.code) == (409, "RestoreAlreadyInProgress")

    head = client.head_object(SRC_BUCKET, "a.bin")
    assert head.restore == 'ongoing-request="true"'
    cos.advance_clock(119)
    assert (
        refused(lambda: client.execute(ops.get_object(ref))).code == "InvalidObjectState"
    )  # one second to go
    now = cos.advance_clock(1)

    header = parse_restore_header(client.head_object(SRC_BUCKET, "a.bin").restore)
    assert header is not None and not header.ongoing and header.expiry is not None
    assert header.expiry.timestamp() == expiry_after(now, 2)
    assert header.expiry.hour == 16 and header.expiry.timestamp() >= now + 2 * DAY
    assert client.execute(ops.get_object(ref)) == b"x" * 100
    client.copy_object(ref, dst)
    upload = client.execute(ops.initiate_multipart_upload(dst)).upload_id
    assert client.execute(ops.upload_part_copy(ref, dst, client.endpoint, upload, 1, 0, 99)).etag
    client.abort_multipart_upload(dst, upload)

    # Restoring a restored object extends its copy (200), from now.
    later = cos.advance_clock(DAY)
    assert client.execute(restore_object(ref, 5, "Bulk")) == 200
    extended = parse_restore_header(client.head_object(SRC_BUCKET, "a.bin").restore)
    assert extended is not None and extended.expiry is not None
    assert extended.expiry.timestamp() == expiry_after(later, 5)

    cos.advance_clock(extended.expiry.timestamp() - later)
    assert client.head_object(SRC_BUCKET, "a.bin").restore is None  # expired: back to archived
    assert refused(lambda: client.execute(ops.get_object(ref))).code == "InvalidObjectState"


def test_ongoing_restore_reports_tier_and_request_date(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a.bin", b"x", storage_class="ARCHIVE")
    client.execute(restore_object(ObjectRef(SRC_BUCKET, "a.bin"), 1, "Bulk"))
    captured: dict[str, str] = {}
    client.execute(
        Call(CosRequest("HeadObject", "HEAD", SRC_BUCKET, "a.bin"), lambda r: captured.update(r.headers))
    )
    status = {k.lower(): v for k, v in captured.items()}["x-cos-restore-status"]
    assert status.startswith('tier="bulk"; request-date="') and status.endswith(' GMT"')


def test_tier_times_and_deep_archive(cos: Any, client: CosClient) -> None:
    cos.set_restore_times(standard=HOUR)
    cos.put_object(SRC_BUCKET, "deep.bin", b"d", storage_class="DEEP_ARCHIVE")
    ref = ObjectRef(SRC_BUCKET, "deep.bin")
    error = refused(lambda: client.execute(restore_object(ref, 1, "Expedited")))
    assert (error.status, error.code) == (400, "InvalidArgument")
    assert client.execute(restore_object(ref, 1, "Standard")) == 202
    cos.advance_clock(3 * HOUR)  # DEEP_ARCHIVE takes four times the tier's time
    assert parse_restore_header(client.head_object(SRC_BUCKET, "deep.bin").restore).ongoing  # type: ignore[union-attr]
    cos.advance_clock(HOUR)
    assert client.execute(ops.get_object(ref)) == b"d"


def test_bad_restore_requests(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a.bin", b"x", storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "plain.bin", b"x")
    good = b"<RestoreRequest><Days>1</Days><CASJobParameters><Tier>Bulk</Tier></CASJobParameters></RestoreRequest>"
    cases = {
        b"not xml": (400, "MalformedXML"),
        b"<RestoreRequest><Days>1</Days></RestoreRequest>": (400, "MalformedXML"),
        good.replace(b"<Days>1", b"<Days>0"): (400, "InvalidArgument"),
        good.replace(b"<Days>1", b"<Days>366"): (400, "InvalidArgument"),
        good.replace(b"Bulk", b"Fast"): (400, "InvalidArgument"),
    }
    for body, expected in cases.items():
        error = refused(lambda body=body: raw_restore(client, "a.bin", body))
        assert (error.status, error.code) == expected, body
    assert client.head_object(SRC_BUCKET, "a.bin").restore is None  # none of them started anything
    error = refused(lambda: raw_restore(client, "plain.bin", good))
    assert (error.status, error.code) == (403, "InvalidObjectState")
    assert refused(lambda: raw_restore(client, "missing.bin", good)).code == "NoSuchKey"
    assert raw_restore(client, "a.bin", good) == 202


def test_a_rewritten_key_forgets_the_restore(cos: Any, client: CosClient) -> None:
    cos.set_restore_times(bulk=0)
    cos.put_object(SRC_BUCKET, "a.bin", b"old", storage_class="ARCHIVE")
    client.execute(restore_object(ObjectRef(SRC_BUCKET, "a.bin"), 1, "Bulk"))
    assert client.execute(ops.get_object(ObjectRef(SRC_BUCKET, "a.bin"))) == b"old"
    cos.put_object(SRC_BUCKET, "a.bin", b"new", storage_class="ARCHIVE")
    assert client.head_object(SRC_BUCKET, "a.bin").restore is None
    assert (
        refused(lambda: client.execute(ops.get_object(ObjectRef(SRC_BUCKET, "a.bin")))).code
        == "InvalidObjectState"
    )


def _admin(cos: Any, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(f"{cos.address}/_emulator/{path}", data=body, method=method)
    with urllib.request.urlopen(req, timeout=5) as answer:
        return json.loads(answer.read())


def test_admin_and_cli_knobs(cos: Any, client: CosClient) -> None:
    assert _admin(cos, "PUT", "restore", {"expedited": 30}) == {
        "expedited": 30.0,
        "standard": 3 * HOUR,
        "bulk": 5 * HOUR,
    }
    cos.set_model(latency=0.0)  # the other model settings leave the tier times alone
    assert cos.restore_times()["expedited"] == 30.0
    cos.put_object(SRC_BUCKET, "a.bin", b"x", storage_class="ARCHIVE")
    client.execute(restore_object(ObjectRef(SRC_BUCKET, "a.bin"), 1, "Expedited"))
    before = _admin(cos, "GET", "clock")["now"]
    assert _admin(cos, "POST", "clock", {"advance": 30})["now"] >= before + 30
    assert client.execute(ops.get_object(ObjectRef(SRC_BUCKET, "a.bin"))) == b"x"

    emu = build(
        _parser().parse_args(
            ["--port", "0", "--restore-seconds", "bulk=7", "--restore-seconds", "Standard=3"]
        )
    )
    assert emu.restore_times() == {"expedited": 60.0, "standard": 3.0, "bulk": 7.0}
    with pytest.raises(SystemExit, match="restore-seconds"):
        build(_parser().parse_args(["--port", "0", "--restore-seconds", "fast=1"]))
