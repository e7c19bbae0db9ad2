"""The pure parts shared by every mode (:mod:`cos_provider.client.watch`): globs,
targets, check_fn inspection, the deferred wait and error classification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cos_provider.client.errors import CosServiceError, CosTransportError, CosValidationError
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.client.timestamps import to_datetime
from cos_provider.client.uri import parse_cos_url
from cos_provider.client.watch import (
    Target,
    Timing,
    WatchError,
    classify,
    parse_targets,
    unusable_connection,
)
from cos_provider.client.watch.checkfn import check_fn_kwargs
from tests.sensors.support import fresh_import

# ---------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("data/*.csv", "data/a.csv", True),
        ("data/*.csv", "data/sub/a.csv", False),  # * stays in its segment
        ("data/**.csv", "data/sub/a.csv", True),
        ("data/**/a.csv", "data/a.csv", True),  # **/ also matches no directory
        ("data/**/a.csv", "data/x/y/a.csv", True),
        ("part-?.csv", "part-1.csv", True),
        ("part-?.csv", "part-10.csv", False),
        ("log-[0-9].gz", "log-7.gz", True),  # ranges match (apache/airflow#15538)
        ("log-[0-9].gz", "log-x.gz", False),
        ("log-[!0-9].gz", "log-x.gz", True),
        ("log-[!0-9].gz", "log-/.gz", False),  # a negated class never matches /
        ("a[*]b", "a*b", True),  # a bracketed * is literal
        ("a[*]b", "axb", False),
        ("odd[name", "odd[name", True),  # an unclosed [ is literal
        ("x.y+z(1)$", "x.y+z(1)$", True),  # regex characters are literal
        ("x.y", "xzy", False),
        ("中文/*.txt", "中文/文件.txt", True),
    ],
)
def test_glob(pattern, key, matches):
    assert bool(glob_regex(pattern).fullmatch(key)) is matches


def test_invalid_glob_is_a_validation_error():
    with pytest.raises(CosValidationError, match="not a valid glob"):
        glob_regex("x[z-a]")


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("data/2024/*.csv", "data/2024/"),
        ("logs/0[1-9]/x", "logs/0"),
        ("a?b", "a"),
        ("*", ""),
        ("plain/key", "plain/key"),
    ],
)
def test_literal_prefix(pattern, prefix):
    assert literal_prefix(pattern) == prefix


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab/*?[]!-.x", min_size=1, max_size=12), st.text(alphabet="ab/-.x", max_size=12))
def test_every_glob_match_starts_with_the_listed_prefix(pattern, key):
    """Listing only the literal prefix never loses a match."""
    try:
        rx = glob_regex(pattern)
    except CosValidationError:  # reversed ranges such as [z-a]
        return
    if rx.fullmatch(key):
        assert key.startswith(literal_prefix(pattern))


# ---------------------------------------------------------------- targets


def test_parse_targets():
    assert parse_targets("src", ["a/b", "cos://dst-1250000000/c/d?x#y"], use_glob=False) == (
        Target("src", "a/b"),
        Target("dst-1250000000", "c/d?x#y"),  # URL keys are literal
    )
    assert parse_targets(None, "cos://b/k*", use_glob=True) == (Target("b", "k*", glob=True),)
    assert parse_targets("b", "k*", use_glob=False) == (Target("b", "k*", glob=False),)
    # the scheme is case-insensitive, as everywhere cos:// URLs are read
    assert parse_targets("src", "COS://dst/in/k.csv") == (Target("dst", "in/k.csv"),)
    assert parse_targets(None, ["Cos://b/x"]) == (Target("b", "x"),)
    assert parse_cos_url("cos://b/x/y") == ("b", "x/y")
    for bad in ("cos://", "cos://b", "cos://b/", "s3://b/k"):
        with pytest.raises(CosValidationError):
            parse_cos_url(bad)
    with pytest.raises(CosValidationError, match="bucket"):
        parse_targets(None, "k")
    with pytest.raises(CosValidationError):
        parse_targets("b", [])


def test_to_datetime():
    assert to_datetime("2024-05-01T10:00:00Z") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert to_datetime(dt.datetime(2024, 5, 1)).tzinfo is dt.timezone.utc
    with pytest.raises(CosValidationError):
        to_datetime("yesterday")


# ---------------------------------------------------------------- check_fn


def test_check_fn_kwargs():
    context = {"ti": 1, "params": 2, "ds": 3}

    def plain(objects):
        return True

    def everything(objects, **kw):
        return True

    def named(objects, ti, *, ds, other=None):
        return True

    assert check_fn_kwargs(plain, context) == {}
    assert check_fn_kwargs(lambda objs: True, context) == {}
    assert check_fn_kwargs(everything, context) == context
    assert check_fn_kwargs(named, context) == {"ti": 1, "ds": 3}


# ---------------------------------------------------------------- the deferred wait


def test_wait_without_backoff_is_the_poke_interval():
    timing = Timing(poke_interval=5, timeout=60)
    assert [timing.next_wait(n, elapsed=0) for n in range(1, 6)] == [5] * 5
    # also at and past the deadline: the poll that sees it passed comes one interval later
    assert timing.next_wait(12, elapsed=60) == timing.next_wait(13, elapsed=65) == 5


def test_backoff_doubles_up_to_max_wait():
    timing = Timing(poke_interval=2, timeout=10_000, exponential_backoff=True, max_wait=50)
    assert [timing.next_wait(n, elapsed=0) for n in range(1, 8)] == [2, 4, 8, 16, 32, 50, 50]
    # no max_wait (or 0, as Airflow reads it): unbounded but for the deadline
    for unbounded in (Timing(2, 10_000, True), Timing(2, 10_000, True, 0)):
        assert [unbounded.next_wait(n, elapsed=0) for n in range(1, 8)] == [2, 4, 8, 16, 32, 64, 128]


def test_backoff_is_cut_at_the_deadline():
    """A long backoff ends at the deadline; then one poke interval, never more."""
    timing = Timing(poke_interval=1, timeout=20, exponential_backoff=True)
    elapsed, waits = 0.0, []
    for n in range(1, 7):
        waits.append(timing.next_wait(n, elapsed))
        elapsed += waits[-1]
    assert waits == [1, 2, 4, 8, 5, 1]
    assert elapsed == 21  # the first poll past the deadline
    assert Timing(1, 20, True).next_wait(10_000, elapsed=0) == 20  # no overflow, however many polls
    assert Timing(1, 20, True).overshoot == 1


# ---------------------------------------------------------------- errors


def _service(status: int, code: str, message: str = "", **kw: Any) -> CosServiceError:
    return CosServiceError(status, code, message, request_id="rid", **kw)


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (_service(403, "SignatureDoesNotMatch", "calc"), "auth", "SecretKey does not match"),
        (_service(403, "InvalidAccessKeyId"), "auth", "SecretId is not known"),
        (_service(403, "AccessDenied", "Request has expired"), "auth", "clock"),
        (_service(400, "ExpiredToken", "x"), "auth", "token"),
        (_service(403, "AccessDenied", method="HEAD"), "auth", "no detail"),
        (_service(404, "NoSuchBucket", "gone"), "no_bucket", "does not exist"),
        (_service(400, "InvalidArgument", "bad"), "service", "refused"),
        (_service(503, "SlowDown"), "transient", "kept failing"),
        (_service(200, "InternalError", "in a 200"), "transient", "kept failing"),
        (CosTransportError("connection refused"), "transient", "could not be reached"),
        (CosValidationError("bucket", "bad name"), "invalid", "bad name"),
    ],
)
def test_classify(exc, kind, text):
    err = classify(exc, "cos_default")
    assert err.kind == kind
    assert text in err.message
    assert err.fail_fast is (kind != "transient")
    assert WatchError.from_event(err.to_event()).to_event() == err.to_event()


def test_auth_messages_name_the_connection_and_the_fix():
    err = classify(_service(403, "SignatureDoesNotMatch", "calc"), "cos_wrong")
    assert err.message == (
        "COS rejected the credentials of connection 'cos_wrong' (SignatureDoesNotMatch). "
        "The SecretKey does not match the SecretId: check the connection's SecretKey (request id rid)."
    )


class NotFound(Exception):
    """Stands in for whatever Airflow raises for a connection id it does not know."""


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (NotFound("The conn_id `cos_x` isn't defined"), "invalid", "Connection 'cos_x' cannot be used"),
        (CosValidationError("connection 'cos_x' login", "must hold the SecretId"), "invalid", "SecretId"),
        (_service(403, "InvalidAccessKeyId"), "auth", "SecretId is not known"),
        (CosTransportError("connection refused"), "transient", "could not be reached"),
    ],
)
def test_unusable_connection(exc, kind, text):
    """Before the first request nothing is COS's answer: an unknown error is an unusable connection."""
    err = unusable_connection(exc, "cos_x")
    assert (err.kind, err.fail_fast) == (kind, kind != "transient")
    assert text in err.message


def test_missing_bucket_is_named():
    from cos_provider.client.watch.steps import no_bucket

    err = no_bucket("nosuch-1250000000", _service(404, "NoSuchResource"))
    assert (err.kind, err.code, err.http_status) == ("no_bucket", "NoSuchBucket", 404)
    assert err.message.startswith("Bucket 'nosuch-1250000000' does not exist: check the bucket name")


# ---------------------------------------------------------------- layering


def test_the_watch_imports_no_airflow():
    """The watch loads (in a fresh interpreter) without Airflow and without the layers above it."""
    loaded = fresh_import("cos_provider.client.watch")
    assert "cos_provider.client.watch.plans" in loaded
    above = ("airflow", "cos_provider.hooks", "cos_provider.sensors", "cos_provider.triggers")
    assert [m for m in loaded if m.split(".")[0] == "airflow" or m.startswith(above)] == []


def test_the_sensors_import_on_their_own():
    """A DAG file may import the sensors before anything else of ours: they must load
    in a fresh interpreter (the triggers' twin is in tests/triggers)."""
    assert "cos_provider.sensors.cos" in fresh_import("cos_provider.sensors.cos")
