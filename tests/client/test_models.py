from __future__ import annotations

import pytest

from cos_provider.client.models import ObjectsPage


@pytest.mark.parametrize(
    ("truncated", "marker", "expected"),
    [(True, "k", "k"), (False, "k", None), (True, None, None), (True, "", None)],
)
def test_next_page_marker(truncated, marker, expected):
    """The one rule every listing loop (sync, async, sensors) stops by."""
    page = ObjectsPage("b-1", "", [], [], truncated, marker)
    assert page.next_page_marker == expected
