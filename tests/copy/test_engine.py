"""The copy engine against the emulator, over real HTTP."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyCancelled, CopyEngine, CopyOptions, CopyPartServiceError
from cos_provider.client.copy.errors import UploadNotAborted
from cos_provider.client.copy.resume import WITNESS_PART_NUMBER
from cos_provider.client.errors import CosError, CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.etag import same_etag
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.emulator import FaultRule
from tests.conftest import ARCHIVE_BUCKET, DST_BUCKET, OTHER_REGION, SRC_BUCKET, VERSIONED_BUCKET
from tests.copy.conftest import settle

MiB = limits.MiB
MULTIPART = {"multipart_threshold": 0, "part_size": MiB, "concurrency": 4}
"""Small objects through the multipart path: 1 MiB parts."""

CONTENT = {
    "content_type": "text/csv; charset=utf-8",
    "cache_control": "max-age=3600",
    "content_disposition": 'attachment; filename="r.csv"',
    "content_encoding": "identity",
    "expires": "Wed, 21 Oct 2037 07:28:00 GMT",
}


def src(client: CosClient, key: str, **kw: Any) -> ObjectRef:
    return client.ref(SRC_BUCKET, key, **kw)


def dst(client: CosClient, key: str) -> ObjectRef:
    return client.ref(DST_BUCKET, key)


def seed(cos: Any, key: str, size: int = 5 * MiB + 123, **kw: Any) -> dict[str, Any]:
    return cos.seed_synthetic(SRC_BUCKET, key, size=size, **kw)


class Spy:
    """A client that records part copies and can act between them."""

    def __init__(self, client: CosClient, after_part: Any = None) -> None:
        self._client = client
        self.after_part = after_part
        self.part_conditions: list[CopyConditions | None] = []
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def upload_part_copy(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.part_conditions.append(args[6] if len(args) > 6 else kwargs.get("conditions"))
        result = self._client.upload_part_copy(*args, **kwargs)
        if self.after_part is not None:
            self.after_part(args[3])
        return result


# ---------------------------------------------------------------- copies


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_copy_carries_content_headers_and_metadata(
    cos: Any, client: CosClient, options: dict[str, Any]
) -> None:
    data = bytes(range(256)) * (4096 + 17)  # 1 MiB + 4 KiB: two parts of 1 MiB
    cos.put_object(SRC_BUCKET, "in.csv", data, metadata={"owner": "etl", "run": "42"}, **CONTENT)
    out = CopyEngine(client).copy(src(client, "in.csv"), dst(client, "out.csv"), CopyOptions(**options))
    head = cos.head(DST_BUCKET, "out.csv")
    assert head["metadata"] == {"owner": "etl", "run": "42"}
    for name, value in CONTENT.items():
        assert head[name] == value, name
    assert out.size == len(data) == head["size"]
    assert out.crc64 == cos.head(SRC_BUCKET, "in.csv")["crc64"] == head["crc64"]
    assert out.part_count == (0 if not options else 2)
    assert out.method == ("single" if not options else "multipart")
    assert cos.get_object_bytes(DST_BUCKET, "out.csv") == data


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_replaced_applies_the_callers_values(cos: Any, client: CosClient, options: dict[str, Any]) -> None:
    seed(cos, "in.bin", size=2 * MiB + 1, metadata={"old": "x"}, content_type="text/plain")
    attrs = ObjectAttributes(
        content_type="application/json",
        cache_control="no-cache",
        metadata={"New-Key": "v", "x-cos-meta-other": "w"},
        storage_class="standard_ia",
        acl="private",
        grant_read='id="100000000002"',
        server_side_encryption="AES256",
        tagging="team=data&tier=gold",
    )
    out = CopyEngine(client).copy(
        src(client, "in.bin"),
        dst(client, "out.bin"),
        CopyOptions(metadata_directive="Replaced", attributes=attrs, **options),
    )
    head = cos.head(DST_BUCKET, "out.bin")
    assert head["metadata"] == {"new-key": "v", "other": "w"}
    assert head["content_type"] == "application/json"
    assert head["cache_control"] == "no-cache"
    assert head["storage_class"] == "STANDARD_IA"
    assert head["acl"] == "private"
    assert head["grants"] == {"x-cos-grant-read": 'id="100000000002"'}
    assert head["sse"] == "AES256"
    assert head["tagging"] == "team=data&tier=gold"
    assert out.crc64 == head["crc64"]


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_cross_region_source(cos: Any, client: CosClient, options: dict[str, Any]) -> None:
    info = cos.seed_synthetic(ARCHIVE_BUCKET, "far.bin", size=3 * MiB + 7, metadata={"from": "gz"})
    source = client.ref(ARCHIVE_BUCKET, "far.bin", region=OTHER_REGION)
    out = CopyEngine(client).copy(source, dst(client, "near.bin"), CopyOptions(**options))
    head = cos.head(DST_BUCKET, "near.bin")
    assert (head["size"], head["crc64"], head["metadata"]) == (info["size"], info["crc64"], {"from": "gz"})
    assert out.source_uri == f"cos://{ARCHIVE_BUCKET}/far.bin"


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_cross_region_destination(
    cos: Any, client: CosClient, other_client: CosClient, options: dict[str, Any]
) -> None:
    info = seed(cos, "near.bin", size=3 * MiB)
    source = client.ref(SRC_BUCKET, "near.bin", region=client.endpoint.region)
    dest = other_client.ref(ARCHIVE_BUCKET, "far.bin")
    CopyEngine(other_client).copy(source, dest, CopyOptions(**options))
    assert cos.head(ARCHIVE_BUCKET, "far.bin")["crc64"] == info["crc64"]


def test_destination_region_must_be_the_clients(client: CosClient) -> None:
    dest = client.ref(ARCHIVE_BUCKET, "far.bin", region=OTHER_REGION)
    with pytest.raises(CosValidationError) as err:
        CopyEngine(client).copy(src(client, "a"), dest)
    assert err.value.field == "dest.region"


def test_size_switch_at_the_threshold(cos: Any, client: CosClient, requests_of: Any) -> None:
    seed(cos, "edge.bin", size=2 * MiB)
    engine = CopyEngine(client)
    at = engine.copy(src(client, "edge.bin"), dst(client, "a"), CopyOptions(multipart_threshold=2 * MiB))
    above = engine.copy(
        src(client, "edge.bin"), dst(client, "b"), CopyOptions(multipart_threshold=2 * MiB - 1, part_size=MiB)
    )
    assert (at.method, above.method, above.part_count) == ("single", "multipart", 2)
    assert requests_of("CopyObject") == 1
    assert requests_of("UploadPartCopy") == 2


def test_zero_byte_source_uses_a_single_copy(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "empty", b"")
    out = CopyEngine(client).copy(src(client, "empty"), dst(client, "empty"), CopyOptions(**MULTIPART))
    assert (out.method, out.size) == ("single", 0)


def test_every_part_is_pinned_to_the_etag_read_by_head(cos: Any, client: CosClient) -> None:
    info = seed(cos, "pin.bin", size=4 * MiB)
    spy = Spy(client)
    CopyEngine(spy).copy(src(client, "pin.bin"), dst(client, "pin.bin"), CopyOptions(**MULTIPART))  # type: ignore[arg-type]
    assert len(spy.part_conditions) == 4
    for cond in spy.part_conditions:
        assert cond is not None
        assert cond.if_match is not None and cond.if_match.strip('"') == info["etag"]


# ---------------------------------------------------------------- conditions


def _lm(cos: Any, key: str) -> float:
    return float(cos.head(SRC_BUCKET, key)["last_modified"])


def _http(ts: float) -> str:
    from email.utils import formatdate

    return formatdate(ts, usegmt=True)


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
@pytest.mark.parametrize(
    ("name", "passing", "failing"),
    [
        ("if_match", lambda etag, lm: etag, lambda etag, lm: "0" * 32),
        ("if_none_match", lambda etag, lm: "0" * 32, lambda etag, lm: etag),
        ("if_modified_since", lambda etag, lm: _http(lm - 3600), lambda etag, lm: _http(lm + 3600)),
        ("if_unmodified_since", lambda etag, lm: _http(lm + 3600), lambda etag, lm: _http(lm - 3600)),
    ],
)
def test_each_condition_passes_or_fails_with_412(
    cos: Any, client: CosClient, options: dict[str, Any], name: str, passing: Any, failing: Any
) -> None:
    info = seed(cos, "c.bin", size=2 * MiB + 5)
    etag, lm = info["etag"], _lm(cos, "c.bin")
    engine = CopyEngine(client)
    ok = CopyOptions(conditions=CopyConditions(**{name: passing(etag, lm)}), **options)
    assert engine.copy(src(client, "c.bin"), dst(client, "ok.bin"), ok).size == info["size"]
    bad = CopyOptions(conditions=CopyConditions(**{name: failing(etag, lm)}), **options)
    with pytest.raises(CosServiceError) as err:
        engine.copy(src(client, "c.bin"), dst(client, "bad.bin"), bad)
    assert err.value.status == 412
    assert err.value.code == "PreconditionFailed"
    assert cos.head(DST_BUCKET, "bad.bin") is None
    assert cos.live_uploads() == 0


@pytest.mark.parametrize(
    "pair",
    [
        {"if_match": "a", "if_none_match": "b"},
        {"if_match": "a", "if_modified_since": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"if_none_match": "a", "if_unmodified_since": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {
            "if_modified_since": "Wed, 21 Oct 2015 07:28:00 GMT",
            "if_unmodified_since": "Wed, 21 Oct 2015 07:28:00 GMT",
        },
    ],
)
def test_conflicting_conditions_fail_before_any_request(
    cos: Any, client: CosClient, pair: dict[str, str]
) -> None:
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        CopyEngine(client).copy(
            src(client, "x"), dst(client, "y"), CopyOptions(conditions=CopyConditions(**pair))
        )
    assert "If-Match with If-Unmodified-Since" in err.value.rule
    assert cos.counters()["requests"] == before


def test_allowed_pairs_work(cos: Any, client: CosClient, requests_of: Any) -> None:
    info = seed(cos, "p.bin", size=2 * MiB)
    lm = _lm(cos, "p.bin")
    engine = CopyEngine(client)
    pairs = {
        "p1.bin": CopyConditions(if_match=info["etag"], if_unmodified_since=_http(lm + 60)),
        "p2.bin": CopyConditions(if_none_match="0" * 32, if_modified_since=_http(lm - 60)),
    }
    for options, method in (({}, "single"), (MULTIPART, "multipart")):
        for key, conditions in pairs.items():
            dest = f"{method}-{key}"
            out = engine.copy(
                src(client, "p.bin"), dst(client, dest), CopyOptions(conditions=conditions, **options)
            )
            head = cos.head(DST_BUCKET, dest)
            assert head is not None, dest
            assert (out.method, out.size, out.crc64) == (method, info["size"], info["crc64"])
            assert (head["size"], head["crc64"]) == (info["size"], info["crc64"])
            assert same_etag(out.source_etag, info["etag"])
    assert requests_of("CopyObject") == 2
    assert requests_of("CompleteMultipartUpload") == 2


# ---------------------------------------------------------------- versions and keys


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_copy_an_older_version(cos: Any, client: CosClient, options: dict[str, Any]) -> None:
    v1 = cos.seed_synthetic(VERSIONED_BUCKET, "doc", size=2 * MiB + 1, seed=1)
    v2 = cos.seed_synthetic(VERSIONED_BUCKET, "doc", size=3 * MiB + 2, seed=2)
    assert v1["version_id"] and v2["version_id"] and v1["version_id"] != v2["version_id"]
    source = client.ref(VERSIONED_BUCKET, "doc", version_id=v1["version_id"])
    out = CopyEngine(client).copy(source, dst(client, "doc.v1"), CopyOptions(**options))
    assert (out.size, out.crc64) == (v1["size"], v1["crc64"])
    assert out.source_version_id == v1["version_id"]
    latest = CopyEngine(client).copy(
        client.ref(VERSIONED_BUCKET, "doc"), dst(client, "doc.latest"), CopyOptions(**options)
    )
    assert (latest.crc64, latest.source_version_id) == (v2["crc64"], v2["version_id"])


def test_versioned_destination_reports_the_new_version(cos: Any, client: CosClient) -> None:
    seed(cos, "v.bin", size=2 * MiB)
    for options in ({}, MULTIPART):
        out = CopyEngine(client).copy(
            src(client, "v.bin"), client.ref(VERSIONED_BUCKET, "copied"), CopyOptions(**options)
        )
        assert out.version_id
        assert cos.head(VERSIONED_BUCKET, "copied")["version_id"] == out.version_id


@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_delete_markers(cos: Any, client: CosClient, options: dict[str, Any]) -> None:
    cos.seed_synthetic(VERSIONED_BUCKET, "gone", size=2 * MiB)
    marker = client.delete_object(VERSIONED_BUCKET, "gone")
    assert marker
    engine = CopyEngine(client)
    with pytest.raises(CosServiceError) as current:
        engine.copy(client.ref(VERSIONED_BUCKET, "gone"), dst(client, "x"), CopyOptions(**options))
    assert current.value.status == 404
    with pytest.raises(CosServiceError) as by_id:
        engine.copy(
            client.ref(VERSIONED_BUCKET, "gone", version_id=marker), dst(client, "x"), CopyOptions(**options)
        )
    assert by_id.value.status in (400, 404, 405)
    assert cos.head(DST_BUCKET, "x") is None
    assert cos.live_uploads() == 0


KEYS = [
    "目录/数据 文件+1.csv",
    "a b/c+d/e%20f?g=h&i#j.txt",
    "dir//double/./dot/../x",
    "emoji-🚀/ü ñ é",
    "~!@$^&*()_-=[]{};',.`",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("options", [{}, MULTIPART], ids=["single", "multipart"])
def test_unicode_and_special_keys(cos: Any, client: CosClient, key: str, options: dict[str, Any]) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, key, size=MiB + 3, metadata={"k": "v"})
    out = CopyEngine(client).copy(src(client, key), dst(client, "copy/" + key), CopyOptions(**options))
    assert out.key == "copy/" + key
    assert out.dest_uri == f"cos://{DST_BUCKET}/copy/{key}"
    head = cos.head(DST_BUCKET, "copy/" + key)
    assert (head["crc64"], head["metadata"]) == (info["crc64"], {"k": "v"})
    assert cos.live_uploads() == 0


# ---------------------------------------------------------------- verification and failures


def test_corrupt_part_is_caught_before_complete(cos: Any, client: CosClient, requests_of: Any) -> None:
    seed(cos, "c.bin", size=5 * MiB)
    cos.add_fault(FaultRule(operation="UploadPartCopy", kind="corrupt", times=1, part_number=3))
    with pytest.raises(CosIntegrityError) as err:
        CopyEngine(client).copy(src(client, "c.bin"), dst(client, "c.bin"), CopyOptions(**MULTIPART))
    assert "CRC64" in str(err.value)
    assert requests_of("CompleteMultipartUpload") == 0
    assert cos.head(DST_BUCKET, "c.bin") is None
    assert cos.live_uploads() == 0


def test_corrupt_result_is_caught_after_complete_and_deleted(cos: Any, client: CosClient) -> None:
    """Parts without CRCs (as when resumed) are checked on the completed object."""
    seed(cos, "c.bin", size=3 * MiB)
    engine = CopyEngine(client)
    options = CopyOptions(**MULTIPART)
    session = engine.start_multipart(src(client, "c.bin"), dst(client, "c.bin"), options)
    cos.add_fault(FaultRule(operation="UploadPartCopy", kind="corrupt", times=1, part_number=2))
    results = engine.copy_parts(session, [1, 2, 3], 2)
    with pytest.raises(CosIntegrityError) as err:
        engine.finish_multipart(session, {n: (r.etag, None) for n, r in results.items()})
    assert "CRC64" in str(err.value) and "deleted" in str(err.value)
    assert cos.head(DST_BUCKET, "c.bin") is None
    assert cos.live_uploads() == 0


def test_terminal_part_failure_aborts_and_names_the_part(cos: Any, client: CosClient) -> None:
    seed(cos, "f.bin", size=6 * MiB)
    cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=4))
    with pytest.raises(CopyPartServiceError) as err:
        CopyEngine(client).copy(src(client, "f.bin"), dst(client, "f.bin"), CopyOptions(**MULTIPART))
    exc = err.value
    assert exc.part is not None and exc.part.number == 4
    assert f"part 4 (bytes={3 * MiB}-{4 * MiB - 1})" in str(exc)
    assert exc.request_id and exc.request_id in str(exc)
    assert exc.status == 500 and exc.upload_id
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "f.bin") is None


def test_non_transient_error_200_on_a_part_aborts(cos: Any, client: CosClient, requests_of: Any) -> None:
    seed(cos, "f.bin", size=4 * MiB)
    cos.add_fault(FaultRule.always("UploadPartCopy", "error_200", part_number=2, code="InvalidArgument"))
    with pytest.raises(CopyPartServiceError) as err:
        CopyEngine(client).copy(src(client, "f.bin"), dst(client, "f.bin"), CopyOptions(**MULTIPART))
    assert (err.value.status, err.value.code) == (200, "InvalidArgument")
    assert cos.live_uploads() == 0


def sent(cos: Any, operation: str) -> int:
    """Requests of ``operation`` the emulator answered, whatever the status."""
    settle(cos)
    return sum(cos.counters()["requests"].get(operation, {}).values())


def injected(cos: Any, operation: str, kind: str) -> int:
    return int(cos.counters()["faults_injected"].get(operation, {}).get(kind, 0))


@pytest.mark.parametrize("kind", ["error_200", "internal_error", "slow_down", "reset"])
def test_transient_part_failures_are_retried(cos: Any, client: CosClient, kind: str) -> None:
    info = seed(cos, "t.bin", size=4 * MiB)
    cos.add_fault(FaultRule(operation="UploadPartCopy", kind=kind, times=2))
    out = CopyEngine(client).copy(src(client, "t.bin"), dst(client, "t.bin"), CopyOptions(**MULTIPART))
    assert out.crc64 == info["crc64"]
    assert injected(cos, "UploadPartCopy", kind) == 2
    assert sent(cos, "UploadPartCopy") == 4 + 2  # 4 parts, 2 of them twice
    assert cos.live_uploads() == 0


@pytest.mark.parametrize("kind", ["error_200", "internal_error"])
def test_transient_complete_failures_are_retried(cos: Any, client: CosClient, kind: str) -> None:
    info = seed(cos, "t.bin", size=3 * MiB)
    cos.add_fault(FaultRule(operation="CompleteMultipartUpload", kind=kind, times=1))
    out = CopyEngine(client).copy(src(client, "t.bin"), dst(client, "t.bin"), CopyOptions(**MULTIPART))
    assert out.crc64 == info["crc64"]
    assert injected(cos, "CompleteMultipartUpload", kind) == 1
    assert sent(cos, "CompleteMultipartUpload") == 2


def test_complete_error_inside_keepalive_200(cos: Any, client: CosClient) -> None:
    seed(cos, "k.bin", size=3 * MiB)
    cos.add_fault(
        FaultRule.always(
            "CompleteMultipartUpload", "keepalive_whitespace", code="InvalidPart", delay=0.2, interval=0.05
        )
    )
    with pytest.raises(CopyPartServiceError) as err:
        CopyEngine(client).copy(src(client, "k.bin"), dst(client, "k.bin"), CopyOptions(**MULTIPART))
    assert (err.value.status, err.value.code) == (200, "InvalidPart")
    assert "CompleteMultipartUpload" in str(err.value)
    assert cos.live_uploads() == 0


def test_complete_whose_answer_was_lost(cos: Any, client: CosClient) -> None:
    """The first Complete succeeds but the connection drops; the retry gets NoSuchUpload."""
    info = seed(cos, "l.bin", size=3 * MiB)
    cos.add_fault(FaultRule(operation="CompleteMultipartUpload", kind="reset", times=1))
    out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), CopyOptions(**MULTIPART))
    assert (out.size, out.crc64) == (info["size"], info["crc64"])
    assert cos.live_uploads() == 0


def test_source_overwritten_mid_copy_fails_with_412(cos: Any, client: CosClient) -> None:
    seed(cos, "moving.bin", size=6 * MiB, seed=1)
    overwritten = threading.Event()

    def overwrite(part_number: int) -> None:
        if part_number == 2 and not overwritten.is_set():
            cos.seed_synthetic(SRC_BUCKET, "moving.bin", size=6 * MiB, seed=2)
            overwritten.set()

    spy = Spy(client, after_part=overwrite)
    with pytest.raises(CosServiceError) as err:
        CopyEngine(spy).copy(  # type: ignore[arg-type]
            src(client, "moving.bin"),
            dst(client, "moving.bin"),
            CopyOptions(**{**MULTIPART, "concurrency": 1}),
        )
    assert err.value.status == 412
    assert "part 3" in str(err.value)
    assert cos.head(DST_BUCKET, "moving.bin") is None
    assert cos.live_uploads() == 0


def test_cancel_aborts_the_upload(cos: Any, client: CosClient) -> None:
    seed(cos, "slow.bin", size=8 * MiB)
    first_part = threading.Event()

    def hold(part_number: int) -> None:
        first_part.set()
        assert engine.uploads.cancelled.wait(10), "the test never cancelled"

    spy = Spy(client, after_part=hold)  # every part copy returns only once the engine is cancelled
    engine = CopyEngine(spy)  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            engine.copy(
                src(client, "slow.bin"),
                dst(client, "slow.bin"),
                CopyOptions(**{**MULTIPART, "concurrency": 2}),
            )
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert first_part.wait(10), "no part was copied"
    assert cos.live_uploads() == 1
    engine.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], CopyCancelled)
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "slow.bin") is None


def test_progress_is_logged(cos: Any, client: CosClient, caplog: pytest.LogCaptureFixture) -> None:
    seed(cos, "p.bin", size=6 * MiB)
    cos.set_model(copy_bandwidth=10 * MiB)  # 0.1 s per part, 2 at a time
    caplog.set_level(logging.INFO, logger="cos_provider.copy")
    CopyEngine(client).copy(
        src(client, "p.bin"),
        dst(client, "p.bin"),
        CopyOptions(**{**MULTIPART, "concurrency": 2}, progress_interval=0.1),
    )
    lines = [r.getMessage() for r in caplog.records if "parts," in r.getMessage()]
    assert any("ETA" in line and "MB/s" in line and "/6 parts" in line for line in lines), lines
    assert "6/6 parts" in lines[-1] and "100%" in lines[-1] and "took" in lines[-1]


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"metadata_directive": "Move"}, "metadata_directive"),
        ({"attributes": ObjectAttributes(storage_class="GLACIER")}, "storage_class"),
        ({"attributes": ObjectAttributes(acl="everyone")}, "acl"),
        ({"attributes": ObjectAttributes(server_side_encryption="KMS")}, "server_side_encryption"),
        ({"part_size": MiB - 1}, "part_size"),
        ({"part_size": 5 * limits.GiB + 1}, "part_size"),
        ({"multipart_threshold": 5 * limits.GiB + 1}, "multipart_threshold"),
        ({"concurrency": 0}, "concurrency"),
        ({"attributes": ObjectAttributes(content_type="text/plain")}, "metadata_directive"),
        (
            {"metadata_directive": "Replaced", "attributes": ObjectAttributes(metadata={"k": "v" * 5000})},
            "metadata['k']",
        ),
        (
            {
                "metadata_directive": "Replaced",
                "attributes": ObjectAttributes(metadata={f"k{i}": "v" * 1000 for i in range(5)}),
            },
            "metadata",
        ),
        (
            {"metadata_directive": "Replaced", "attributes": ObjectAttributes(metadata={"bad_name": "v"})},
            "metadata['bad_name']",
        ),
    ],
)
def test_bad_options_fail_before_any_request(
    cos: Any, client: CosClient, options: dict[str, Any], field: str
) -> None:
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        CopyEngine(client).copy(src(client, "x"), dst(client, "y"), CopyOptions(**options))
    assert err.value.field == field
    assert cos.counters()["requests"] == before


def test_same_object_requires_replaced(cos: Any, client: CosClient) -> None:
    with pytest.raises(CosValidationError) as err:
        CopyEngine(client).copy(src(client, "x"), src(client, "x"))
    assert err.value.field == "metadata_directive"
    assert "same" in err.value.rule


def test_a_9999_part_plan_writes_its_witness_as_part_10000(
    cos: Any, client: CosClient, requests_of: Any
) -> None:
    seed(cos, "9999.bin", size=(limits.MAX_PARTS - 1) * MiB)
    engine = CopyEngine(client)
    session = engine.start_multipart(
        src(client, "9999.bin"), dst(client, "9999.bin"), CopyOptions(**MULTIPART)
    )
    assert session.plan.part_count == WITNESS_PART_NUMBER - 1
    assert requests_of("ListMultipartUploads") == 1
    assert [p.part_number for p in client.iter_parts(session.dest, session.upload_id)] == [
        WITNESS_PART_NUMBER
    ]
    engine.abort(session)


def test_a_10000_part_copy_has_no_room_for_a_witness(cos: Any, client: CosClient, requests_of: Any) -> None:
    """Every part number is the plan's: no witness, no resume, and the copy still succeeds."""
    info = seed(cos, "10k.bin", size=limits.MAX_PARTS * MiB)
    options = CopyOptions(multipart_threshold=0, part_size=MiB, concurrency=16)
    source, dest = src(client, "10k.bin"), dst(client, "10k.bin")
    # A first try that died after two parts.
    crashed = CopyEngine(client).start_multipart(source, dest, options)
    CopyEngine(client).copy_parts(crashed, [1, 2], 2)
    assert crashed.plan.part_count == WITNESS_PART_NUMBER
    assert sorted(p.part_number for p in client.iter_parts(dest, crashed.upload_id)) == [1, 2]

    out = CopyEngine(client).copy(source, dest, options)
    assert (out.part_count, out.parts_reused, out.parts_copied) == (limits.MAX_PARTS, 0, limits.MAX_PARTS)
    assert out.upload_id != crashed.upload_id
    assert (out.size, out.crc64) == (info["size"], info["crc64"])
    assert cos.head(DST_BUCKET, "10k.bin")["parts_count"] == limits.MAX_PARTS
    assert requests_of("UploadPart") == 0  # no witness was written, by either try
    assert requests_of("ListMultipartUploads") == 0  # nor looked for
    # The first try's upload has no witness, so it is left alone like anyone else's.
    assert cos.live_uploads() == 1


