"""Server-side encryption inputs that need more than a string check: SSE-KMS context, SSE-C keys.

SSE-C (customer-provided keys) puts the key itself in request headers, so
the key is a secret that this module keeps out of every rendering: a
:class:`CustomerKey` shows only the key's MD5 in ``repr``/``str``, error
messages never quote the value they refuse, and the header value it hands
to a request is a :class:`SecretValue` whose ``repr`` is ``'***'`` - a dict
of request headers that ends up in a log line or a traceback shows no key.
COS only accepts SSE-C over HTTPS; :func:`require_https` refuses it before
a request goes out over plain HTTP (the key would travel in clear text).

Headers (doc 436/7728 "SSE headers", 436/10881, 436/8287; the SDK's
``SSECustomer*`` / ``CopySourceSSECustomer*`` kwargs map to the same names):

* destination: ``x-cos-server-side-encryption-customer-{algorithm,key,key-MD5}``
  on PUT copy, Initiate, every Upload Part (- Copy), and HEAD/GET of the object;
* source: ``x-cos-copy-source-server-side-encryption-customer-*`` on PUT copy
  and every Upload Part - Copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cos_provider.client import limits
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError, CosValidationError

DEST_PREFIX = "x-cos-server-side-encryption-customer-"
SOURCE_PREFIX = "x-cos-copy-source-server-side-encryption-customer-"


class SecretValue(str):
    """A header value that must not show up when its container is printed.

    Only ``repr`` is hidden: the value is still an ordinary ``str`` to the
    HTTP libraries and the signer, which must send and sign the real bytes.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


class CustomerKey:
    """An SSE-C key (the base64 of 32 random bytes) and the MD5 COS checks it against.

    Equal keys compare equal by MD5. ``repr`` and ``str`` show the MD5 only;
    :meth:`reveal` is the one way to the key itself (for the secrets masker).
    """

    __slots__ = ("_key", "md5")

    def __init__(self, key_b64: str, md5_b64: str) -> None:
        self._key = key_b64
        self.md5 = md5_b64

    @classmethod
    def parse(cls, value: Any, field: str) -> CustomerKey | None:
        """A key from its base64 text (or a :class:`CustomerKey`); ``None`` for none.

        The refusal says what is wrong without ever quoting the value.
        """
        if value is None or value == "":
            return None
        if isinstance(value, CustomerKey):
            return value
        if not isinstance(value, str):
            raise CosValidationError(
                field, f"must be the base64 text of a 32-byte key, got a {type(value).__name__}"
            )
        text = value.strip()
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise CosValidationError(
                field, "is not valid base64; give the base64 of a 32-byte (AES-256) key"
            ) from None
        if len(raw) != limits.SSE_CUSTOMER_KEY_BYTES:
            raise CosValidationError(
                field,
                f"decodes to {len(raw)} bytes; SSE-C needs a {limits.SSE_CUSTOMER_KEY_BYTES}-byte "
                "(AES-256) key, base64-encoded",
            )
        md5 = base64.b64encode(hashlib.md5(raw, usedforsecurity=False).digest()).decode()
        return cls(base64.b64encode(raw).decode(), md5)

    def reveal(self) -> str:
        """The base64 key: for the request headers and the secrets masker, nothing else."""
        return self._key

    def headers(self, prefix: str = DEST_PREFIX) -> dict[str, str]:
        return {
            f"{prefix}algorithm": limits.SSE_CUSTOMER_ALGORITHM,
            f"{prefix}key": SecretValue(self._key),
            f"{prefix}key-MD5": self.md5,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CustomerKey) and other.md5 == self.md5

    def __hash__(self) -> int:
        return hash(self.md5)

    def __repr__(self) -> str:
        return f"CustomerKey(md5={self.md5!r})"

    __str__ = __repr__

    def __copy__(self) -> CustomerKey:
        return self

    def __deepcopy__(self, memo: Any) -> CustomerKey:  # immutable; Airflow deep-copies operators
        return self


