"""Download tests: real HTTP against the emulator; ``airflow_db`` ones run ``dag.test()``."""

from __future__ import annotations

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
from tests.copy.conftest import _restore_emulator, requests_of  # noqa: F401  (fixtures)
