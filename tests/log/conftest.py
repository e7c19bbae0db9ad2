"""Task-log tests: the IO class against the emulator over loopback, and Airflow's logging config in subprocesses."""

from __future__ import annotations

from tests.copy.conftest import _restore_emulator  # noqa: F401  (autouse fixture)
