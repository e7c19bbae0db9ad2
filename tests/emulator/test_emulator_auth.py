"""Signature verification, request by crafted request."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client

from cos_provider.client.signing import authorization
from cos_provider.emulator import CosEmulator

from .helpers import SECRET_ID, SECRET_KEY, STS_ID, STS_KEY, STS_TOKEN, Raw, error_code, host_of, raw_http


@pytest.fixture
def obj(emu: CosEmulator, bucket: str) -> str:
    emu.put_object(bucket, "obj", b"data")
    return bucket


def test_valid_signature_passes(raw: Raw, obj: str) -> None:
    assert raw.request("GET", obj, "obj").content == b"data"


def test_unsigned_extra_headers_and_params_are_allowed(raw: Raw, obj: str) -> None:
    resp = raw.request(
        "GET",
        obj,
        "obj",
        headers={"x-cos-meta-extra": "1", "User-Agent": "x"},
        signed=["host"],
        params={"response-cache-control": "no"},
    )
    assert resp.status_code == 200


def test_listed_but_missing_header_fails(raw: Raw, obj: str) -> None:
    def add_missing(value: str) -> str:
        return value.replace("q-header-list=host", "q-header-list=host;x-cos-missing")

    resp = raw.request("GET", obj, "obj", tamper=add_missing)
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_listed_but_missing_param_fails(raw: Raw, obj: str) -> None:
    def add_missing(value: str) -> str:
        return value.replace("q-url-param-list=", "q-url-param-list=versionid")

    resp = raw.request("GET", obj, "obj", tamper=add_missing)
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_tampered_signed_param_fails(raw: Raw, obj: str) -> None:
    resp = raw.request("GET", obj, params={"prefix": "a"}, tamper=lambda v: v)
    assert resp.status_code == 200
    signed = raw.sign("GET", "", {"prefix": "a"}, {"Host": host_of(obj)})
    resp = raw.session.get(
        raw.address + "/", params={"prefix": "b"}, headers={"Host": host_of(obj), "Authorization": signed}
    )
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_wrong_key_fails(emu: CosEmulator, obj: str) -> None:
    resp = Raw(emu.address, secret_key="nope").request("GET", obj, "obj")
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_second_credential_pair_works(emu: CosEmulator, obj: str) -> None:
    assert Raw(emu.address, "AKIDSECOND", "second-secret").request("GET", obj, "obj").status_code == 200


def test_unknown_secret_id(emu: CosEmulator, obj: str) -> None:
    resp = Raw(emu.address, secret_id="AKIDUNKNOWN").request("GET", obj, "obj")
    assert (resp.status_code, error_code(resp)) == (403, "InvalidAccessKeyId")


def test_expired_window(raw: Raw, obj: str) -> None:
    now = int(time.time())
    resp = raw.request("GET", obj, "obj", window=(now - 7200, now - 3600))
    assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")
    assert b"<Message>Request has expired</Message>" in resp.content


def test_window_not_started(raw: Raw, obj: str) -> None:
    now = int(time.time())
    resp = raw.request("GET", obj, "obj", window=(now + 3600, now + 7200))
    assert (resp.status_code, error_code(resp)) == (403, "RequestTimeTooSkewed")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v.replace("q-sign-algorithm=sha1", "q-sign-algorithm=sha256"),
        lambda v: v.replace("&q-key-time=", "&q-key-time=1;").replace("q-key-time=1;", "q-key-time=1;2;", 1),
        lambda v: v.replace("&q-signature=", "&q-bogus="),
        lambda v: "garbage",
    ],
    ids=["algorithm", "key-time-differs", "missing-field", "garbage"],
)
def test_malformed_authorization(raw: Raw, obj: str, tamper: object) -> None:
    resp = raw.request("GET", obj, "obj", tamper=tamper)  # type: ignore[arg-type]
    assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")


def test_anonymous_request_denied(raw: Raw, obj: str) -> None:
    resp = raw.request("GET", obj, "obj", auth=False)
    assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")


def test_path_is_signed_decoded(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    key = "dir//a b+c/./x/../中文%41"
    emu.put_object(bucket, key, b"k")
    assert raw.request("GET", bucket, key).content == b"k"
    # Signing the percent-encoded path instead of the decoded one must fail.
    signed = authorization(
        SECRET_ID,
        SECRET_KEY,
        "get",
        "/dir//a%20b%2Bc",
        {},
        {"host": host_of(bucket)},
        int(time.time()) - 60,
        int(time.time()) + 600,
    )
    resp = raw.session.get(
        raw.address + "/dir//a%20b%2Bc", headers={"Host": host_of(bucket), "Authorization": signed}
    )
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_query_is_form_decoded(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    emu.put_object(bucket, "a b/1", b"1")
    emu.put_object(bucket, "a+b/2", b"2")
    resp = raw.request("GET", bucket, params={"prefix": "a b/"})  # requests sends prefix=a+b%2F
    assert resp.status_code == 200
    assert b"<Key>a b/1</Key>" in resp.content
    assert b"a+b/2" not in resp.content


def test_non_ascii_header_is_verified_from_raw_bytes(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    value = "中文 ü"
    hdrs = {"Host": host_of(bucket), "Content-Length": "1", "x-cos-meta-name": value}
    signed = raw.sign("PUT", "k", {}, hdrs)
    wire = dict(hdrs, **{"x-cos-meta-name": value.encode("utf-8"), "Authorization": signed})
    resp = raw.session.put(raw.address + "/k", data=b"1", headers=wire)  # type: ignore[arg-type]
    assert resp.status_code == 200, resp.content
    head = emu.head(bucket, "k")
    assert head is not None
    assert head["metadata"] == {"name": value}


def test_header_sent_in_another_encoding_than_signed_fails(raw: Raw, emu: CosEmulator, bucket: str) -> None:
    """``http.client`` sends a ``str`` "é" as the latin-1 byte E9; COS signs the bytes it got.

    The emulator used to fall back to the decoded text when the bytes were not
    UTF-8, and so verified the UTF-8 signature of a value that was never sent.
    """
    value = "café"
    hdrs = {"Host": host_of(bucket), "Content-Length": "1", "x-cos-meta-name": value}
    signed = raw.sign("PUT", "k", {}, hdrs)  # over UTF-8: caf%C3%A9
    latin1 = dict(hdrs, **{"x-cos-meta-name": value.encode("latin-1"), "Authorization": signed})
    resp = raw.session.put(raw.address + "/k", data=b"1", headers=latin1)  # type: ignore[arg-type]
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")
    assert emu.head(bucket, "k") is None
    utf8 = dict(latin1, **{"x-cos-meta-name": value.encode("utf-8")})
    assert raw.session.put(raw.address + "/k", data=b"1", headers=utf8).status_code == 200  # type: ignore[arg-type]


def test_duplicate_signed_header_rejected(raw: Raw, emu: CosEmulator, obj: str) -> None:
    hdrs = {"Host": host_of(obj), "x-cos-meta-a": "1"}
    signed = raw.sign("GET", "obj", {}, hdrs)
    status, _, body = raw_http(
        emu.port,
        "GET",
        "/obj",
        [("Host", host_of(obj)), ("x-cos-meta-a", "1"), ("x-cos-meta-a", "2"), ("Authorization", signed)],
    )
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body


def test_duplicate_query_parameter_rejected(raw: Raw, emu: CosEmulator, obj: str) -> None:
    signed = raw.sign("GET", "", {}, {"Host": host_of(obj)})
    status, _, body = raw_http(
        emu.port, "GET", "/?prefix=a&prefix=b", [("Host", host_of(obj)), ("Authorization", signed)]
    )
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body


def test_host_with_port_accepted_when_signed_without_it(raw: Raw, emu: CosEmulator, obj: str) -> None:
    # The SDK in Domain/Endpoint mode signs the host name without the port.
    signed = raw.sign("GET", "obj", {}, {"Host": host_of(obj)})
    resp = raw.session.get(
        raw.address + "/obj", headers={"Host": f"{host_of(obj)}:{emu.port}", "Authorization": signed}
    )
    assert resp.status_code == 200


def test_absolute_form_request_target(raw: Raw, emu: CosEmulator, obj: str) -> None:
    signed = raw.sign("GET", "obj", {}, {"Host": host_of(obj)})
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(
            f"GET http://{host_of(obj)}/obj HTTP/1.1\r\nHost: {host_of(obj)}\r\n"
            f"Authorization: {signed}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    assert data.endswith(b"\r\n\r\ndata")


class TestTemporaryCredentials:
    def sts(self, emu: CosEmulator) -> Raw:
        return Raw(emu.address, STS_ID, STS_KEY)

    def test_signed_token_header_works(self, emu: CosEmulator, obj: str) -> None:
        resp = self.sts(emu).request("GET", obj, "obj", headers={"x-cos-security-token": STS_TOKEN})
        assert resp.status_code == 200

    def test_missing_token(self, emu: CosEmulator, obj: str) -> None:
        resp = self.sts(emu).request("GET", obj, "obj")
        assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")

    def test_unsigned_token(self, emu: CosEmulator, obj: str) -> None:
        resp = self.sts(emu).request(
            "GET", obj, "obj", headers={"x-cos-security-token": STS_TOKEN}, signed=["host"]
        )
        assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")

    def test_wrong_token(self, emu: CosEmulator, obj: str) -> None:
        resp = self.sts(emu).request("GET", obj, "obj", headers={"x-cos-security-token": "other"})
        assert (resp.status_code, error_code(resp)) == (403, "InvalidToken")

    def test_token_as_presigned_query_parameter(self, emu: CosEmulator, obj: str) -> None:
        client = CosS3Client(
            CosConfig(
                Region="ap-guangzhou", SecretId=STS_ID, SecretKey=STS_KEY, Token=STS_TOKEN, Scheme="http"
            )
        )
        url = client.get_presigned_url(
            Method="GET", Bucket=obj, Key="obj", Params={"x-cos-security-token": STS_TOKEN}
        )
        resp = requests.get(url, proxies={"http": emu.address}, timeout=10)
        assert resp.content == b"data"
        bare = client.get_presigned_url(Method="GET", Bucket=obj, Key="obj")
        resp = requests.get(bare, proxies={"http": emu.address}, timeout=10)
        assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")


def test_presigned_url(emu: CosEmulator, obj: str) -> None:
    client = CosS3Client(
        CosConfig(Region="ap-guangzhou", SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http")
    )
    url = client.get_presigned_url(Method="GET", Bucket=obj, Key="obj", Expired=120)
    assert requests.get(url, proxies={"http": emu.address}, timeout=10).content == b"data"
    tampered = url.replace("q-signature=", "q-signature=0")
    resp = requests.get(tampered, proxies={"http": emu.address}, timeout=10)
    assert resp.status_code == 403
