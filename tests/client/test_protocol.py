"""The sans-I/O core: what goes on the wire for a call, and how an answer is read, without any HTTP library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from cos_provider.client import operations as ops
from cos_provider.client import signing
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.operations import ObjectRef
from cos_provider.client.protocol import (
    CLOCK_SKEW_ALLOWANCE,
    SIGNATURE_LIFETIME,
    CosRequest,
    Headers,
    RawResponse,
    prepare,
)

CLIENT_DIR = Path(__file__).resolve().parents[2] / "cos_provider" / "client"
SANS_IO = ("protocol", "operations", "signing", "xmlcodec", "errors", "endpoints")
HTTP_LIBRARIES = ("requests", "httpx")
CREDS = Credentials("AKIDexample", "secret-key")
EP = Endpoint(region="ap-beijing")
NOW = 1_700_000_000


# ------------------------------------------------------------------ layering


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every import in ``path``, including those under ``if TYPE_CHECKING``."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_modules_import_no_http_library(module):
    assert imported_roots(CLIENT_DIR / f"{module}.py").isdisjoint(HTTP_LIBRARIES)


def test_only_the_transports_import_an_http_library():
    users = {
        path.stem: sorted(imported_roots(path) & set(HTTP_LIBRARIES))
        for path in CLIENT_DIR.glob("*.py")
        if imported_roots(path) & set(HTTP_LIBRARIES)
    }
    assert users == {"transport": ["requests"], "aio": ["httpx"]}


def test_sans_io_core_imports_with_http_libraries_missing():
    """Transitively too: importing the core with requests and httpx unavailable works."""
    code = f"""
import sys

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HTTP_LIBRARIES!r}:
            raise ModuleNotFoundError(name)

sys.meta_path.insert(0, Missing())
for module in {SANS_IO!r}:
    __import__("cos_provider.client." + module)
