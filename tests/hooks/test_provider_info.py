"""The provider as Airflow discovers it: schema, registration, UI form metadata."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema

from cos_provider.get_provider_info import CONN_FIELDS, PACKAGE_NAME, get_provider_info
from cos_provider.hooks.cos import CosHook

AIRFLOW_DIR = Path(airflow.__file__).parent
REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_provider_info_passes_airflows_schema():
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == PACKAGE_NAME
    (conn,) = info["connection-types"]
    assert (conn["connection-type"], conn["hook-class-name"]) == (
        "tencent_cos",
        "cos_provider.hooks.cos.CosHook",
    )
    assert info["asset-uris"] == info["dataset-uris"]
    assert [a["schemes"] for a in info["asset-uris"]] == [["cos"]]


def test_every_dotted_path_in_provider_info_resolves():
    """The schema checks shapes only; a renamed module or function would pass it and fail at discovery."""
    info = get_provider_info()
    (conn,) = info["connection-types"]
    assert resolve(conn["hook-class-name"]) is CosHook
    for kind in ("hooks", "operators", "sensors", "triggers"):
        modules = [m for entry in info[kind] for m in entry["python-modules"]]
        assert modules, kind
        for module in modules:
            importlib.import_module(module)
    for uris in info["asset-uris"]:
        for role in ("handler", "factory", "to_openlineage_converter"):
            assert callable(resolve(uris[role])), uris[role]


def test_field_behaviour_passes_airflows_schema():
    schema = json.loads((AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text())
    conn = get_provider_info()["connection-types"][0]
    behaviour = conn["ui-field-behaviour"]
    jsonschema.validate(
        {
            "hidden_fields": behaviour["hidden-fields"],
            "relabeling": behaviour["relabeling"],
            "placeholders": behaviour["placeholders"],
        },
        schema,
    )


def test_package_name_matches_distribution():
    from importlib.metadata import distribution

    dist = distribution("airflow-provider-tencent-cos")
    (entry,) = [e for e in dist.entry_points if e.group == "apache_airflow_provider"]
    assert entry.load()()["package-name"] == dist.metadata["Name"]


def test_provider_info_imports_nothing_heavy():
    code = "import sys, cos_provider.get_provider_info as m; m.get_provider_info(); print(sorted(k for k in ('airflow','requests','lxml','cos_provider.hooks.cos') if k in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_airflow_cli_lists_provider_and_hook(tmp_path):
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": str(Path(sys.executable).parent),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # The code under test, not whichever checkout the editable install points at.
        "PYTHONPATH": str(REPO_ROOT),
    }
    airflow_bin = str(Path(sys.executable).parent / "airflow")
    providers = subprocess.run(
        [airflow_bin, "providers", "list", "-o", "json"], capture_output=True, text=True, env=env, check=True
    )
    names = {p["package_name"] for p in json.loads(providers.stdout)}
    assert "airflow-provider-tencent-cos" in names
    hooks = subprocess.run(
        [airflow_bin, "providers", "hooks", "-o", "json"], capture_output=True, text=True, env=env, check=True
    )
    entry = {h["connection_type"]: h for h in json.loads(hooks.stdout)}["tencent_cos"]
    assert entry["class"] == "cos_provider.hooks.cos.CosHook"


def test_ui_hook_metadata_has_relabelled_and_extra_fields():
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "tencent_cos"]
    assert meta.hook_name == "Tencent COS"
    standard = meta.standard_fields.model_dump()
    assert standard["login"]["title"] == "SecretId" and standard["password"]["title"] == "SecretKey"
    for hidden in ("host", "port", "url_schema"):  # the API calls "schema" url_schema
        assert standard[hidden]["hidden"] is True
    extra = meta.extra_fields
    assert set(extra) == set(CONN_FIELDS)
    assert extra["session_token"]["schema"]["format"] == "password"
    assert extra["region"]["schema"]["title"] == "Region"
    assert extra["connect_address"]["schema"]["title"] == "Connect address override"
