"""The one cos:// parser: what operators, sensors, triggers and the hook accept as a key or URL."""

from __future__ import annotations

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.client.uri import parse_cos_url, split_cos_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cos://b-1250000000/a/b.csv", ("b-1250000000", "a/b.csv")),
        ("COS://b/k", ("b", "k")),  # the scheme is case-insensitive (RFC 3986)
        ("Cos://b/a?b#c d", ("b", "a?b#c d")),  # the key is verbatim: no query, fragment or %-decoding
        ("cos://b/a%20b", ("b", "a%20b")),
        ("plain/key.txt", (None, "plain/key.txt")),
        ("a/cos:/x", (None, "a/cos:/x")),  # only a leading scheme is a URL
        ("cosmos/data", (None, "cosmos/data")),
    ],
)
def test_split(value: str, expected: tuple[str | None, str]) -> None:
    assert split_cos_url(value) == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("s3://bucket/key", "another scheme (s3://)"),
        ("oss://bucket/key", "another scheme (oss://)"),
        ("cos:/bucket/key", "is not a cos:// URL"),
        ("COS:bucket/key", "is not a cos:// URL"),
        ("cos://bucket", "must look like cos://<bucket>/<key>"),
        ("cos://bucket/", "must look like cos://<bucket>/<key>"),
        ("cos:///key", "must look like cos://<bucket>/<key>"),
    ],
)
def test_refused_naming_the_field(value: str, rule: str) -> None:
    with pytest.raises(CosValidationError) as err:
        split_cos_url(value, "source_bucket_key")
    assert err.value.field == "source_bucket_key"
    assert rule in err.value.rule


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(CosValidationError, match="dest_bucket_key: must be a string, got int"):
        split_cos_url(5, "dest_bucket_key")


def test_parse_requires_a_url() -> None:
    assert parse_cos_url("cos://b/k") == ("b", "k")
    with pytest.raises(CosValidationError, match="is not a cos://bucket/key URL"):
        parse_cos_url("k")
