"""The one glob dialect shared by the prefix copy and the sensors."""

from __future__ import annotations

import warnings

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.client.globbing import glob_regex
from cos_provider.client.selection import Selection
from cos_provider.client.watch import plans as watch


def test_copy_and_sensors_compile_the_same_regex():
    assert watch.glob_regex is glob_regex
    pattern = "data/**/x-[!0-9]*.csv"
    assert Selection.of(match_glob=pattern).pattern is glob_regex(pattern, "match_glob")


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("x[a--]", "x-", None),  # None: invalid, a reversed range ('a' to '-')
        ("x[--/]", "x.", True),  # '-' first starts a range: '-' to '/'
        ("x[!-a]", "x-", False),  # '-' right after '!' is literal
        ("x[!-a]", "xb", True),
        ("x[a-]", "x-", True),  # '-' last is literal
        ("x[]]", "x]", True),  # ']' first is literal
        ("x[!]]", "x]", False),
        ("x[!a]", "x/", False),  # a negated class never matches '/'
    ],
)
def test_class_edges(pattern, key, matches):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # re's FutureWarning about '--' must not come back
        if matches is None:
            with pytest.raises(CosValidationError, match="not a valid glob"):
                glob_regex(pattern)
            return
        rx = glob_regex(pattern)
    assert bool(rx.match(key)) is matches
    assert bool(rx.fullmatch(key)) is matches


def test_match_is_anchored_at_the_end():
    assert not glob_regex("data/*.csv").match("data/a.csv.bak")


def test_reversed_range_names_the_field():
    with pytest.raises(CosValidationError) as err:
        glob_regex("x[z-a]", "match_glob")
    assert err.value.field == "match_glob"
