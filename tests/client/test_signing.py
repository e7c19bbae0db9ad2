"""Our signer against the official SDK's ``CosS3Auth``, byte for byte.

The SDK is the oracle: it is what COS accepts in production. Time is frozen
by patching the SDK's clock so both sign the same KeyTime.
"""

from __future__ import annotations

import string
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qcloud_cos import CosConfig
from qcloud_cos import cos_auth as sdk_auth

from cos_provider.client import signing

SECRET_ID = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
SECRET_KEY = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"


def sdk_authorization(method, path, params, headers, start, end, secret_id=SECRET_ID, secret_key=SECRET_KEY):
    """What ``CosS3Auth`` puts in ``Authorization`` for this request at a frozen time."""
    conf = CosConfig(Region="ap-beijing", SecretId=secret_id, SecretKey=secret_key)
    # The SDK signs [now - 60, now + expire]; choose now and expire to hit [start, end].
    auth = sdk_auth.CosS3Auth(conf, key=path, params=params, expire=end - (start + 60))
    prepared = requests.Request(method, "http://unused.example/", headers=headers).prepare()
    with mock.patch.object(sdk_auth.time, "time", return_value=start + 60):
        auth(prepared)
    return prepared.headers["Authorization"], prepared.headers


def ours(method, path, params, sdk_seen_headers, start, end, secret_id=SECRET_ID, secret_key=SECRET_KEY):
    to_sign = {
        k: v for k, v in sdk_seen_headers.items() if signing.should_sign_header(k) and k != "Authorization"
    }
    return signing.authorization(secret_id, secret_key, method, path, params, to_sign, start, end)


def test_vector_a_doc_example():
    value = signing.authorization(
        SECRET_ID,
        SECRET_KEY,
        "GET",
        "/testfile",
        {},
        {"Host": "bucket1-1254000000.cos.ap-beijing.myqcloud.com", "Range": "bytes=0-3"},
        1417773892,
        1417853898,
    )
    assert value == (
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
        "&q-sign-time=1417773892;1417853898&q-key-time=1417773892;1417853898"
        "&q-header-list=host;range&q-url-param-list="
        "&q-signature=4b6cbab14ce01381c29032423481ebffd514e8be"
    )


def test_vector_b_go_sdk():
    value = signing.authorization(
        "QmFzZTY0IGlzIGEgZ2VuZXJp",
        "AKIDZfbOA78asKUYBcXFrJD0a1ICvR98JM",
        "PUT",
        "/testfile2",
        {},
        {
            "Host": "testbucket-125000000.cos.ap-guangzhou.myqcloud.com",
            "x-cos-content-sha1": "db8ac1c259eb89d4a131b253bacfca5f319d54f2",
            "x-cos-stroage-class": "nearline",
        },
        1480932292,
        1481012292,
    )
    assert "q-header-list=host;x-cos-content-sha1;x-cos-stroage-class&" in value
    assert value.endswith("&q-signature=ce4ac0ecbcdb30538b3fee0a97cc6389694ce53a")


def test_http_string_rules():
    text, params, headers = signing.http_string(
        "PUT",
        "/a b+c/中",
        {"partNumber": "1", "uploads": "", "prefix": "a b+c"},
        {"X-COS-Meta-Name": "值 v", "Host": "h"},
    )
    assert text == (
        "put\n/a b+c/中\npartnumber=1&prefix=a%20b%2Bc&uploads=\nhost=h&x-cos-meta-name=%E5%80%BC%20v\n"
    )
    assert params == "partnumber;prefix;uploads"
    assert headers == "host;x-cos-meta-name"


def test_encoded_keys_are_lowercased_including_escapes():
    text, params, _ = signing.http_string("get", "/", {"Ä": "Ä"}, {})
    assert "%c3%84=%C3%84" in text
    assert params == "%c3%84"


def test_header_selection_matches_sdk_filter():
    names = [
        "Host",
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "Accept",
        "Date",
        "x-cos-acl",
        "X-CI-Foo",
        "Range",
        "If-Match",
        "Origin",
        "Content-Language",
        "Expect",
        "pic-operations",
    ]
    sdk = set(sdk_auth.filter_headers({n: "v" for n in names}))
    assert {n for n in names if signing.should_sign_header(n)} == sdk


def test_parse_authorization_round_trip():
    value = signing.authorization("id", "key", "GET", "/k", {"a": "1"}, {"Host": "h"}, 10, 20)
    parsed = signing.parse_authorization(value)
    assert parsed.secret_id == "id"
    assert parsed.window == (10, 20)
    assert parsed.param_list == ("a",)
    assert parsed.header_list == ("host",)
    with pytest.raises(ValueError, match="lacks"):
        signing.parse_authorization("q-sign-algorithm=sha1&q-ak=x")
    with pytest.raises(ValueError, match="duplicate"):
        signing.parse_authorization(value + "&q-ak=other")


# --------------------------------------------------------------- generated requests

# Printable ASCII plus the characters that break naive encoders, and unicode.
_tricky = st.sampled_from(
    [" ", "+", "%", "?", "#", "/", "//", "&", "=", ";", "~", "*", "'", "中", "é", "😀", "%41"]
)
_text = st.lists(
    st.one_of(
        st.text(alphabet=string.ascii_letters + string.digits + "-_.", max_size=4),
        _tricky,
        st.text(max_size=2),
    ),
    max_size=8,
).map("".join)
_key = _text.filter(lambda s: s != "" and "\x00" not in s)
_param_name = st.one_of(
    st.sampled_from(
        ["uploads", "partNumber", "uploadId", "versionId", "prefix", "delimiter", "encoding-type", "max-keys"]
    ),
    _text.filter(bool),
)
_header_value = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
    .map(str.strip)
    .filter(lambda v: "\n" not in v and "\r" not in v)
)
_header_name = st.one_of(
    st.sampled_from(
        [
            "Content-Type",
            "Content-MD5",
            "Cache-Control",
            "Range",
            "If-Match",
            "Expires",
            "Origin",
            "x-cos-copy-source",
            "x-cos-copy-source-range",
            "x-cos-metadata-directive",
            "x-cos-acl",
            "x-cos-security-token",
            "User-Agent",
            "Accept",
            "Date",
            "Content-Language",
        ]
    ),
    st.from_regex(r"\Ax-cos-meta-[a-z0-9-]{1,12}\Z"),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE"]),
    key=_key,
    params=st.dictionaries(_param_name, st.one_of(st.just(""), _text), max_size=5),
    headers=st.dictionaries(_header_name, _header_value, max_size=6),
    host=st.sampled_from(["examplebucket-1250000000.cos.ap-beijing.myqcloud.com", "files.example.com"]),
    start=st.integers(min_value=1_400_000_000, max_value=2_000_000_000),
    lifetime=st.integers(min_value=1, max_value=100_000),
)
def test_matches_sdk_on_generated_requests(method, key, params, headers, host, start, lifetime):
    headers = {**headers, "Host": host}
    path = "/" + key
    end = start + lifetime
    expected, seen = sdk_authorization(method, path, params, headers, start, end)
    assert ours(method, path, params, seen, start, end) == expected
