"""CosHook: reading the connection, precedence, secrets, and Test against the emulator."""

from __future__ import annotations

import json
import logging

import pytest
from airflow.sdk.exceptions import AirflowNotFoundException

from cos_provider.client.errors import CosValidationError
from cos_provider.get_provider_info import CONN_FIELDS, get_provider_info
from cos_provider.hooks.cos import CosHook
from tests.conftest import APP_ID, BUCKETS, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET

FULL_EXTRA = {
    "region": "ap-shanghai",
    "app_id": "1250000001",
    "session_token": "tok-SECRET",
    "domain": "tencentcos.cn",
    "accelerate": "false",
    "custom_domain": None,
    "connect_address": "http://127.0.0.1:1",
    "scheme": "http",
    "bucket": "probe",
    "connect_timeout": "3.5",
    "read_timeout": 42,
    "max_attempts": "7",
    "verify": "false",
    "sse_customer_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "source_sse_customer_key": "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY=",
}


def set_conn(monkeypatch, conn_id="cos_test", login=SECRET_ID, password=SECRET_KEY, extra=None):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps({"conn_type": "tencent_cos", "login": login, "password": password, "extra": extra or {}}),
    )
    return conn_id


def test_reads_every_connection_field(monkeypatch):
    assert set(FULL_EXTRA) == set(CONN_FIELDS)  # a new form field must be read here too
    hook = CosHook(set_conn(monkeypatch, extra=FULL_EXTRA))
    s = hook.settings
    assert (s.credentials.secret_id, s.credentials.secret_key, s.credentials.token) == (
        SECRET_ID,
        SECRET_KEY,
        "tok-SECRET",
    )
    assert (s.endpoint.region, s.endpoint.domain, s.endpoint.accelerate, s.endpoint.scheme) == (
        "ap-shanghai",
        "tencentcos.cn",
        False,
        "http",
    )
    assert s.endpoint.connect_address == "http://127.0.0.1:1"
    assert (s.transport.connect_timeout, s.transport.read_timeout, s.transport.verify) == (3.5, 42, False)
    assert s.transport.retry.max_attempts == 7
    assert (s.app_id, s.bucket) == ("1250000001", "probe")
    assert hook.get_conn().bucket("probe") == "probe-1250000001"
    assert s.sse_customer_key is not None and s.sse_customer_key.md5 == "hRasmdxgYDKV3nvbahU1MA=="
    assert (
        s.source_sse_customer_key is not None and s.source_sse_customer_key.md5 == "U5L61r7jcwdNvT7frmUG8g=="
    )


def test_prefixed_extras_and_custom_domain(monkeypatch):
    extra = {"extra__tencent_cos__custom_domain": "files.example.com", "extra__tencent_cos__accelerate": True}
    s = CosHook(set_conn(monkeypatch, extra=extra)).settings
    assert s.endpoint.custom_domain == "files.example.com" and s.endpoint.accelerate


def test_explicit_arguments_win(monkeypatch):
    hook = CosHook(
        set_conn(monkeypatch, extra=FULL_EXTRA),
        region="ap-chengdu",
        app_id="42",
        max_attempts=2,
        connect_address="http://127.0.0.1:2",
        pool_size=33,
    )
    s = hook.settings
    assert (s.endpoint.region, s.app_id, s.transport.retry.max_attempts, s.transport.pool_size) == (
        "ap-chengdu",
        "42",
        2,
        33,
    )
    assert s.endpoint.connect_address == "http://127.0.0.1:2"


def test_connection_is_fetched_lazily(monkeypatch):
    fetched: list[str] = []
    real = CosHook.get_connection

    def counting(conn_id):
        fetched.append(conn_id)
        return real(conn_id)

    monkeypatch.setattr(CosHook, "get_connection", staticmethod(counting))
    hook = CosHook(set_conn(monkeypatch, extra={"region": REGION}))
    assert fetched == []  # DAG parsing builds hooks; it must not hit the secrets backend
    assert hook.settings is hook.settings
    with hook.get_conn() as client:
        assert client is hook.conn
    assert fetched == ["cos_test"]  # once, however often settings and the client are used


