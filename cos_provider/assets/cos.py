"""The ``cos`` asset URI scheme, registered in provider info like amazon's ``s3``.

An asset URI is ``cos://<bucket>/<key>`` with the key percent-encoded
(``quote(key, safe="/")``): Airflow normalises asset URIs (sorts the query,
drops the fragment, trims trailing slashes), so a key holding ``?``, ``#``,
spaces or non-ASCII text must be encoded to survive. The bucket is the full
``name-appid`` form.

The ``cos://bucket/key`` *parameters* of the operators are different: they
take the key verbatim (see :mod:`cos_provider.client.uri`), because DAG authors write
keys, not URIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from cos_provider.client.uri import SCHEME

if TYPE_CHECKING:
    from airflow.sdk import Asset


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Asset URI handler: a bucket is required; the bucket is lower-cased (COS bucket names are)."""
    if not uri.netloc:
        raise ValueError("URI format cos:// must contain a bucket name")
    return uri._replace(netloc=uri.netloc.lower())


def asset_uri(bucket: str, key: str = "") -> str:
    return f"{SCHEME}://{bucket}/{quote(key, safe='/')}" if key else f"{SCHEME}://{bucket}"


def create_asset(*, bucket: str, key: str = "", extra: dict[str, Any] | None = None) -> Asset:
    """Asset factory used by the hook lineage collector (``scheme="cos"``)."""
    from airflow.providers.common.compat.sdk import Asset

    return Asset(uri=asset_uri(bucket, key), extra=extra)


def bucket_and_key(uri: str) -> tuple[str, str]:
    """Inverse of :func:`asset_uri`."""
    parts = urlsplit(uri)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return parts.netloc, unquote(path)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """OpenLineage dataset of a ``cos://`` asset: namespace ``cos://<bucket>``, name the key."""
    from airflow.providers.common.compat.openlineage.facet import Dataset as OpenLineageDataset

    bucket, key = bucket_and_key(asset.uri)
    return OpenLineageDataset(namespace=f"{SCHEME}://{bucket}", name=key or "/")
