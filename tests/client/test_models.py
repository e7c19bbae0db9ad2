from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from cos_provider.client.models import ListedObject, ObjectInfo, ObjectsPage


@pytest.mark.parametrize(
    ("truncated", "marker", "expected"),
    [(True, "k", "k"), (False, "k", None), (True, None, None), (True, "", None)],
)
def test_next_page_marker(truncated, marker, expected):
    """The one rule every listing loop (sync, async, sensors) stops by."""
    page = ObjectsPage("b-1", "", [], [], truncated, marker)
    assert page.next_page_marker == expected


def test_to_dict_is_json_ready_for_xcom():
    """Results go to XCom as JSON: datetimes become ISO 8601, nested results plain dicts."""
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    page = ObjectsPage("b-1", "p/", [ListedObject("p/a", 3, '"e"', when)], ["p/d/"], False, None)
    expected = {
        "bucket": "b-1",
        "prefix": "p/",
        "objects": [
            {
                "key": "p/a",
                "size": 3,
                "etag": '"e"',
                "last_modified": "2024-01-02T03:04:05+00:00",
                "storage_class": None,
            }
        ],
        "common_prefixes": ["p/d/"],
        "is_truncated": False,
        "next_marker": None,
    }
    assert page.to_dict() == expected
    assert json.loads(json.dumps(page.to_dict())) == expected
    info = ObjectInfo("b-1", "k", 1, '"e"', None, metadata={"owner": "me"})
    assert info.to_dict()["metadata"] == {"owner": "me"}
    assert info.to_dict()["last_modified"] is None