def test_single_copy_with_other_bytes_than_head_said_is_deleted(cos: Any, client: CosClient) -> None:
    """The ETag pin cannot prove the bytes; the CRC64 can (here: same ETag, other content)."""
    from cos_provider.emulator.content import Content
    from cos_provider.emulator.store import ObjectAttrs

    cos.put_object(SRC_BUCKET, "s.bin", b"a" * 4096)
    before = cos.head(SRC_BUCKET, "s.bin")

    class SwapsTheSource(Spy):
        def copy_object(self, *args: Any, **kwargs: Any) -> Any:
            store = cos.store
            store.put(
                store.bucket(SRC_BUCKET),
                "s.bin",
                Content.from_bytes(b"b" * 4096),
                before["etag"],
                ObjectAttrs(),
            )
            return self._client.copy_object(*args, **kwargs)

    with pytest.raises(CosIntegrityError) as err:
        CopyEngine(SwapsTheSource(client)).copy(src(client, "s.bin"), dst(client, "s.bin"))  # type: ignore[arg-type]
    assert f"!= source CRC64 {before['crc64']}" in str(err.value)
    assert "deleted" in str(err.value)
    assert cos.head(DST_BUCKET, "s.bin") is None


def test_a_wrong_size_after_complete_is_caught_and_deleted(cos: Any, client: CosClient) -> None:
    info = seed(cos, "w.bin", size=4 * MiB)
    engine = CopyEngine(client)
    session = engine.start_multipart(src(client, "w.bin"), dst(client, "w.bin"), CopyOptions(**MULTIPART))
    results = engine.copy_parts(session, [1, 2, 3], 2)
    # Part 4 holds half a MiB instead of one (a last part may be short, so Complete accepts it).
    short = client.upload_part_copy(
        session.source, session.dest, session.upload_id, 4, 3 * MiB, 3 * MiB + MiB // 2 - 1
    )
    parts: dict[int, tuple[str, int | None]] = {n: (r.etag, None) for n, r in results.items()}
    parts[4] = (short.etag, None)
    with pytest.raises(CosIntegrityError) as err:
        engine.finish_multipart(session, parts)
    assert f"size {3 * MiB + MiB // 2} != source size {info['size']}" in str(err.value)
    assert session.upload_id in str(err.value) and "deleted" in str(err.value)
    assert cos.head(DST_BUCKET, "w.bin") is None
    assert cos.live_uploads() == 0


