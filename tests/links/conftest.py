"""Console-link tests: URL building, then ``dag.test()`` runs whose links are read back as the UI reads them."""

from __future__ import annotations

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
