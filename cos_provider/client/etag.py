"""The one ETag rule.

COS quotes ETags in headers and XML and compares them as opaque strings;
users paste them with or without quotes, and hex digests come back in either
case from different tools. So two ETags are the same when they are equal
after stripping white space and quotes and folding case. Every comparison
(``if_match``, a move's "source unchanged" check, skip-if-same, resume
fingerprints) goes through :func:`same_etag` or :func:`normalise_etag`.
"""

from __future__ import annotations


def normalise_etag(etag: str | None) -> str:
    """The comparable form: no quotes, no surrounding white space, lower case."""
    return (etag or "").strip().strip('"').lower()


def same_etag(a: str | None, b: str | None) -> bool:
    return normalise_etag(a) == normalise_etag(b)


def quote_etag(etag: str) -> str:
    """The wire form (``"…"``), as COS expects in If-Match and CompleteMultipartUpload."""
    return etag if etag.startswith('"') else f'"{etag}"'


def unquote_etag(etag: str) -> str:
    """The display form: quotes removed, case kept as COS sent it."""
    return etag.strip().strip('"')
