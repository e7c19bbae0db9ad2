"""How a console URL is built, and what ``persist`` records for a target (no Airflow run needed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.links.cos import CONSOLE_URL, CosConsoleLink, console_url, folder_of
from tests.conftest import APP_ID, REGION, SRC_BUCKET

BASE = "https://console.cloud.tencent.com/cos/bucket"


def path_of(url: str) -> str:
    """The ``path`` query value decoded the two times the console decodes it."""
    (value,) = [p.split("=", 1)[1] for p in url.split("?", 1)[1].split("&") if p.startswith("path=")]
    return unquote(unquote(value))


def test_default_console_is_the_china_site_file_list() -> None:
    assert CONSOLE_URL == BASE


def test_folder_is_encoded_twice_between_slashes() -> None:
    # The form found in public links to the console: path=%252Fjson%252F opens /json/.
    assert console_url("img-1250000000", "ap-guangzhou", "json/") == (
        f"{BASE}?bucket=img-1250000000&region=ap-guangzhou&path=%252Fjson%252F"
    )


def test_bucket_root_has_no_path() -> None:
    assert console_url("img-1250000000", "ap-beijing") == f"{BASE}?bucket=img-1250000000&region=ap-beijing"


def test_chinese_and_special_characters_survive_both_decodings() -> None:
    folder = "报表/2026 年/q1 #1+%&=?/"
    url = console_url("data-1250000000", "ap-shanghai", folder)
    assert url == (
        f"{BASE}?bucket=data-1250000000&region=ap-shanghai&path="
        "%252F%25E6%258A%25A5%25E8%25A1%25A8%252F2026%2520%25E5%25B9%25B4%252Fq1%2520%25231%252B%2525%2526%253D%253F%252F"
    )
    assert path_of(url) == "/" + folder
    # Nothing in the value can end the parameter or the query early.
    assert "#" not in url and url.count("&") == 2 and url.count("?") == 1


@pytest.mark.parametrize(
    ("key", "folder"),
    [
        ("a/b/c.txt", "a/b/"),
        ("c.txt", ""),
        ("", ""),
        ("logs/", "logs/"),
        ("logs/2026-", "logs/"),
        ("报表/2026 年/q1.csv", "报表/2026 年/"),
        ("a//b", "a//"),
    ],
)
def test_folder_of(key: str, folder: str) -> None:
    assert folder_of(key) == folder


@pytest.mark.parametrize(
    ("args", "field"),
    [(("", "ap-beijing"), "bucket"), (("b-1250000000", ""), "region"), ((None, "ap-beijing"), "bucket")],
)
def test_missing_bucket_or_region_is_refused_naming_the_field(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(CosValidationError) as err:
        console_url(*args)
    assert err.value.field == field


class RecordingTI:
    """Stands in for ``context["ti"]``: keeps what the link pushes."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def persisted(hook: CosHook, *args: Any, **kwargs: Any) -> Any:
    ti = RecordingTI()
    CosConsoleLink.persist({"ti": ti}, hook, *args, **kwargs)
    return ti.pushed.get(CosConsoleLink.key)


def test_persist_resolves_bare_bucket_with_the_connection_appid(cos_connection: str) -> None:
    hook = CosHook(cos_connection)
    assert persisted(hook, "in/2026/x.csv", "src") == {
        "bucket": SRC_BUCKET,
        "region": REGION,
        "folder": "in/2026/",
    }


def test_persist_keeps_another_accounts_bucket(cos_connection: str) -> None:
    hook = CosHook(cos_connection)
    other = "shared-1300000001"
    assert other.rsplit("-", 1)[1] != APP_ID
    assert persisted(hook, f"cos://{other}/x/y.bin", "src") == {
        "bucket": other,
        "region": REGION,
        "folder": "x/",
    }
    assert persisted(hook, "x/y.bin", other, region="ap-chengdu") == {
        "bucket": other,
        "region": "ap-chengdu",
        "folder": "x/",
    }


def test_persist_takes_a_glob_literal_folder_and_the_first_of_many_keys(cos_connection: str) -> None:
    hook = CosHook(cos_connection)
    assert persisted(hook, "logs/2026-*/**/*.csv", "src")["folder"] == "logs/"
    assert persisted(hook, ["cos://dst/a/1", "cos://src/b/2"])["bucket"] == "dst-" + APP_ID


def test_persist_never_fails_the_task(cos: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address))
    hook = CosHook("cos_default")
    assert persisted(hook, "s3://elsewhere/key", "src") is None  # the operator reports this itself
    assert persisted(hook, "key/without/bucket") is None
    monkeypatch.setenv("AIRFLOW_CONN_NO_REGION", connection_json(cos.address, region=None))
    assert persisted(CosHook("no_region"), "a/b", "src") is None  # no region: no link to build
