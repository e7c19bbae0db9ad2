from __future__ import annotations

import pytest

from tests.airflow_support import airflow_db  # noqa: F401  (the session fixture)

PARSE_TIMES: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PARSE_TIMES:
        terminalreporter.section("example DAG parse times")
        for name, seconds in sorted(PARSE_TIMES.items()):
            terminalreporter.write_line(f"{name:<48} {seconds * 1000:8.1f} ms")
