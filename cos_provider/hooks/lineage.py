"""Hook-level lineage: every hook method that reads or writes objects reports them.

Reported through Airflow's hook lineage collector, so a ``@task`` that calls
:class:`~cos_provider.hooks.cos.CosHook` directly gets the same ``cos://``
assets as an operator. The collector is a no-op unless a lineage reader is
registered, so this costs nothing by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cos_provider.assets.cos import asset_uri
from cos_provider.client.operations import ObjectRef


def report_lineage(hook: Any, inputs: Iterable[ObjectRef] = (), outputs: Iterable[ObjectRef] = ()) -> None:
    try:
        from airflow.providers.common.compat.sdk import get_hook_lineage_collector
    except ImportError:  # pragma: no cover - Airflow < 3
        return
    collector = get_hook_lineage_collector()
    for ref in inputs:
        collector.add_input_asset(context=hook, uri=asset_uri(ref.bucket, ref.key))
    for ref in outputs:
        collector.add_output_asset(context=hook, uri=asset_uri(ref.bucket, ref.key))


def file_uri(path: str) -> str:
    """``file://`` URI of a local path (absolute)."""
    import os
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


def report_file_lineage(hook: Any, inputs: Iterable[str] = (), outputs: Iterable[str] = ()) -> None:
    """Local files a hook method read or wrote, as ``file://`` assets."""
    try:
        from airflow.providers.common.compat.sdk import get_hook_lineage_collector
    except ImportError:  # pragma: no cover - Airflow < 3
        return
    collector = get_hook_lineage_collector()
    for path in inputs:
        collector.add_input_asset(context=hook, uri=file_uri(path))
    for path in outputs:
        collector.add_output_asset(context=hook, uri=file_uri(path))