def test_an_abort_that_keeps_failing_is_reported_with_the_upload_id(
    cos: Any, client: CosClient, caplog: pytest.LogCaptureFixture
) -> None:
    seed(cos, "a.bin", size=4 * MiB)
    cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=2))
    cos.add_fault(FaultRule.always("AbortMultipartUpload", "internal_error"))
    with pytest.raises(CopyPartServiceError) as err:
        CopyEngine(client).copy(src(client, "a.bin"), dst(client, "a.bin"), CopyOptions(**MULTIPART))
    upload_id = err.value.upload_id
    assert upload_id and f"of upload {upload_id}" in str(err.value)
    assert injected(cos, "AbortMultipartUpload", "internal_error") >= 3  # every retry of it failed
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"Could not abort upload {upload_id} of cos://{DST_BUCKET}/a.bin" in m for m in errors), errors
    assert cos.live_uploads() == 1  # left for a lifecycle rule, and said so


def _left_behind(exc: BaseException) -> list[str]:
    return [n for n in getattr(exc, "__notes__", []) if n.startswith("Left behind: ")]


@pytest.mark.parametrize("where", ["part", "complete", "crc"])
def test_a_failed_copy_whose_abort_fails_names_the_upload_left_behind(
    cos: Any, client: CosClient, where: str
) -> None:
    """The task's error itself says what to clean up: upload id, bucket and key (a note, shown with the traceback)."""
    seed(cos, "a.bin", size=4 * MiB)
    if where == "part":
        cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=2))
    elif where == "complete":
        cos.add_fault(FaultRule.always("CompleteMultipartUpload", "error_200", code="InvalidPart"))
    else:
        cos.add_fault(FaultRule(operation="UploadPartCopy", kind="corrupt", times=1, part_number=2))
    cos.add_fault(FaultRule.always("AbortMultipartUpload", "internal_error"))
    with pytest.raises(CosError) as err:
        CopyEngine(client).copy(src(client, "a.bin"), dst(client, "a.bin"), CopyOptions(**MULTIPART))
    assert injected(cos, "AbortMultipartUpload", "internal_error") >= 3  # more than the retry budget
    (upload_id,) = [u.upload_id for u in client.iter_multipart_uploads(DST_BUCKET)]
    (note,) = _left_behind(err.value)
    assert f"Could not abort upload {upload_id} of cos://{DST_BUCKET}/a.bin" in note
    assert "abort it by hand" in note


