"""Crafted requests for the emulator tests: signed with the client's own signer."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import requests
from lxml import etree

from cos_provider.client.endpoints import object_path
from cos_provider.client.signing import authorization, should_sign_header

SECRET_ID = "AKIDEMULATORTEST"
SECRET_KEY = "emulator-test-secret"
STS_ID = "AKIDEMULATORSTS"
STS_KEY = "emulator-sts-secret"
STS_TOKEN = "emulator-sts-token"
APPID = "1250000000"


def host_of(bucket: str, region: str = "ap-guangzhou", domain: str = "myqcloud.com") -> str:
    return f"{bucket}.cos.{region}.{domain}"


def error_code(resp: requests.Response) -> str:
    root = etree.fromstring(resp.content.lstrip())
    assert root.tag == "Error", resp.content
    return root.findtext("Code") or ""


def xml(resp: requests.Response) -> etree._Element:
    return etree.fromstring(resp.content.lstrip())


@dataclass
class Raw:
    """A minimal COS client over ``requests`` that signs exactly what it is told."""

    address: str
    secret_id: str = SECRET_ID
    secret_key: str = SECRET_KEY

    def __post_init__(self) -> None:
        self.session = requests.Session()

    def sign(
        self,
        method: str,
        key: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        window: tuple[int, int] | None = None,
        signed: Iterable[str] | None = None,
    ) -> str:
        names = {n.lower() for n in signed} if signed is not None else None
        to_sign = {
            n: v
            for n, v in headers.items()
            if (names is None and should_sign_header(n)) or (names is not None and n.lower() in names)
        }
        now = int(time.time())
        start, end = window or (now - 60, now + 600)
        return authorization(
            self.secret_id, self.secret_key, method, "/" + key, dict(params), to_sign, start, end
        )

    def request(
        self,
        method: str,
        bucket: str,
        key: str = "",
        *,
        region: str = "ap-guangzhou",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        window: tuple[int, int] | None = None,
        signed: Iterable[str] | None = None,
        tamper: Callable[[str], str] | None = None,
        host: str | None = None,
        auth: bool = True,
        timeout: float = 30,
    ) -> requests.Response:
        params = dict(params or {})
        hdrs = {"Host": host or host_of(bucket, region)}
        if method in ("PUT", "POST"):
            hdrs["Content-Length"] = str(len(body))
        hdrs.update(headers or {})
        if auth:
            value = self.sign(method, key, params, hdrs, window=window, signed=signed)
            hdrs["Authorization"] = tamper(value) if tamper else value
        url = self.address + (object_path(key) if key else "/")
        return self.session.request(method, url, params=params, headers=hdrs, data=body, timeout=timeout)

    # shorthands -------------------------------------------------------------

    def put(self, bucket: str, key: str, body: bytes = b"", **kw: object) -> requests.Response:
        return self.request("PUT", bucket, key, body=body, **kw)  # type: ignore[arg-type]

    def copy(self, bucket: str, key: str, source: str, **kw: object) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
        headers["x-cos-copy-source"] = source
        return self.request("PUT", bucket, key, headers=headers, **kw)  # type: ignore[arg-type]

    def initiate(self, bucket: str, key: str, headers: Mapping[str, str] | None = None) -> str:
        resp = self.request("POST", bucket, key, params={"uploads": ""}, headers=headers)
        assert resp.status_code == 200, resp.content
        return xml(resp).findtext("UploadId") or ""

    def part_copy(
        self, bucket: str, key: str, upload_id: str, number: int, source: str, rng: str | None, **kw: object
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
        headers["x-cos-copy-source"] = source
        if rng is not None:
            headers["x-cos-copy-source-range"] = rng
        params = {"partNumber": str(number), "uploadId": upload_id}
        return self.request("PUT", bucket, key, params=params, headers=headers, **kw)  # type: ignore[arg-type]

    def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: bytes
    ) -> requests.Response:
        params = {"partNumber": str(number), "uploadId": upload_id}
        return self.request("PUT", bucket, key, params=params, body=body)

    def complete(
        self, bucket: str, key: str, upload_id: str, parts: Iterable[tuple[int, str]], **kw: object
    ) -> requests.Response:
        body = (
            "<CompleteMultipartUpload>"
            + "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
            + "</CompleteMultipartUpload>"
        )
        return self.request("POST", bucket, key, params={"uploadId": upload_id}, body=body.encode(), **kw)  # type: ignore[arg-type]


def source_of(bucket: str, key: str, region: str = "ap-guangzhou", version_id: str | None = None) -> str:
    from cos_provider.client.endpoints import copy_source

    return copy_source(host_of(bucket, region), key, version_id)


def raw_http(
    port: int, method: str, target: str, headers: list[tuple[str, str | bytes]], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these header lines (duplicates allowed) with http.client."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()
