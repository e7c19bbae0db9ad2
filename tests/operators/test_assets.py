"""The ``cos://`` asset URI scheme: handler, factory, OpenLineage converter."""

from __future__ import annotations

import sys
import types
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cos_provider.assets.cos import (
    asset_uri,
    bucket_and_key,
    convert_asset_to_openlineage,
    create_asset,
    sanitize_uri,
)
from cos_provider.client.errors import CosValidationError
from cos_provider.client.uri import split_cos_url


def test_handler_requires_a_bucket() -> None:
    with pytest.raises(ValueError, match="must contain a bucket name"):
        sanitize_uri(urlsplit("cos:///key"))
    assert sanitize_uri(urlsplit("cos://Src-1250000000/a/B.csv")).geturl() == "cos://src-1250000000/a/B.csv"


def test_factory_encodes_keys_so_airflow_keeps_them() -> None:
    asset = create_asset(bucket="src-1250000000", key="dir/a b?x=1#frag/ü.csv", extra={"k": "v"})
    assert asset.uri == "cos://src-1250000000/dir/a%20b%3Fx%3D1%23frag/%C3%BC.csv"
    assert asset.extra == {"k": "v"}
    assert bucket_and_key(asset.uri) == ("src-1250000000", "dir/a b?x=1#frag/ü.csv")


@given(st.text(min_size=1).filter(lambda k: not k.endswith("/")))
def test_uri_round_trip(key: str) -> None:
    assert bucket_and_key(asset_uri("b-1250000000", key)) == ("b-1250000000", key)


def test_openlineage_converter(monkeypatch: Any) -> None:
    class Dataset:
        def __init__(self, namespace: str, name: str) -> None:
            self.namespace, self.name = namespace, name

    facet = types.ModuleType("airflow.providers.common.compat.openlineage.facet")
    facet.Dataset = Dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow.providers.common.compat.openlineage.facet", facet)
    dataset = convert_asset_to_openlineage(create_asset(bucket="dst-1250000000", key="a b/c"), None)
    assert (dataset.namespace, dataset.name) == ("cos://dst-1250000000", "a b/c")
    root = convert_asset_to_openlineage(create_asset(bucket="dst-1250000000"), None)
    assert (root.namespace, root.name) == ("cos://dst-1250000000", "/")


def test_openlineage_converter_without_openlineage() -> None:
    """The compat facet module answers None while the OpenLineage client is not installed."""
    assert convert_asset_to_openlineage(create_asset(bucket="b-1", key="k"), None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain/key.csv", (None, "plain/key.csv")),
        ("cos://b-1250000000/k", ("b-1250000000", "k")),
        ("COS://b/dir/a b?x#y", ("b", "dir/a b?x#y")),
        ("cos://b/%20", ("b", "%20")),
    ],
)
def test_split_cos_url(value: str, expected: tuple[str | None, str]) -> None:
    assert split_cos_url(value) == expected


@pytest.mark.parametrize("value", ["cos://", "cos://bucket", "cos://bucket/", "cos:///key"])
def test_split_cos_url_errors(value: str) -> None:
    with pytest.raises(CosValidationError) as err:
        split_cos_url(value, "source_bucket_key")
    assert err.value.field == "source_bucket_key"


PROVIDER_INFO_ENTRY = {
    "schemes": ["cos"],
    "handler": "cos_provider.assets.cos.sanitize_uri",
    "factory": "cos_provider.assets.cos.create_asset",
    "to_openlineage_converter": "cos_provider.assets.cos.convert_asset_to_openlineage",
}

_REGISTERED = """
import json, sys
import cos_provider.get_provider_info as gpi
base = gpi.get_provider_info
entry = json.loads(sys.argv[1])
def patched():
    info = base()
    if not any("cos" in e.get("schemes", []) for e in info.get("asset-uris", [])):
        info["asset-uris"] = [*info.get("asset-uris", []), entry]
        info["dataset-uris"] = [*info.get("dataset-uris", []), entry]
    return info
gpi.get_provider_info = patched
from airflow.sdk import Asset
from airflow.sdk.lineage import HookLineageCollector
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
out = {"normalised": Asset("cos://SRC-1250000000/dir/a.csv").uri}
try:
    Asset("cos:///no-bucket")
    out["no_bucket"] = "accepted"
except ValueError as exc:
    out["no_bucket"] = str(exc)
made = HookLineageCollector().create_asset(scheme="cos", asset_kwargs={"bucket": "b-1250000000", "key": "k 1"})
out["factory"] = made.uri if made else None
pm = ProvidersManagerTaskRuntime()
out["converter"] = pm.asset_to_openlineage_converters["cos"].__module__
print(json.dumps(out))
"""


def test_the_provider_info_entry_registers_the_scheme(tmp_path: Any) -> None:
    """The ``asset-uris`` entry the provider info needs, checked in a real Airflow process."""
    import json
    import os
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", _REGISTERED, json.dumps(PROVIDER_INFO_ENTRY)],
        capture_output=True,
        text=True,
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {
        "normalised": "cos://src-1250000000/dir/a.csv",
        "no_bucket": "URI format cos:// must contain a bucket name",
        "factory": "cos://b-1250000000/k%201",
        "converter": "cos_provider.assets.cos",
    }