@dataclass(frozen=True)
class CustomerKeys:
    """The SSE-C keys of one copy: to read the source, and to encrypt the destination."""

    source: CustomerKey | None = None
    dest: CustomerKey | None = None

    def __bool__(self) -> bool:
        return self.source is not None or self.dest is not None

    def source_headers(self) -> dict[str, str]:
        """Copy-source headers for PUT copy and Upload Part - Copy."""
        return self.source.headers(SOURCE_PREFIX) if self.source else {}

    def dest_headers(self) -> dict[str, str]:
        return self.dest.headers() if self.dest else {}

    def copy_headers(self) -> dict[str, str]:
        """Everything a PUT copy or an Upload Part - Copy carries."""
        return {**self.source_headers(), **self.dest_headers()}

    def field(self) -> str:
        """The parameter to blame for SSE-C in an error."""
        return "sse_customer_key" if self.dest else "source_sse_customer_key"


NO_KEYS = CustomerKeys()


def customer_keys(values: Mapping[str, Any]) -> CustomerKeys:
    """``sse_customer_key`` / ``source_sse_customer_key`` parameters as :class:`CustomerKeys`."""
    return CustomerKeys(
        source=CustomerKey.parse(values.get("source_sse_customer_key"), "source_sse_customer_key"),
        dest=CustomerKey.parse(values.get("sse_customer_key"), "sse_customer_key"),
    )


def scheme(endpoint: Endpoint) -> str:
    """The scheme requests really travel with (a connect address overrides the endpoint's)."""
    if endpoint.connect_address:
        return urlsplit(endpoint.connect_address).scheme.lower()
    return endpoint.scheme


def require_https(endpoint: Endpoint, field: str) -> None:
    """Refuse SSE-C over plain HTTP before anything is sent: COS refuses it, and the key would leak."""
    if scheme(endpoint) != "https":
        where = endpoint.connect_address or f"{endpoint.scheme}://"
        raise CosValidationError(
            field,
            f"SSE-C needs HTTPS, but this connection sends requests over http ({where}); COS "
            "refuses customer keys over HTTP and the key would travel in clear text. Use an "
            "https scheme / connect address",
        )


def key_needed(exc: CosServiceError, uri: str, field: str) -> CosServiceError:
    """A HEAD refused with 400 and no body, restated with the likely cause when no key was sent.

    COS does not describe an SSE-C object to a request without its key, and
    a HEAD answer has no body to say so; the bare "400 BadRequest" is
    restated to name the parameter that supplies the key.
    """
    if exc.status != 400:
        return exc
    restated = CosServiceError(
        exc.status,
        exc.code,
        f"{uri} could not be read; if it is encrypted with a customer key (SSE-C), give {field}"
        + (f" ({exc.message})" if exc.message else ""),
        exc.resource,
        exc.request_id,
        exc.trace_id,
        exc.method,
    )
    return restated.during(exc.cos_request, exc.attempt)


def kms_context(value: Any, field: str = "kms_context") -> str | None:
    """``x-cos-server-side-encryption-context``: the base64 of a JSON object.

    A dict is serialised (compact JSON, UTF-8) and encoded; a string must
    already be the base64 of a JSON object whose values are strings.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        context = dict(value)
    elif isinstance(value, str):
        try:
            context = json.loads(base64.b64decode(value.strip(), validate=True).decode("utf-8"))
        except (binascii.Error, ValueError):
            raise CosValidationError(
                field, 'must be a dict, or the base64 of a JSON object such as {"project": "a"}'
            ) from None
        if not isinstance(context, dict):
            raise CosValidationError(field, "must be the base64 of a JSON object, not of another JSON value")
    else:
        raise CosValidationError(field, f"must be a dict or a base64 string, got {type(value).__name__}")
    bad = [k for k, v in context.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise CosValidationError(field, f"keys and values must be strings ({bad[0]!r} is not)")
    if isinstance(value, str):
        return value.strip()
    text = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode()
