"""``CosHook``: the façade over the COS client, as ``S3Hook`` and ``GCSHook`` are.

Everything a user can do with this provider is a method here first, usable
from a ``@task`` or a ``PythonOperator``; operators, sensors and triggers are
thin Airflow shells around these methods. The hook owns credentials: callers
only ever hold a connection id, and the client signs every request itself.
Every method that reads or writes objects reports lineage
(:mod:`cos_provider.hooks.lineage`). The methods live by family in
:mod:`.copy`, :mod:`.objects`, :mod:`.download`, :mod:`.upload`, :mod:`.batch` and :mod:`.restore`, on the base in :mod:`.base`.
"""

from __future__ import annotations

from typing import Any

from cos_provider.get_provider_info import CONN_TYPE, HOOK_NAME
from cos_provider.hooks.base import (
    CosBaseHook,
    connection_form_widgets,
    mask_customer_key,
    ui_field_behaviour,
)
from cos_provider.hooks.batch import CosBatchMethods
from cos_provider.hooks.copy import CosCopyMethods, MultipartCopyStart
from cos_provider.hooks.download import CosDownloadMethods
from cos_provider.hooks.objects import CosObjectMethods
from cos_provider.hooks.restore import CosRestoreMethods
from cos_provider.hooks.upload import CosUploadMethods


class CosHook(
    CosBatchMethods,
    CosCopyMethods,
    CosObjectMethods,
    CosDownloadMethods,
    CosUploadMethods,
    CosRestoreMethods,
):
    """Interact with Tencent Cloud Object Storage.

    :param cos_conn_id: The Airflow connection (type ``tencent_cos``).
    :param region: Overrides the connection's region.
    :param app_id: Overrides the connection's APPID.
    :param connect_address: Overrides where requests are sent (e.g. an emulator).
    :param pool_size: HTTP connections kept per client; set it to the copy concurrency.
    """

    conn_name_attr = "cos_conn_id"
    default_conn_name = "cos_default"
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    # Airflow < 3.2 asks for the form only the class that provider info names, not its bases.
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return ui_field_behaviour()


__all__ = ["CosBaseHook", "CosHook", "MultipartCopyStart", "mask_customer_key"]
