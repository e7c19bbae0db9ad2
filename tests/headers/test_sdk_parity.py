"""What the official SDK sends for tagging directive, SSE-KMS, SSE-C and no-clobber, vs what we send.

Both are captured by a loopback HTTP server that records every request's
headers and answers a minimal success. The SDK takes ``x-cos-tagging-directive``
and ``x-cos-forbid-overwrite`` only through its ``Metadata`` pass-through
(cos-data-plane.md §1); the header names and values must still be the same.
SSE-C requests are compared on the prepared request, since our client
refuses to send them over plain HTTP (which is the point).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.encryption import CustomerKey, CustomerKeys
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.protocol import prepare
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY
from tests.headers.conftest import KEY_A, KEY_A_MD5, KEY_B, KEY_B_MD5, sdk_client

SRC = f"src-{APP_ID}"
DST = f"dst-{APP_ID}"
ANSWERS = {
    "PUT": b'<CopyObjectResult><ETag>"e"</ETag><LastModified>2020-01-01T00:00:00Z</LastModified></CopyObjectResult>',
    "POST": f"<InitiateMultipartUploadResult><Bucket>{DST}</Bucket><Key>k</Key><UploadId>u</UploadId>"
    "</InitiateMultipartUploadResult>".encode(),
}
PART_ANSWER = (
    b'<CopyPartResult><ETag>"e"</ETag><LastModified>2020-01-01T00:00:00Z</LastModified></CopyPartResult>'
)
COMPARED = ("x-cos-", "content-type")
NOT_COMPARED = {"x-cos-copy-source", "x-cos-security-token"}


class Capture(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), Recorder)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def last(self) -> dict[str, str]:
        """The compared headers of the last request (names lower-cased)."""
        return {
            k: v for k, v in self.requests[-1].items() if k.startswith(COMPARED) and k not in NOT_COMPARED
        }


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Capture

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append({k.lower(): v for k, v in self.headers.items()})
        body = PART_ANSWER if "partNumber" in self.path else ANSWERS[self.command]
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = _answer


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def sdk(capture: Capture) -> Any:
    return sdk_client(capture.address)


def ours_prepared(call: Any) -> dict[str, str]:
    prepared = prepare(call.request, Credentials(SECRET_ID, SECRET_KEY), Endpoint(region=REGION))
    return {
        k.lower(): v
        for k, v in prepared.headers.items()
        if k.lower().startswith(COMPARED) and k.lower() not in NOT_COMPARED
    }


def ours_client(capture: Capture) -> CosClient:
    return CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=capture.address),
    )


SOURCE = {"Bucket": SRC, "Key": "k", "Region": REGION}


def test_copy_with_tags_kms_and_no_clobber(capture: Capture) -> None:
    sdk(capture).copy_object(
        Bucket=DST,
        Key="k",
        CopySource=SOURCE,
        CopyStatus="Replaced",
        ContentType="text/plain",
        Tagging="a=1&b=2",
        Metadata={"x-cos-tagging-directive": "Replaced", "x-cos-forbid-overwrite": "true"},
        ServerSideEncryption="cos/kms",
        SSEKMSKeyId="kms-key-1",
        SSEKMSContext="eyJhIjoiYiJ9",
    )
    theirs = capture.last()
    with ours_client(capture) as client:
        client.copy_object(
            ops.ObjectRef(SRC, "k"),
            ops.ObjectRef(DST, "k"),
            metadata_directive="Replaced",
            attributes=ops.ObjectAttributes(
                content_type="text/plain",
                tagging={"a": "1", "b": "2"},
                server_side_encryption="COS/KMS",
                kms_key_id="kms-key-1",
                kms_context={"a": "b"},  # base64 of {"a":"b"} is the SDK's eyJhIjoiYiJ9
            ),
            forbid_overwrite=True,
        )
    assert capture.last() == theirs
    assert theirs["x-cos-tagging-directive"] == "Replaced" and theirs["x-cos-forbid-overwrite"] == "true"


def test_initiate_with_sm4_tags_and_no_clobber(capture: Capture) -> None:
    sdk(capture).create_multipart_upload(
        Bucket=DST,
        Key="k",
        ServerSideEncryption="SM4",
        Tagging="t=1",
        Metadata={"x-cos-forbid-overwrite": "true"},
    )
    theirs = capture.last()
    with ours_client(capture) as client:
        client.initiate_multipart_upload(
            ops.ObjectRef(DST, "k"),
            ops.ObjectAttributes(server_side_encryption="sm4", tagging="t=1"),
            forbid_overwrite=True,
        )
    assert capture.last() == theirs


def test_sse_c_copy_and_part_copy(capture: Capture) -> None:
    keys = CustomerKeys(source=CustomerKey.parse(KEY_A, "s"), dest=CustomerKey.parse(KEY_B, "d"))
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY_B, "SSECustomerKeyMD5": KEY_B_MD5}
    source_sse = {f"CopySource{k}": v for k, v in sse.items()} | {
        "CopySourceSSECustomerKey": KEY_A,
        "CopySourceSSECustomerKeyMD5": KEY_A_MD5,
    }
    sdk(capture).copy_object(Bucket=DST, Key="k", CopySource=SOURCE, **sse, **source_sse)
    endpoint = Endpoint(region=REGION)
    assert ours_prepared(
        ops.copy_object(ops.ObjectRef(SRC, "k"), ops.ObjectRef(DST, "k"), endpoint, keys=keys)
    ) == (capture.last())
    sdk(capture).upload_part_copy(
        Bucket=DST,
        Key="k",
        PartNumber=1,
        UploadId="u",
        CopySource=SOURCE,
        CopySourceRange="bytes=0-1",
        **sse,
        **source_sse,
    )
    call = ops.upload_part_copy(
        ops.ObjectRef(SRC, "k"), ops.ObjectRef(DST, "k"), endpoint, "u", 1, 0, 1, keys=keys
    )
    assert ours_prepared(call) == capture.last()
    sdk(capture).create_multipart_upload(Bucket=DST, Key="k", **sse)
    assert ours_prepared(ops.initiate_multipart_upload(ops.ObjectRef(DST, "k"), customer_key=keys.dest)) == (
        capture.last()
    )