def test_an_explicit_abort_that_keeps_failing_raises_with_the_upload(cos: Any, client: CosClient) -> None:
    """The mapped teardown's abort: a failure is the task's, and it names the upload, bucket and key."""
    seed(cos, "a.bin", size=4 * MiB)
    engine = CopyEngine(client)
    session = engine.start_multipart(src(client, "a.bin"), dst(client, "a.bin"), CopyOptions(**MULTIPART))
    cos.add_fault(FaultRule(operation="AbortMultipartUpload", kind="internal_error", times=5))
    with pytest.raises(UploadNotAborted) as err:
        engine.abort(session, "teardown")
    assert injected(cos, "AbortMultipartUpload", "internal_error") == 3  # every attempt
    exc = err.value
    assert (exc.upload_id, exc.bucket, exc.key) == (session.upload_id, DST_BUCKET, "a.bin")
    assert f"upload {session.upload_id} of cos://{DST_BUCKET}/a.bin" in str(exc)
    assert isinstance(exc.cause, CosServiceError) and exc.cause.status == 500
    assert cos.live_uploads() == 1
    assert engine.abort(session) is True  # the fault is spent: now it goes
    assert cos.live_uploads() == 0


def test_the_hooks_abort_raises_when_the_abort_fails(cos: Any, cos_connection: str) -> None:
    from cos_provider.hooks.cos import CosHook

    seed(cos, "a.bin", size=4 * MiB)
    hook = CosHook(cos_connection)
    start = hook.start_multipart_copy(
        f"cos://{SRC_BUCKET}/a.bin", f"cos://{DST_BUCKET}/a.bin", batches=2, part_size=MiB
    )
    session = start.session.to_dict(include_parts=False)
    cos.add_fault(FaultRule(operation="AbortMultipartUpload", kind="internal_error", times=5))
    with pytest.raises(UploadNotAborted) as err:
        hook.abort_multipart_copy(session, "teardown")
    assert injected(cos, "AbortMultipartUpload", "internal_error") == 3  # max_attempts of the connection
    assert f"upload {session['upload_id']} of cos://{DST_BUCKET}/a.bin" in str(err.value)
    assert hook.abort_multipart_copy(session) is True
    assert hook.abort_multipart_copy(session) is False  # no longer open


def test_a_restated_unreadable_answer_keeps_its_request_id() -> None:
    """An unreadable 200 did get an answer: its restatement must not claim there was none."""
    from cos_provider.client.copy.errors import CopyPartTransportError
    from cos_provider.client.errors import CosResponseError, CosTransportError

    unreadable = CosResponseError(
        "COS answered 200 with a body that cannot be read", status=200, request_id="rid-7"
    )
    restated = CopyPartTransportError(unreadable, "Complete", None, "up-1")
    assert "no response" not in str(restated)
    unanswered = CopyPartTransportError(CosTransportError("connection failed"), "Complete", None, "up-1")
    assert "(no COS request id: no response)" in str(unanswered)
