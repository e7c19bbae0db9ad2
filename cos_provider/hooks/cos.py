"""``CosHook``: from an Airflow connection to a configured :class:`CosClient`.

The hook owns credentials: operators, sensors and triggers only ever hold a
connection id, and the client they get signs every request itself. The
connection is read lazily (not in ``__init__``), so building a DAG never
touches the secrets backend, and the API server's "Test" button works on a
connection that exists only for that request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import DOMAIN_MYQCLOUD, Endpoint
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError, CosValidationError
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.get_provider_info import CONN_FIELDS, CONN_TYPE, HOOK_NAME, UI_FIELD_BEHAVIOUR

if TYPE_CHECKING:
    from cos_provider.client.aio import AsyncCosClient


def _as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise CosValidationError(field, f"must be true or false, got {value!r}")


def _as_number(value: Any, field: str, kind: type = float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise CosValidationError(field, f"must be a {kind.__name__}, got {value!r}") from None
    if number <= 0:
        raise CosValidationError(field, f"must be positive, got {value!r}")
    return number


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything a client needs, resolved from a connection plus hook overrides."""

    credentials: Credentials
    endpoint: Endpoint
    transport: TransportConfig
    app_id: str | None
    bucket: str | None

    @classmethod
    def resolve(
        cls,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any],
        overrides: Mapping[str, Any],
        conn_id: str = "",
    ) -> ConnectionSettings:
        """Explicit ``overrides`` win over connection extras, which win over defaults.

        Extras may be plain (``region``) or prefixed the way older Airflow
        forms stored them (``extra__tencent_cos__region``).
        """

        def get(name: str, default: Any = None) -> Any:
            if overrides.get(name) is not None:
                return overrides[name]
            for key in (name, f"extra__{CONN_TYPE}__{name}"):
                value = extra.get(key)
                if value not in (None, ""):
                    return value
            return default

        unknown = sorted(k for k in extra if k.removeprefix(f"extra__{CONN_TYPE}__") not in CONN_FIELDS)
        if unknown:
            raise CosValidationError(
                f"connection {conn_id!r} extra",
                f"unknown field(s) {', '.join(unknown)}; known: {', '.join(CONN_FIELDS)}",
            )
        secret_id = overrides.get("secret_id") or login
        secret_key = overrides.get("secret_key") or password
        if not secret_id:
            raise CosValidationError(f"connection {conn_id!r} login", "must hold the SecretId")
        if not secret_key:
            raise CosValidationError(f"connection {conn_id!r} password", "must hold the SecretKey")
        credentials = Credentials(secret_id, secret_key, get("session_token"))
        endpoint = Endpoint(
            region=get("region"),
            domain=get("domain", DOMAIN_MYQCLOUD),
            accelerate=_as_bool(get("accelerate", False), "accelerate"),
            custom_domain=get("custom_domain"),
            scheme=get("scheme", "https"),
            connect_address=get("connect_address"),
        )
        defaults = TransportConfig()
        retry_defaults = RetryPolicy()
        transport = TransportConfig(
            connect_timeout=_as_number(get("connect_timeout", defaults.connect_timeout), "connect_timeout"),
            read_timeout=_as_number(get("read_timeout", defaults.read_timeout), "read_timeout"),
            verify=_as_bool(get("verify", True), "verify"),
            pool_size=_as_number(get("pool_size", defaults.pool_size), "pool_size", int),
            retry=RetryPolicy(
                max_attempts=_as_number(
                    get("max_attempts", retry_defaults.max_attempts), "max_attempts", int
                ),
                base_delay=retry_defaults.base_delay,
                max_delay=retry_defaults.max_delay,
            ),
        )
        app_id = get("app_id")
        return cls(credentials, endpoint, transport, str(app_id) if app_id else None, get("bucket"))


class CosHook(BaseHook):
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

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """For Airflow < 3.2, which asks the hook; 3.2+ reads provider info."""
        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    @cached_property
    def settings(self) -> ConnectionSettings:
        return self._settings_from(self.get_connection(self.cos_conn_id))

    def _settings_from(self, conn: Any) -> ConnectionSettings:
        """The one place a fetched connection becomes settings, for the sync and async paths."""
        extra = conn.extra_dejson if conn.extra else {}
        if not isinstance(extra, dict):
            raise CosValidationError(f"connection {self.cos_conn_id!r} extra", "must be a JSON object")
        return ConnectionSettings.resolve(conn.login, conn.password, extra, self._overrides, self.cos_conn_id)

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

    def test_connection(self) -> tuple[bool, str]:
        """Make one real signed request and say what to fix if it fails.

        Lists the region's buckets (checks the keys and the clock), then, when
        the connection names a bucket, HEADs it (checks region and APPID).
        """
        try:
            settings = self.settings
            client = self.conn
            count = len(client.list_buckets(region=settings.endpoint.region))
            if settings.bucket:
                client.head_bucket(settings.bucket)
                return True, (
                    f"Connected: credentials accepted ({count} bucket(s) in region {settings.endpoint.region}) "
                    f"and bucket {client.bucket(settings.bucket)} is reachable."
                )
            return (
                True,
                f"Connected: credentials accepted ({count} bucket(s) in region {settings.endpoint.region}).",
            )
        except CosValidationError as exc:
            return False, f"Connection settings are invalid: {exc}"
        except CosServiceError as exc:
            return False, explain_service_error(exc, self)
        except CosTransportError as exc:
            endpoint = self.settings.endpoint
            where = endpoint.connect_address or endpoint.base_url(endpoint.service_host())
            return (
                False,
                f"Cannot reach COS at {where}: {exc}. Check the region, domain, connect address and network.",
            )
        except CosError as exc:
            return False, f"COS request failed: {exc}"


def explain_service_error(exc: CosServiceError, hook: CosHook) -> str:
    """Turn an error into the fix a human should make."""
    text = f"{exc.code} {exc.message}"
    rid = f" (request id {exc.request_id})" if exc.request_id else ""
    if "InvalidAccessKeyId" in text:
        return f"The SecretId is not known to COS: check the connection's SecretId{rid}."
    if "SignatureDoesNotMatch" in text:
        return f"The SecretKey does not match the SecretId: check the connection's SecretKey{rid}."
    if "RequestTimeTooSkewed" in text or "expired" in text.lower():
        return f"COS rejected the request time: this machine's clock is off; sync it (NTP){rid}."
    if "Token" in exc.code:
        return f"The session token is missing, wrong or expired: refresh the temporary credentials{rid}."
    if exc.code == "NoSuchBucket" or (exc.status == 404 and hook.settings.bucket):
        return (
            f"Bucket {hook.settings.bucket!r} was not found in region {hook.region!r}: "
            f"check the bucket name, APPID and region{rid}."
        )
    if exc.status == 403:
        return f"Access denied: the credentials lack permission ({exc.code}){rid}."
    return f"COS answered {exc}"
