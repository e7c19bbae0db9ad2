"""The part of the hook every family of methods stands on: connection, clients, cancellation.

:class:`~cos_provider.hooks.cos.CosHook` is this base plus one class of
methods per family (:mod:`.copy`, :mod:`.objects`), each in its own module so
no module mixes jobs. The connection is read lazily (not in ``__init__``),
so building a DAG never touches the secrets backend, and the API server's
"Test" button works on a connection that exists only for that request.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from airflow.providers.common.compat.sdk import BaseHook

from cos_provider.client import params
from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine
from cos_provider.client.encryption import CustomerKey, CustomerKeys
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from cos_provider.hooks.connection import ConnectionSettings, check_connection

if TYPE_CHECKING:
    from cos_provider.client.aio import AsyncCosClient


class Cancellable(Protocol):
    def cancel(self) -> None: ...


W = TypeVar("W", bound=Cancellable)


def mask_customer_key(key: CustomerKey) -> None:
    """Register an SSE-C key with Airflow's secrets masker (task and supervisor logs show ``***``)."""
    from airflow.sdk.log import mask_secret

    mask_secret(key.reveal())


def ui_field_behaviour() -> dict[str, Any]:
    """The standard fields' labels for Airflow < 3.2, which asks the hook; 3.2+ reads provider info."""
    return {
        "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
        "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
        "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
    }


def connection_form_widgets() -> dict[str, Any]:
    """The extra fields of the connection form for Airflow < 3.2, made from ``CONN_FIELDS``.

    Those versions ignore ``conn-fields`` and ask the hook for WTForms fields.
    Their API server swaps WTForms' field classes for stand-ins that turn the
    field into a JSON schema while it asks, so the classes are looked up at
    call time (and ``wtforms.validators`` imported as a module, which 3.1
    replaces when wtforms is missing). Without wtforms (no FAB provider installed) Airflow shows no
    extra fields for any provider; returning nothing then keeps the relabelling
    of :func:`ui_field_behaviour`, which Airflow reads after this.
    """
    try:
        import wtforms
        from wtforms.validators import Optional, any_of
    except ImportError:
        return {}
    try:
        from flask_babel import lazy_gettext as gettext
    except ImportError:
        gettext = str

    def field_class(schema: Mapping[str, Any]) -> Any:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kind = next(t for t in types if t != "null")
        if kind == "boolean":
            return wtforms.BooleanField
        if kind == "integer":
            return wtforms.IntegerField
        # A number is typed as text (Airflow offers no float field); the hook parses it.
        return wtforms.PasswordField if schema.get("format") == "password" else wtforms.StringField

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        schema = spec["schema"]
        checks: list[Any] = [Optional()]
        if "enum" in schema:
            checks.append(any_of(schema["enum"]))
        widgets[name] = field_class(schema)(
            gettext(spec["label"]),
            validators=checks,
            description=spec.get("description", ""),
            default=schema.get("default"),
        )
    return widgets


