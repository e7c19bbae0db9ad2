"""The one ``cos://`` parser: every parameter that takes a key or a URL goes through here.

Operators, sensors, triggers and assets must agree on what ``cos://b/k``
means, or an operator copies ``COS://b/k`` while a sensor waits for the
literal key. The scheme is case-insensitive (RFC 3986); the bucket and key
are taken verbatim, with no percent-decoding and no ``?``/``#`` handling,
because DAG authors write keys exactly as COS stores them. Asset URIs, which
*are* percent-encoded, are built and read in :mod:`cos_provider.assets.cos`.

One rule applies to every key afterwards, when it becomes an
:class:`~cos_provider.client.operations.ObjectRef`: a single leading ``/`` is
dropped, as the official SDK drops it from every key it sends
(:func:`~cos_provider.client.validation.normalise_key`). So
``cos://bucket//logs/a.csv`` and ``cos://bucket/logs/a.csv`` are the same
object, and a key that still starts with ``/`` after that (three slashes) is
refused before any request: COS answers ``//key`` with a bare 403. Dot
segments (``a/../b``) are kept as written and sent escaped.
"""

from __future__ import annotations

import re

from cos_provider.client.errors import CosValidationError

SCHEME = "cos"
PREFIX = f"{SCHEME}://"
_OTHER_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_MANGLED = re.compile(r"cos:/?(?!/)", re.IGNORECASE)


def is_cos_url(value: object) -> bool:
    return isinstance(value, str) and value[: len(PREFIX)].lower() == PREFIX


def split_cos_url(value: object, field: str = "key") -> tuple[str | None, str]:
    """``cos://bucket/key`` -> ``(bucket, key)``; a plain key -> ``(None, key)``."""
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    if not is_cos_url(value):
        # COS allows such keys, but in a DAG they are nearly always a mistake
        # (an s3:// path pasted in, or cos:/ with a slash lost); refuse them.
        other = _OTHER_URL.match(value)
        if other:
            raise CosValidationError(
                field,
                f"{value!r} is a URL of another scheme ({other.group()}); give a key or cos://<bucket>/<key>",
            )
        if _MANGLED.match(value):
            raise CosValidationError(field, f"{value!r} is not a cos:// URL; write cos://<bucket>/<key>")
        return None, value
    bucket, sep, key = value[len(PREFIX) :].partition("/")
    if not bucket or not sep or not key:
        raise CosValidationError(field, f"{value!r} must look like cos://<bucket>/<key>")
    return bucket, key


def parse_cos_url(value: object, field: str = "key") -> tuple[str, str]:
    """Like :func:`split_cos_url`, but the value must be a ``cos://bucket/key`` URL."""
    bucket, key = split_cos_url(value, field)
    if bucket is None:
        raise CosValidationError(field, f"{value!r} is not a cos://bucket/key URL")
    return bucket, key


def cos_url(bucket: str, key: str = "") -> str:
    """The verbatim ``cos://bucket/key`` a user would write (not an asset URI)."""
    return f"{PREFIX}{bucket}/{key}"
