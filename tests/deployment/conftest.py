"""Deployment tests: Airflow components as real processes (see :mod:`tests.deployment.stack`).

For a test of your own, use the ``airflow_stack`` factory below (``test_task_logs.py``
does): it starts a stack per call, stops it after the test, and saves its logs to
``test-artifacts/<name>/`` when the test fails. Or use
:class:`~tests.deployment.stack.AirflowStack` as a context manager in a fixture of
your own scope::

    def test_bundle(airflow_stack):
        stack = airflow_stack(name="bundle", components=["dag-processor", "api-server"], config={...})
        stack.wait_for_dag("from_cos")
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.stack import AirflowStack

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """Remember a failed test phase on the item, so a stack fixture can save its logs."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


def phase_failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test using this fixture has failed so far (setup or call)."""
    return request.node.stash.get(FAILED, False)


@pytest.fixture
def airflow_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., AirflowStack]]:
    """A factory: ``airflow_stack(**AirflowStack kwargs)`` starts a stack, stopped after the test."""
    started: list[AirflowStack] = []

    def start(dag_files: tuple[Path, ...] = (), **kwargs: Any) -> AirflowStack:
        stack = AirflowStack(tmp_path / f"home-{len(started)}", **kwargs)
        for path in dag_files:
            stack.add_dag_file(path)
        stack.__enter__()  # stops and saves logs itself if the start fails
        started.append(stack)
        return stack

    yield start
    for stack in started:
        try:
            if phase_failed(request):
                stack.collect_artifacts()
        finally:
            stack.stop()