class CosBaseHook(BaseHook):
    """Credentials, clients and running engines; see :class:`~cos_provider.hooks.cos.CosHook`."""

    default_conn_name = "cos_default"

    def __init__(
        self,
        cos_conn_id: str | None = default_conn_name,
        *,
        region: str | None = None,
        app_id: str | None = None,
        connect_address: str | None = None,
        pool_size: int | None = None,
        max_attempts: int | None = None,
        read_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.cos_conn_id = cos_conn_id or self.default_conn_name
        self._overrides = {
            "region": region,
            "app_id": app_id,
            "connect_address": connect_address,
            "pool_size": pool_size,
            "max_attempts": max_attempts,
            "read_timeout": read_timeout,
        }
        self._regional: dict[str, CosClient] = {}
        self._workers: set[Cancellable] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ connection and clients

    @cached_property
    def settings(self) -> ConnectionSettings:
        return self._settings_from(self.get_connection(self.cos_conn_id))

    def _settings_from(self, conn: Any) -> ConnectionSettings:
        """The one place a fetched connection becomes settings, for the sync and async paths."""
        extra = conn.extra_dejson if conn.extra else {}
        if not isinstance(extra, dict):
            raise CosValidationError(f"connection {self.cos_conn_id!r} extra", "must be a JSON object")
        settings = ConnectionSettings.resolve(
            conn.login, conn.password, extra, self._overrides, self.cos_conn_id
        )
        for key in (settings.sse_customer_key, settings.source_sse_customer_key):
            if key is not None:
                mask_customer_key(key)
        return settings

    @property
    def region(self) -> str | None:
        return self.settings.endpoint.region

    @property
    def app_id(self) -> str | None:
        return self.settings.app_id

    @cached_property
    def conn(self) -> CosClient:
        """The hook's client, built once from the connection (the one way to get it)."""
        s = self.settings
        return CosClient(s.credentials, s.endpoint, s.transport, app_id=s.app_id)

    def get_conn(self) -> CosClient:
        return self.conn

    def client_for(self, region: str | None) -> CosClient:
        """The client for ``region`` (the hook's own when ``None`` or the same).

        Writes to a bucket must go to that bucket's region, so a copy into
        another region needs a client there; it shares the connection's
        credentials and settings, and is built once per hook.
        """
        if not region or region == self.region:
            return self.conn
        with self._lock:
            if region not in self._regional:
                s = self.settings
                endpoint = dataclasses.replace(s.endpoint, region=region)
                self._regional[region] = CosClient(s.credentials, endpoint, s.transport, app_id=s.app_id)
            return self._regional[region]

    async def aget_settings(self) -> ConnectionSettings:
        """:attr:`settings` for code running in an event loop (triggers).

        The connection is fetched with ``aget_connection``, so the loop is
        never blocked on a secrets backend; the result is cached as
        :attr:`settings` is.
        """
        if "settings" in self.__dict__:
            return self.__dict__["settings"]  # type: ignore[no-any-return]
        aget = getattr(self, "aget_connection", None)
        if aget is not None:
            conn = await aget(self.cos_conn_id)
        else:  # an Airflow without BaseHook.aget_connection
            from asgiref.sync import sync_to_async

            conn = await sync_to_async(self.get_connection)(self.cos_conn_id)
        settings = self._settings_from(conn)
        self.__dict__["settings"] = settings
        return settings

    async def get_async_conn(self) -> AsyncCosClient:
        """A new :class:`~cos_provider.client.aio.AsyncCosClient`; the caller closes it.

        ``async with await hook.get_async_conn() as client: ...``. Triggers
        share one client per loop instead: see :func:`cos_provider.client.aio.shared_client`.
        """
        from cos_provider.client.aio import AsyncCosClient

        s = await self.aget_settings()
        return AsyncCosClient(s.credentials, s.endpoint, s.transport, app_id=s.app_id)

    # ------------------------------------------------------------ naming

    def bucket(self, name: str, field: str = "bucket") -> str:
        """The full ``name-appid`` of ``name`` (the connection's APPID is appended to a bare name)."""
        return params.bucket_name(self.conn, name, field)

    def object_ref(
        self,
        key: str,
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        region: str | None = None,
        key_field: str = "key",
        bucket_field: str = "bucket",
    ) -> ObjectRef:
        """An object from ``key`` (or ``cos://bucket/key``) plus an optional bucket; validated."""
        return params.object_ref(
            self.conn,
            key,
            bucket,
            version_id=version_id,
            region=region,
            key_field=key_field,
            bucket_field=bucket_field,
        )

    def customer_keys(self, values: Mapping[str, Any]) -> CustomerKeys:
        """SSE-C keys of a copy: ``sse_customer_key`` / ``source_sse_customer_key`` in ``values``,
        else the connection's extras of the same names. Every key is registered with the masker."""
        s = self.settings
        keys = params.customer_keys(
            values, default_source=s.source_sse_customer_key, default_dest=s.sse_customer_key
        )
        for key in (keys.source, keys.dest):
            if key is not None:
                mask_customer_key(key)
        return keys

    # ------------------------------------------------------------ cancellation

    @contextmanager
    def _running(self, worker: W) -> Iterator[W]:
        """Track ``worker`` (anything with ``cancel()``) while it runs, so :meth:`cancel` reaches it."""
        with self._lock:
            self._workers.add(worker)
        try:
            yield worker
        finally:
            with self._lock:
                self._workers.discard(worker)

    def _engine(self, client: CosClient, logger: Any = None) -> AbstractContextManager[CopyEngine]:
        return self._running(CopyEngine(client, logger=logger or self.log))

    def cancel(self) -> None:
        """Stop every copy, upload and download this hook is running, aborting their uploads (``on_kill``)."""
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.cancel()

    # ------------------------------------------------------------ the Test button

    def test_connection(self) -> tuple[bool, str]:
        """Make one real signed request and say what to fix if it fails (the UI's Test button)."""
        try:
            settings = self.settings
        except CosValidationError as exc:
            return False, f"Connection settings are invalid: {exc}"
        return check_connection(settings, self.conn)
