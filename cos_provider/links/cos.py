"""The "Tencent COS console" extra link: from a task to its object's folder in the console.

Airflow 3 computes extra links on the worker, never in the API server: after
the task ends (any state) the task runner calls :meth:`CosConsoleLink.get_link`
and stores the URL under :attr:`~CosConsoleLink.xcom_key`; the UI reads only
that XCom (the serialized DAG keeps just ``{name: xcom_key}``). So the
operator says where it worked in ``execute`` (:meth:`CosConsoleLink.persist`:
bucket, region, folder, a small dict under the same key) and ``get_link``
turns it into the URL, as google's ``BaseGoogleLink`` does.

The console has no object-detail deep link; the file list of a bucket opens
at a folder with ``path=``, URL-encoded twice and framed by slashes
(``&path=%252Fjson%252F`` for ``json/``), so an object links to its parent
folder. The China-site console is the default; ``[tencent_cos] console_url``
(``AIRFLOW__TENCENT_COS__CONSOLE_URL``) points the links elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink

from cos_provider.client.errors import CosValidationError
from cos_provider.client.globbing import literal_prefix
from cos_provider.client.uri import split_cos_url

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

    from cos_provider.hooks.cos import CosHook

CONSOLE_URL = "https://console.cloud.tencent.com/cos/bucket"
"""The China-site file list of a bucket (``?bucket=<name-appid>&region=<region>``)."""
CONFIG_SECTION = "tencent_cos"
CONFIG_KEY = "console_url"


def folder_of(key: str) -> str:
    """The folder a key or prefix lives in: everything up to its last ``/`` (``""``: the bucket root).

    A prefix that names a folder (``logs/``) is that folder; a partial one
    (``logs/2024-``) opens the folder it is in.
    """
    cut = key.rfind("/")
    return key[: cut + 1] if cut >= 0 else ""


def console_url(bucket: str, region: str, folder: str = "", *, base: str = CONSOLE_URL) -> str:
    """The console URL of ``bucket`` (full ``name-appid``) in ``region``, opened at ``folder``."""
    for field, value in (("bucket", bucket), ("region", region), ("console_url", base)):
        if not isinstance(value, str) or not value:
            raise CosValidationError(field, f"must be a non-empty string, got {value!r}")
    if not isinstance(folder, str):
        raise CosValidationError("folder", f"must be a string, got {type(folder).__name__}")
    url = f"{base}?bucket={quote(bucket, safe='')}&region={quote(region, safe='')}"
    if folder:
        url += "&path=" + quote(quote(f"/{folder.strip('/')}/", safe=""), safe="")
    return url


def configured_base() -> str:
    from airflow.configuration import conf

    return conf.get(CONFIG_SECTION, CONFIG_KEY, fallback=CONSOLE_URL) or CONSOLE_URL


class CosConsoleLink(BaseOperatorLink):
    """The "Tencent COS console" button of a task: the bucket's file list at the object's folder."""

    name: ClassVar[str] = "Tencent COS console"
    key: ClassVar[str] = "cos_console"

    @property
    def xcom_key(self) -> str:
        return self.key

    @classmethod
    def persist(
        cls,
        context: Any,
        hook: CosHook,
        key: Any = "",
        bucket: Any = None,
        *,
        region: str | None = None,
    ) -> None:
        """Remember where this task works: ``key`` (a key, prefix, glob, ``cos://`` URL, or a list
        of them: the first counts) in ``bucket``, in ``region`` (default: the connection's).

        Never fails the task: a target that does not resolve (the operator's
        own validation reports it, naming the field) or a connection without
        a region leaves the task without a link.
        """
        try:
            if isinstance(key, list | tuple):
                key = key[0] if key else ""
            url_bucket, text = split_cos_url(key or "")
            name = url_bucket or bucket
            if not name:
                return
            full = hook.bucket(name)
            where = region or hook.region
        except Exception as exc:
            hook.log.debug("No console link: %s", exc)
            return
        if not where:
            return
        push = getattr(context.get("ti") if hasattr(context, "get") else None, "xcom_push", None)
        if push is None:  # execute() called outside a task run
            return
        folder = folder_of(literal_prefix(text))
        push(key=cls.key, value={"bucket": full, "region": where, "folder": folder})

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.providers.common.compat.sdk import XCom

        value = XCom.get_value(ti_key=ti_key, key=self.key)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value  # already turned into the URL (an earlier finalize, e.g. before a deferral)
        if not isinstance(value, dict):
            return ""
        return console_url(value["bucket"], value["region"], value.get("folder", ""), base=configured_base())


class CosConsoleLinkMixin:
    """Adds the console link to a COS operator or sensor; its ``execute`` calls :meth:`persist_console_link`.

    ``console_link_fields`` names the attributes the target is read from:
    the key (or prefix, glob, ``cos://`` URL) candidates, the bucket
    candidates (the first set one wins) and the region attribute.
    """

    operator_extra_links: Collection[BaseOperatorLink] = (CosConsoleLink(),)
    console_link_fields: ClassVar[tuple[tuple[str, ...], tuple[str, ...], str]] = (
        ("key",),
        ("bucket",),
        "region",
    )

    def persist_console_link(self, context: Any) -> None:
        keys, buckets, region = self.console_link_fields

        def first(names: tuple[str, ...]) -> Any:
            return next((v for v in (getattr(self, n, None) for n in names) if v), None)

        hook = getattr(self, "hook")  # noqa: B009  (the operators' and sensors' cached hook)
        CosConsoleLink.persist(
            context, hook, first(keys) or "", first(buckets), region=getattr(self, region, None)
        )


__all__ = ["CONSOLE_URL", "CosConsoleLink", "CosConsoleLinkMixin", "console_url", "folder_of"]
