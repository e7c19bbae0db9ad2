"""Batch Operations tests: real HTTP against the emulator's control endpoint; ``airflow_db`` ones run ``dag.test()``."""

from __future__ import annotations

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
