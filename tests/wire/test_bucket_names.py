"""Bucket names across accounts: the connection's APPID is appended to bare names only.

A copy from another account names that account's bucket in full
(``other-1300000000``); appending the connection's APPID to it addressed a
bucket that does not exist. The proxy shows which host each request was for.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosValidationError
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, connection_json

from .conftest import make_client
from .proxy import RecordingProxy

OTHER = "other-1300000000"  # another account's bucket
BARE = "logs-2024"  # ends in digits, but not in an APPID


def host(bucket: str) -> bytes:
    return f"{bucket}.cos.{REGION}.myqcloud.com".encode()


@pytest.mark.parametrize(
    ("name", "full"),
    [
        (OTHER, OTHER),
        (BARE, f"{BARE}-{APP_ID}"),
        ("logs", f"logs-{APP_ID}"),
        (f"logs-{APP_ID}", f"logs-{APP_ID}"),
        ("a-1-1250000000", "a-1-1250000000"),  # the docs' example of a valid name
        ("data-123456789", f"data-123456789-{APP_ID}"),  # 9 digits: not an APPID
        ("data-2250000000", f"data-2250000000-{APP_ID}"),  # 10 digits, not starting with 1
    ],
)
def test_the_appid_is_appended_to_bare_names_only(name: str, full: str) -> None:
    assert full_bucket_name(name, APP_ID) == full


def test_cross_account_copy_addresses_the_other_accounts_bucket(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    cos.create_bucket(OTHER, region=REGION)
    cos.create_bucket(f"{BARE}-{APP_ID}", region=REGION)
    cos.put_object(OTHER, "x", b"theirs")
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))  # APPID 1250000000

    CosHook().copy_object(f"cos://{OTHER}/x", "cos://dst/x")
    CosHook().copy_object(f"cos://{OTHER}/x", f"cos://{BARE}/x")

    head, copy = proxy.requests[:2]
    assert (head.method, head.header("Host")) == ("HEAD", host(OTHER))
    assert copy.header("Host") == host(DST_BUCKET)
    assert copy.header("x-cos-copy-source") == host(OTHER) + b"/x"
    assert proxy.requests[-1].header("Host") == host(f"{BARE}-{APP_ID}")
    assert cos.get_object_bytes(DST_BUCKET, "x") == b"theirs"
    assert cos.get_object_bytes(f"{BARE}-{APP_ID}", "x") == b"theirs"


def test_client_keeps_full_names_of_other_accounts(cos: Any, proxy: RecordingProxy) -> None:
    cos.create_bucket(OTHER, region=REGION)
    cos.put_object(OTHER, "x", b"theirs")
    with make_client(proxy.address) as client:
        assert client.head_object(OTHER, "x").bucket == OTHER
    assert proxy.only().header("Host") == host(OTHER)


@pytest.mark.parametrize("bad", ["12a", "125 000", "-1", "1.5"])
def test_a_non_numeric_appid_is_blamed_on_the_hook_argument(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    with pytest.raises(CosValidationError) as info:
        CosHook(app_id=bad).head_object("cos://src/a.txt")
    assert info.value.field == "app_id"
    assert "numeric APPID" in info.value.rule
    assert proxy.requests == []


def test_a_non_numeric_appid_is_blamed_on_the_connection_extra(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address, app_id="appid-1250000000"))
    with pytest.raises(CosValidationError) as info:
        CosHook().copy_object("cos://src/a.txt", "cos://dst/b.txt")
    assert info.value.field == "connection 'cos_default' extra app_id"
    assert proxy.requests == []


def test_a_numeric_appid_in_the_extra_json_is_accepted(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    conn = json.loads(connection_json(proxy.address))
    conn["extra"]["app_id"] = int(APP_ID)  # a JSON number, as a hand-written extra may hold it
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", json.dumps(conn))
    cos.put_object(DST_BUCKET, "k", b"1")
    assert CosHook().head_object("cos://dst/k").bucket == DST_BUCKET


def test_the_client_refuses_a_non_numeric_appid_when_made() -> None:
    from cos_provider.client.client import CosClient
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint

    with pytest.raises(CosValidationError) as info:
        CosClient(Credentials(SECRET_ID, SECRET_KEY), Endpoint(region=REGION), app_id="12a")
    assert info.value.field == "app_id"