print(sorted(m for m in sys.modules if m.split(".")[0] in {HTTP_LIBRARIES!r}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ Headers


def test_headers_are_case_insensitive_and_keep_their_case():
    h = Headers([("ETag", '"a"'), ("x-cos-meta-Owner", "me"), ("Content-Length", "5")])
    assert (h["etag"], h["ETAG"], h.get("content-length"), h.get("missing", "-")) == ('"a"', '"a"', "5", "-")
    assert "X-COS-META-OWNER" in h and "Range" not in h
    assert list(h) == ["ETag", "x-cos-meta-Owner", "Content-Length"]
    assert len(h) == 3
    with pytest.raises(KeyError):
        h["Range"]


def test_headers_from_a_mapping_and_repeated_names():
    assert dict(Headers({"A": "1"})) == {"A": "1"}
    assert dict(Headers([("x-cos-a", "1"), ("X-COS-A", "2")])) == {"X-COS-A": "2"}
    assert Headers() == {}
    assert repr(Headers({"A": "1"})) == "Headers({'A': '1'})"


def test_raw_response_request_id_ignores_case():
    assert RawResponse(200, Headers({"X-Cos-Request-Id": "r1"}), b"").request_id == "r1"
    assert RawResponse(200, Headers(), b"").request_id == ""


def test_head_object_parses_headers_in_any_case():
    response = RawResponse(
        200,
        Headers(
            {
                "content-length": "5",
                "ETAG": '"e"',
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
                "X-Cos-Hash-Crc64ecma": "123",
                "X-COS-META-Owner": "me",
                "x-cos-request-id": "r1",
            }
        ),
        b"",
    )
    info = ops.head_object(ObjectRef("b-1250000000", "k")).parse(response)
    assert (info.size, info.etag, info.crc64, info.metadata, info.request_id) == (
        5,
        '"e"',
        123,
        {"owner": "me"},
        "r1",
    )
    assert info.last_modified is not None and info.last_modified.year == 2024
    assert info.storage_class == "STANDARD"  # COS omits the header for STANDARD


# ------------------------------------------------------------------ prepare


def verify(prepared, request: CosRequest, secret_key: str = "secret-key") -> signing.ParsedAuthorization:
    """Recompute the signature from what is sent, as COS (and the emulator) do."""
    auth = signing.parse_authorization(prepared.headers["Authorization"])
    sent = {k.lower(): v for k, v in prepared.headers.items()}
    http_str, _, _ = signing.http_string(
        request.method,
        "/" + (request.key or ""),
        {k.lower(): v for k, v in request.params.items() if k.lower() in auth.param_list},
        {name: sent[name] for name in auth.header_list},
    )
    assert auth.signature == signing.signature(secret_key, auth.key_time, http_str)
    return auth


def test_prepare_builds_url_headers_and_a_verifiable_signature():
    request = CosRequest(
        "UploadPart",
        "PUT",
        "b-1250000000",
        "dir/a b+c.txt",
        params={"partNumber": "1", "uploadId": "u 1"},
        headers={"x-cos-meta-owner": "me"},
        body=b"12345",
    )
    prepared = prepare(request, CREDS, EP, now=lambda: NOW)
    assert prepared.method == "PUT" and prepared.body == b"12345"
    assert prepared.url == (
        "https://b-1250000000.cos.ap-beijing.myqcloud.com/dir/a%20b%2Bc.txt?partNumber=1&uploadId=u%201"
    )
    assert prepared.headers["Host"] == "b-1250000000.cos.ap-beijing.myqcloud.com"
    assert prepared.headers["Content-Length"] == "5"
    auth = verify(prepared, request)
    assert auth.secret_id == "AKIDexample"
    assert auth.header_list == ("content-length", "host", "x-cos-meta-owner")
    assert auth.param_list == ("partnumber", "uploadid")
    assert auth.window == (NOW - CLOCK_SKEW_ALLOWANCE, NOW + SIGNATURE_LIFETIME)


def test_prepare_sends_and_signs_the_session_token():
    request = CosRequest("HeadObject", "HEAD", "b-1250000000", "k")
    prepared = prepare(request, Credentials("AKIDexample", "secret-key", "tok"), EP, now=lambda: NOW)
    assert prepared.headers["x-cos-security-token"] == "tok"
    assert "x-cos-security-token" in verify(prepared, request).header_list
    assert "Content-Length" not in prepared.headers  # HEAD without a body sends none


def test_prepare_service_call_and_region_override():
    service = prepare(CosRequest("GetService", "GET", ""), CREDS, EP, now=lambda: NOW)
    assert service.url == "https://cos.ap-beijing.myqcloud.com/"
    other = CosRequest("HeadObject", "HEAD", "b-1250000000", "k", region="ap-guangzhou")
    assert prepare(other, CREDS, EP, now=lambda: NOW).headers["Host"] == (
        "b-1250000000.cos.ap-guangzhou.myqcloud.com"
    )


def test_every_prepare_signs_afresh():
    """Retries re-prepare, so a retry after a long backoff still carries a valid window."""
    request = CosRequest("HeadObject", "HEAD", "b-1250000000", "k")
    clock = iter([NOW, NOW + 3600])
    first, later = (prepare(request, CREDS, EP, now=lambda: next(clock)) for _ in range(2))
    assert verify(later, request).window[0] - verify(first, request).window[0] == 3600


def test_connect_address_changes_only_the_destination():
    ep = Endpoint(region="ap-beijing", scheme="http", connect_address="http://127.0.0.1:9000")
    request = CosRequest("HeadObject", "HEAD", "b-1250000000", "a/./b")
    prepared = prepare(request, CREDS, ep, now=lambda: NOW)
    assert prepared.url == "http://127.0.0.1:9000/a/.%2Fb"
    assert prepared.headers["Host"] == "b-1250000000.cos.ap-beijing.myqcloud.com"
    verify(prepared, request)
