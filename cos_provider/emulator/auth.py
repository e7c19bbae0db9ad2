"""Strict verification of ``q-sign-algorithm=sha1`` signatures.

The verifier recomputes the signature with the client's own code
(:mod:`cos_provider.client.signing`), from exactly the keys named in
``q-header-list`` and ``q-url-param-list``: unlisted headers and parameters are
allowed (the SDK leaves ``User-Agent`` unsigned), a listed one that is missing
fails. Inputs are the decoded path, the form-decoded query and the raw header
bytes as they arrived: a value is signed as its bytes percent-encoded, as COS
does, so a client that sends one encoding (``http.client`` turns a ``str``
``é`` into the latin-1 byte ``E9``) but signs another (UTF-8 ``%C3%A9``) is
refused, as it would be by COS. The comparison is constant-time.

Decisions where the documentation is silent:

* ``q-sign-time`` must equal ``q-key-time`` (every known signer does so).
* A window that has ended is ``AccessDenied`` / "Request has expired"; one
  that has not started yet is ``RequestTimeTooSkewed``. No clock skew is
  tolerated: the emulator and its clients share a clock.
* A signed header that appears twice is rejected (400 ``InvalidArgument``):
  which copy was signed would be a guess.
* ``Host``: the raw header is tried first, then without its port, because the
  SDK in Domain/Endpoint mode signs the host name without the port.
* Temporary (STS) ids must send ``x-cos-security-token`` and sign it (as a
  header, or as a query parameter in a pre-signed URL). Missing or unsigned:
  403 ``AccessDenied``; a token that does not belong to the id: 403
  ``InvalidToken``.
* The seven ``q-*`` fields are also accepted as query parameters (pre-signed
  URLs); they are then not part of the signed parameters.

``auth_error_style`` picks how failures look: ``"code"`` puts the failure in
``<Code>`` (``SignatureDoesNotMatch``...), ``"message"`` answers
``<Code>AccessDenied</Code>`` with the failure as ``<Message>``, as Tencent's
troubleshooting pages show. An expired window is ``AccessDenied`` /
"Request has expired" in both styles.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from cos_provider.client.signing import (
    AUTH_FIELDS,
    ParsedAuthorization,
    cos_quote,
    http_string,
    parse_authorization,
    signature,
)
from cos_provider.emulator.errors import CosError

V = TypeVar("V", str, bytes)

TOKEN_NAME = "x-cos-security-token"
EXPIRED_MESSAGE = "Request has expired"


class Verifier:
    def __init__(
        self,
        credentials: Mapping[str, str],
        temporary: Mapping[str, tuple[str, str]],
        style: str = "code",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if style not in ("code", "message"):
            raise ValueError("auth_error_style must be 'code' or 'message'")
        self.credentials = dict(credentials)
        self.temporary = dict(temporary)
        self.style = style
        self.clock = clock

    def _deny(self, kind: str, detail: str) -> CosError:
        if kind == "Expired":
            return CosError(403, "AccessDenied", EXPIRED_MESSAGE, headers={"x-cos-emulator-detail": detail})
        if self.style == "message":
            return CosError(403, "AccessDenied", kind, headers={"x-cos-emulator-detail": detail})
        return CosError(403, kind, detail)

    def _parse(
        self, headers: list[tuple[str, bytes]], query: list[tuple[str, str]]
    ) -> tuple[ParsedAuthorization, bool]:
        values = [v.decode("latin-1") for n, v in headers if n.lower() == "authorization"]
        if len(values) > 1:
            raise CosError(400, "InvalidArgument", "more than one Authorization header")
        presigned = False
        if values:
            text = values[0]
        else:
            fields = {n: v for n, v in query if n in AUTH_FIELDS}
            if not fields:
                raise self._deny(
                    "AccessDenied", "Access Denied: the request is not signed (anonymous access)."
                )
            presigned = True
            text = "&".join(f"{n}={v}" for n, v in fields.items())
        try:
            return parse_authorization(text), presigned
        except ValueError as exc:
            raise self._deny("AccessDenied", f"Authorization is malformed: {exc}") from exc

    def verify(
        self, method: str, path: str, query: list[tuple[str, str]], headers: list[tuple[str, bytes]]
    ) -> str:
        """Return the verified SecretId or raise the documented 403.

        ``path`` is the percent-decoded request path exactly as sent (no
        dot-segment or slash normalisation), ``headers`` the raw header bytes.
        """
        auth, presigned = self._parse(headers, query)
        if auth.algorithm != "sha1":
            raise self._deny("AccessDenied", f"q-sign-algorithm must be sha1, got {auth.algorithm!r}")
        if auth.sign_time != auth.key_time:
            raise self._deny("AccessDenied", "q-sign-time and q-key-time differ")
        try:
            start, end = auth.window
        except ValueError as exc:
            raise self._deny("AccessDenied", f"q-sign-time {auth.sign_time!r} is not <start>;<end>") from exc
        if end < start:
            raise self._deny("AccessDenied", f"q-sign-time {auth.sign_time!r} ends before it starts")
        now = self.clock()
        if now > end:
            raise self._deny("Expired", f"the signature window ended at {end}, now is {int(now)}")
        if now < start:
            raise self._deny(
                "RequestTimeTooSkewed", f"the signature window starts at {start}, now is {int(now)}"
            )

        token: str | None = None
        if auth.secret_id in self.credentials:
            secret_key = self.credentials[auth.secret_id]
        elif auth.secret_id in self.temporary:
            secret_key, token = self.temporary[auth.secret_id]
        else:
            raise self._deny("InvalidAccessKeyId", f"The SecretId {auth.secret_id!r} does not exist.")

        params = self._pick(
            [(n, v) for n, v in query if not (presigned and n in AUTH_FIELDS)],
            auth.param_list,
            "q-url-param-list",
        )
        signed_headers = self._pick(headers, auth.header_list, "q-header-list")
        host_candidates: list[bytes | None] = [None]
        if "host" in auth.header_list:
            raw_host = signed_headers["host"][1]
            host_candidates = [raw_host]
            if b":" in raw_host and not raw_host.endswith(b"]"):
                host_candidates.append(raw_host.rsplit(b":", 1)[0])
        ok = False
        for host in host_candidates:
            hdrs = dict(signed_headers.values())
            if host is not None:
                hdrs = {n: (host if n.lower() == "host" else v) for n, v in signed_headers.values()}
            text, _, _ = http_string(method, path, list(params.values()), hdrs)
            expected = signature(secret_key, auth.key_time, text)
            if hmac.compare_digest(expected.encode(), auth.signature.lower().encode()):
                ok = True
                break
        if not ok:
            raise self._deny(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        if token is not None:
            in_header = signed_headers.get(TOKEN_NAME)
            in_query = params.get(TOKEN_NAME)
            sent = in_header[1] if in_header else in_query[1].encode() if in_query else None
            if sent is None:
                raise self._deny(
                    "AccessDenied", "temporary credentials must send a signed x-cos-security-token"
                )
            if not hmac.compare_digest(sent, token.encode()):
                raise self._deny("InvalidToken", "The provided token is malformed or otherwise invalid.")
        return auth.secret_id

    def _pick(
        self, pairs: Sequence[tuple[str, V]], listed: tuple[str, ...], list_name: str
    ) -> dict[str, tuple[str, V]]:
        """Map each listed (encoded, lower-cased) key to the one pair it names."""
        index: dict[str, list[tuple[str, V]]] = {}
        for name, value in pairs:
            index.setdefault(cos_quote(name).lower(), []).append((name, value))
        picked: dict[str, tuple[str, V]] = {}
        for key in listed:
            found = index.get(key)
            if not found:
                raise self._deny(
                    "SignatureDoesNotMatch", f"{list_name} names {key!r} but the request does not carry it"
                )
            if len(found) > 1:
                raise CosError(400, "InvalidArgument", f"{key!r} is signed but appears {len(found)} times")
            picked[key] = found[0]
        return picked
