"""Deployment tests: Airflow components as real processes (see :mod:`tests.deployment.stack`)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """Remember a failed test phase on the item, so a stack fixture can save its logs."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


def phase_failed(request: pytest.FixtureRequest) -> bool:
    return request.node.stash.get(FAILED, False)