def test_a_missing_connection_is_named_when_first_used():
    hook = CosHook("does_not_exist")
    with pytest.raises(AirflowNotFoundException, match="does_not_exist"):
        _ = hook.settings


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"region": "ap-beijing", "regoin": "typo"}, "extra"),
        ({"region": "ap-beijing", "max_attempts": "many"}, "max_attempts"),
        ({"region": "ap-beijing", "verify": "maybe"}, "verify"),
        ({}, "region"),
    ],
)
def test_bad_connection_fields_name_the_field(monkeypatch, extra, field):
    with pytest.raises(CosValidationError) as info:
        _ = CosHook(set_conn(monkeypatch, extra=extra)).settings
    assert field in info.value.field


def test_missing_secret_key_is_named(monkeypatch):
    with pytest.raises(CosValidationError, match="password: must hold the SecretKey"):
        _ = CosHook(set_conn(monkeypatch, password="", extra={"region": "ap-beijing"})).settings


def test_secrets_stay_out_of_repr(monkeypatch):
    hook = CosHook(set_conn(monkeypatch, extra=FULL_EXTRA))
    text = repr(hook.settings) + repr(hook.get_conn()) + repr(hook.settings.credentials)
    assert SECRET_KEY not in text and "tok-SECRET" not in text
    assert SECRET_ID in text


def test_ui_field_behaviour_classmethod_matches_provider_info():
    behaviour = CosHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == {"login": "SecretId", "password": "SecretKey"}
    assert set(behaviour["hidden_fields"]) == {"host", "port", "schema"}
    (conn_type,) = get_provider_info()["connection-types"]
    info = conn_type["ui-field-behaviour"]
    assert behaviour == {
        "hidden_fields": info["hidden-fields"],
        "relabeling": info["relabeling"],
        "placeholders": info["placeholders"],
    }
    assert (CosHook.conn_type, CosHook.hook_name) == (conn_type["connection-type"], conn_type["hook-name"])


# ------------------------------------------------------------------ against the emulator


def conn_to(monkeypatch, cos, password=SECRET_KEY, **extra):
    base = {"region": REGION, "app_id": APP_ID, "connect_address": cos.address, "max_attempts": 2}
    base.update(extra)
    return set_conn(monkeypatch, "cos_emu", password=password, extra=base)


def requests_made(cos):
    return cos.counters()["requests"]


# The emulator's GET Service lists every bucket, whatever the region.
def test_test_connection_succeeds(cos, monkeypatch):
    ok, message = CosHook(conn_to(monkeypatch, cos, bucket="src")).test_connection()
    assert ok, message
    assert message == (
        f"Connected: credentials accepted ({len(BUCKETS)} bucket(s) in region {REGION}) and bucket {SRC_BUCKET} is reachable."
    )
    assert requests_made(cos) == {"GetService": {"200": 1}, "HeadBucket": {"200": 1}}


def test_test_connection_without_a_bucket_only_lists(cos, monkeypatch):
    ok, message = CosHook(conn_to(monkeypatch, cos)).test_connection()
    assert (ok, message) == (
        True,
        f"Connected: credentials accepted ({len(BUCKETS)} bucket(s) in region {REGION}).",
    )
    assert requests_made(cos) == {"GetService": {"200": 1}}


def test_test_connection_wrong_key(cos, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    ok, message = CosHook(conn_to(monkeypatch, cos, password="wrong-secret-key")).test_connection()
    assert not ok
    assert message.startswith("The SecretKey does not match the SecretId: check the connection's SecretKey")
    assert "wrong-secret-key" not in message and "wrong-secret-key" not in caplog.text
    assert requests_made(cos) == {"GetService": {"403": 1}}  # an auth error is not retried


def test_test_connection_missing_bucket_says_check_region(cos, monkeypatch):
    ok, message = CosHook(conn_to(monkeypatch, cos, bucket="nosuch")).test_connection()
    assert not ok
    assert message.startswith(
        f"Bucket 'nosuch' does not exist in region '{REGION}': check the bucket name, APPID and region"
    )
    assert requests_made(cos) == {"GetService": {"200": 1}, "HeadBucket": {"404": 1}}


def test_test_connection_unreachable(monkeypatch):
    conn = set_conn(
        monkeypatch,
        extra={
            "region": REGION,
            "connect_address": "http://127.0.0.1:9",
            "max_attempts": 1,
            "connect_timeout": 1,
        },
    )
    ok, message = CosHook(conn).test_connection()
    assert not ok
    assert message.startswith("Cannot reach COS at http://127.0.0.1:9: COS GetService connection failed")
