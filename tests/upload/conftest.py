"""Upload tests; the ``airflow_db`` ones run ``dag.test()`` on the DAGs in ``dags/``."""

from __future__ import annotations

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
