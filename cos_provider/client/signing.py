"""COS request signing (``q-sign-algorithm=sha1``).

One module owns the signature so that the client, the async client and the
emulator's verifier can never drift apart: the client signs with
:func:`authorization`, the emulator recomputes with :func:`signature` over the
exact keys the client listed.

The rules (see the protocol notes, section 1) are easy to get subtly wrong,
so each one lives in exactly one function here:

* keys and values are percent-encoded over UTF-8 with only ``-_.~``
  unreserved (space is ``%20``, never ``+``); keys are then lower-cased,
  *including the hex digits of their escapes*, values are not;
* the path is the *decoded* object path, never the request-target;
* the HMAC key of the second round is the hex text of the first round.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

ALGORITHM = "sha1"

# Headers the official SDK signs besides every ``x-cos-*``/``x-ci-*`` header.
# Matching it keeps our requests byte-identical in what they commit to, so a
# proxy or gateway that accepts SDK traffic accepts ours.
SIGNED_HEADER_NAMES = frozenset(
    {
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    }
)


def should_sign_header(name: str) -> bool:
    lower = name.lower()
    return lower in SIGNED_HEADER_NAMES or lower.startswith(("x-cos-", "x-ci-"))


def cos_quote(value: str | bytes) -> str:
    """Percent-encode like COS: UTF-8, uppercase hex, only ``-_.~`` kept."""
    return quote(value, safe="-_.~")


def _canonical_pairs(items: Iterable[tuple[str, str | bytes]]) -> list[tuple[str, str]]:
    encoded = {cos_quote(k).lower(): cos_quote(v) for k, v in items}
    return sorted(encoded.items())


def http_string(
    method: str,
    path: str,
    params: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]],
    headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]],
) -> tuple[str, str, str]:
    """Return ``(HttpString, url-param-list, header-list)`` for a request.

    ``params``/``headers`` hold exactly the pairs to sign, values decoded. A
    value may also be given as raw bytes (a verifier's view of a header):
    ``str`` is signed as its UTF-8 bytes, which is what the client sends.
    """
    p = _canonical_pairs(params.items() if isinstance(params, Mapping) else params)
    h = _canonical_pairs(headers.items() if isinstance(headers, Mapping) else headers)
    text = "\n".join(
        (
            method.lower(),
            path,
            "&".join(f"{k}={v}" for k, v in p),
            "&".join(f"{k}={v}" for k, v in h),
            "",
        )
    )
    return text, ";".join(k for k, _ in p), ";".join(k for k, _ in h)


def key_time(start: int, end: int) -> str:
    return f"{int(start)};{int(end)}"


def signature(secret_key: str, keytime: str, http_str: str) -> str:
    sign_key = hmac.new(secret_key.encode(), keytime.encode(), hashlib.sha1).hexdigest()
    digest = hashlib.sha1(http_str.encode()).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{keytime}\n{digest}\n"
    return hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()


def authorization(
    secret_id: str,
    secret_key: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    start: int,
    end: int,
) -> str:
    """Return the ``Authorization`` value signing exactly ``params`` and ``headers``.

    ``path`` is the decoded object path starting with ``/`` (``/`` for bucket
    operations). Choosing which headers to sign is the caller's job
    (:func:`should_sign_header`), so that this stays a pure function of its inputs.
    """
    http_str, param_list, header_list = http_string(method, path, params, headers)
    kt = key_time(start, end)
    sig = signature(secret_key, kt, http_str)
    return (
        f"q-sign-algorithm={ALGORITHM}&q-ak={secret_id}&q-sign-time={kt}&q-key-time={kt}"
        f"&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={sig}"
    )


@dataclass(frozen=True)
class ParsedAuthorization:
    algorithm: str
    secret_id: str
    sign_time: str
    key_time: str
    header_list: tuple[str, ...]
    param_list: tuple[str, ...]
    signature: str

    @property
    def window(self) -> tuple[int, int]:
        """The ``q-sign-time`` window; raises ``ValueError`` if malformed."""
        start, _, end = self.sign_time.partition(";")
        return int(start), int(end)


AUTH_FIELDS = (
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
)
"""The fields of an ``Authorization`` value, which a pre-signed URL carries as query parameters."""


def parse_authorization(value: str) -> ParsedAuthorization:
    """Parse an ``Authorization`` value; ``ValueError`` names what is wrong."""
    fields: dict[str, str] = {}
    for part in value.strip().split("&"):
        name, sep, val = part.partition("=")
        if not sep:
            raise ValueError(f"malformed authorization field {name!r}")
        if name in fields:
            raise ValueError(f"duplicate authorization field {name!r}")
        fields[name] = val
    missing = set(AUTH_FIELDS) - fields.keys()
    if missing:
        raise ValueError(f"authorization lacks {', '.join(sorted(missing))}")

    def _split(s: str) -> tuple[str, ...]:
        return tuple(x for x in s.split(";") if x)

    return ParsedAuthorization(
        algorithm=fields["q-sign-algorithm"],
        secret_id=fields["q-ak"],
        sign_time=fields["q-sign-time"],
        key_time=fields["q-key-time"],
        header_list=_split(fields["q-header-list"]),
        param_list=_split(fields["q-url-param-list"]),
        signature=fields["q-signature"],
    )
