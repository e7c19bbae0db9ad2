"""Delete Multiple Objects and delimiter listings through the client and the hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cos_provider.client import operations as ops
from cos_provider.client import xmlcodec
from cos_provider.client.client import CosClient
from cos_provider.client.delete import delete_keys
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.protocol import Call, CosRequest
from cos_provider.emulator import FaultRule
from cos_provider.hooks.cos import CosHook
from tests.conftest import SRC_BUCKET, VERSIONED_BUCKET


def seed(cos: Any, keys: list[str], bucket: str = SRC_BUCKET) -> None:
    for key in keys:
        cos.put_object(bucket, key, b"x")


def test_builder_computes_content_md5_and_validates() -> None:
    call = ops.delete_objects("b-1250000000", ["a", ("b & c", "v1")], quiet=True)
    req = call.request
    assert (req.method, req.params) == ("POST", {"delete": ""})
    assert b"<Quiet>true</Quiet>" in req.body and b"<Key>b &amp; c</Key><VersionId>v1</VersionId>" in req.body
    import base64
    import hashlib

    assert req.headers["Content-MD5"] == base64.b64encode(hashlib.md5(req.body).digest()).decode()
    for bad, field in (([], "keys"), ([f"k{i}" for i in range(1001)], "keys"), ("a", "keys"), ([""], "keys")):
        with pytest.raises(CosValidationError) as exc:
            ops.delete_objects("b-1250000000", bad)
        assert exc.value.field == field
    with pytest.raises(CosValidationError, match="quiet"):
        ops.delete_objects("b-1250000000", ["a"], quiet="yes")  # type: ignore[arg-type]


def test_parse_delete_result() -> None:
    page = xmlcodec.parse_delete_result(
        b"<DeleteResult><Deleted><Key> a</Key><DeleteMarker>true</DeleteMarker>"
        b"<DeleteMarkerVersionId>m1</DeleteMarkerVersionId></Deleted>"
        b"<Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>"
    )
    assert page.deleted[0].key == " a" and page.deleted[0].delete_marker
    assert page.deleted[0].delete_marker_version_id == "m1"
    assert [(e.key, e.code, e.message) for e in page.errors] == [("b", "AccessDenied", "no")]


def test_client_delete_objects_verbose(client: CosClient, cos: Any) -> None:
    seed(cos, ["a", "b 中"])
    page = client.delete_objects(SRC_BUCKET, ["a", "b 中"], quiet=False)
    assert [d.key for d in page.deleted] == ["a", "b 中"] and page.errors == []
    assert cos.head(SRC_BUCKET, "a") is None


def test_2500_keys_in_3_requests(client: CosClient, cos: Any, requests_of: Callable[[str], int]) -> None:
    keys = [f"many/{i:04d}" for i in range(2500)]
    seed(cos, keys)
    result = delete_keys(client, SRC_BUCKET, iter(keys), concurrency=3)
    assert result.ok and sorted(result.deleted) == keys and result.requests == 3
    assert requests_of("DeleteMultipleObjects") == 3
    assert client.list_objects(SRC_BUCKET, prefix="many/").objects == []


def test_emulator_refuses_1001_keys_and_a_missing_md5(client: CosClient) -> None:
    body = xmlcodec.build_delete_objects([(f"k{i}", None) for i in range(1001)], True)
    import base64
    import hashlib

    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    too_many: Call[object] = Call(
        CosRequest(
            "DeleteMultipleObjects",
            "POST",
            SRC_BUCKET,
            params={"delete": ""},
            headers={"Content-MD5": md5},
            body=body,
        ),
        lambda r: None,
    )
    with pytest.raises(CosServiceError) as exc:
        client.execute(too_many)
    assert (exc.value.status, exc.value.code) == (400, "MalformedXML")
    small = xmlcodec.build_delete_objects([("k", None)], True)
    no_md5: Call[object] = Call(
        CosRequest("DeleteMultipleObjects", "POST", SRC_BUCKET, params={"delete": ""}, body=small),
        lambda r: None,
    )
    with pytest.raises(CosServiceError) as exc:
        client.execute(no_md5)
    assert (exc.value.status, exc.value.code) == (400, "InvalidRequest")


def test_per_key_errors_are_kept_with_key_and_code(client: CosClient, cos: Any) -> None:
    keys = [f"e/{i}" for i in range(1200)]
    seed(cos, keys)
    cos.add_fault(FaultRule.always("DeleteObject", "access_denied", key="e/7"))
    cos.add_fault(FaultRule.always("DeleteObject", "access_denied", key="e/1100"))
    result = delete_keys(client, SRC_BUCKET, keys)
    assert sorted((e.key, e.code) for e in result.errors) == [
        ("e/1100", "AccessDenied"),
        ("e/7", "AccessDenied"),
    ]
    assert len(result.deleted) == 1198 and "e/7" not in result.deleted
    assert cos.head(SRC_BUCKET, "e/7") is not None


def test_a_failed_batch_records_each_of_its_keys(client: CosClient, cos: Any) -> None:
    seed(cos, ["f/1", "f/2"])
    cos.add_fault(FaultRule.always("DeleteMultipleObjects", "access_denied"))
    result = delete_keys(client, SRC_BUCKET, ["f/1", "f/2"])
    assert [(e.key, e.code) for e in result.errors] == [("f/1", "AccessDenied"), ("f/2", "AccessDenied")]
    assert result.deleted == []


def test_dry_run_sends_nothing(client: CosClient, cos: Any, requests_of: Callable[[str], int]) -> None:
    seed(cos, ["d/1", "d/2"])
    result = delete_keys(client, SRC_BUCKET, ["d/1", "d/2"], dry_run=True)
    assert (result.deleted, result.dry_run, result.requests) == (["d/1", "d/2"], True, 0)
    assert requests_of("DeleteMultipleObjects") == 0
    assert cos.head(SRC_BUCKET, "d/1") is not None


def test_version_delete_by_pair(client: CosClient, cos: Any) -> None:
    first = cos.put_object(VERSIONED_BUCKET, "v", b"1")
    cos.put_object(VERSIONED_BUCKET, "v", b"2")
    result = delete_keys(client, VERSIONED_BUCKET, [("v", first["version_id"])])
    assert result.ok and result.deleted == ["v"]
    assert cos.get_object_bytes(VERSIONED_BUCKET, "v") == b"2"


# ------------------------------------------------------------------ hook


@pytest.fixture
def hook(cos_connection: str) -> CosHook:
    return CosHook(cos_connection)


def test_hook_delete_by_prefix_glob_and_keys(hook: CosHook, cos: Any) -> None:
    seed(cos, ["p/a.csv", "p/b.txt", "p/sub/c.csv", "q/d.csv"])
    dry = hook.delete_objects(SRC_BUCKET, match_glob="p/**.csv", dry_run=True)
    assert sorted(dry.deleted) == ["p/a.csv", "p/sub/c.csv"] and cos.head(SRC_BUCKET, "p/a.csv")
    assert sorted(hook.delete_objects(SRC_BUCKET, match_glob="p/**.csv").deleted) == [
        "p/a.csv",
        "p/sub/c.csv",
    ]
    assert hook.delete_objects(SRC_BUCKET, prefix="p/").deleted == ["p/b.txt"]
    assert hook.delete_objects(SRC_BUCKET, keys=["q/d.csv"]).deleted == ["q/d.csv"]
    assert hook.list_keys(SRC_BUCKET) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "prefix/match_glob/keys"),
        ({"prefix": "a", "keys": ["b"]}, "prefix/match_glob/keys"),
        ({"prefix": ""}, "prefix"),
        ({"keys": "a"}, "keys"),
        ({"keys": ["a"], "dry_run": "no"}, "dry_run"),
        ({"keys": ["a"], "concurrency": 0}, "concurrency"),
        ({"match_glob": 5}, "match_glob"),
    ],
)
def test_hook_delete_validates_before_any_request(
    hook: CosHook, cos: Any, requests_of: Callable[[str], int], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(CosValidationError) as exc:
        hook.delete_objects(SRC_BUCKET, **kwargs)
    assert exc.value.field == field
    assert requests_of("DeleteMultipleObjects") == 0 and requests_of("ListObjects") == 0


def test_hook_list_keys_and_prefixes(hook: CosHook, cos: Any) -> None:
    seed(cos, ["top.txt", "d/a b", "d/sub/x", "d/sub/y", "d/中/z", "e/1.csv", "e/2.txt"])
    assert hook.list_keys(SRC_BUCKET, delimiter="/") == ["top.txt"]
    assert hook.list_keys(SRC_BUCKET, "d/", delimiter="/") == ["d/a b"]
    assert hook.list_keys(SRC_BUCKET, "d/") == ["d/a b", "d/sub/x", "d/sub/y", "d/中/z"]
    assert hook.list_keys(SRC_BUCKET, match_glob="e/*.csv") == ["e/1.csv"]
    assert hook.list_prefixes(SRC_BUCKET) == ["d/", "e/"]
    assert hook.list_prefixes(SRC_BUCKET, "d/") == ["d/sub/", "d/中/"]
    for call, field in (
        (lambda: hook.list_keys(SRC_BUCKET, delimiter="//"), "delimiter"),
        (lambda: hook.list_prefixes(SRC_BUCKET, delimiter=""), "delimiter"),
        (lambda: hook.list_keys(SRC_BUCKET, 3), "prefix"),  # type: ignore[arg-type]
    ):
        with pytest.raises(CosValidationError) as exc:
            call()
        assert exc.value.field == field


def test_hook_list_prefixes_pages(hook: CosHook, cos: Any) -> None:
    seed(cos, [f"f{i:04d}/x" for i in range(1005)])
    assert len(hook.list_prefixes(SRC_BUCKET)) == 1005


def test_iter_versions_pages(client: CosClient, cos: Any) -> None:
    for i in range(3):
        cos.put_object(VERSIONED_BUCKET, "pv/a", str(i).encode())
    cos.put_object(VERSIONED_BUCKET, "pv/b", b"x")
    listed = list(client.iter_versions(VERSIONED_BUCKET, prefix="pv/", page_size=2))
    assert [(v.key, v.is_latest) for v in listed] == [
        ("pv/a", True),
        ("pv/a", False),
        ("pv/a", False),
        ("pv/b", True),
    ]
    assert len({v.version_id for v in listed}) == 4


def test_hook_deletes_every_version(hook: CosHook, cos: Any, client: CosClient) -> None:
    for body in (b"1", b"2"):
        cos.put_object(VERSIONED_BUCKET, "hv/a", body)
    cos.put_object(VERSIONED_BUCKET, "hv/b", b"3")
    cos.put_object(VERSIONED_BUCKET, "hv/ab", b"not selected by keys")
    plain = hook.delete_objects(VERSIONED_BUCKET, keys=["hv/b"])  # a delete marker only
    assert plain.deleted == ["hv/b"] and plain.versions_deleted == 0
    dry = hook.delete_objects(VERSIONED_BUCKET, keys=["hv/a", "hv/b"], versions=True, dry_run=True)
    assert dry.deleted == ["hv/a", "hv/b"]
    result = hook.delete_objects(VERSIONED_BUCKET, keys=["hv/a", "hv/b"], versions=True)
    assert result.ok and result.deleted == ["hv/a", "hv/b"] and result.versions_deleted == 4
    assert [v.key for v in client.iter_versions(VERSIONED_BUCKET, prefix="hv/")] == ["hv/ab"]
    by_glob = hook.delete_objects(VERSIONED_BUCKET, match_glob="hv/a*", versions=True)
    assert by_glob.deleted == ["hv/ab"] and by_glob.versions_deleted == 1
    with pytest.raises(CosValidationError, match="versions"):
        hook.delete_objects(VERSIONED_BUCKET, keys=["x"], versions="yes")  # type: ignore[arg-type]
