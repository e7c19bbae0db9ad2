"""The provider-info entries Airflow dispatches on (``remote-logging`` by scheme, ``logging``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cos_provider.get_provider_info import get_provider_info
from cos_provider.log.cos_task_handler import CosRemoteLogIO, CosTaskHandler


def test_provider_info_entries_resolve() -> None:
    from airflow._shared.module_loading import import_string

    info = get_provider_info()
    assert [import_string(path) for path in info["logging"]] == [CosTaskHandler]
    (entry,) = info["remote-logging"]
    assert entry["scheme"] == "cos"
    assert import_string(entry["classpath"]) is CosRemoteLogIO


def test_airflow_dispatches_the_cos_scheme_to_us(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tier 2: what core and the task SDK do with ``remote_logging`` on once no logging module claims it."""
    from airflow._shared.logging.factory import _build_remote_task_log_from_provider
    from airflow._shared.module_loading import import_string
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    monkeypatch.setenv("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID", "cos_logs")
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER", "cos://logs-1250000000/airflow")
    for manager in (ProvidersManager(), ProvidersManagerTaskRuntime()):
        info = manager.remote_logging_handler_by_scheme("cos")
        assert info is not None and info.package_name == "airflow-provider-tencent-cos"
        io = _build_remote_task_log_from_provider(
            remote_base_log_folder="cos://logs-1250000000/airflow",
            providers_manager=manager,
            import_string=import_string,
        )
        assert isinstance(io, CosRemoteLogIO)
        assert (io.base_log_folder, io.conn_id) == (tmp_path, "cos_logs")
