"""From a fetched Airflow connection (plus hook overrides) to client settings.

Kept apart from the hook so the one resolution rule - explicit arguments win
over extras, extras over defaults, unknown extras refused - is shared by the
sync and async paths and can be tested without Airflow's connection store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.encryption import CustomerKey
from cos_provider.client.endpoints import DOMAIN_MYQCLOUD, Endpoint, validate_app_id
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError, CosValidationError
from cos_provider.client.explain import explain_service_error
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.get_provider_info import CONN_FIELDS, CONN_TYPE


def _as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise CosValidationError(field, f"must be true or false, got {value!r}")


def _as_verify(value: Any) -> bool | str:
    """``verify``: a boolean (or a boolean word), else the path of a CA bundle.

    Any other word is a path: the path must exist (checked by
    :class:`TransportConfig`, so a typo is refused before any request,
    naming ``verify``). ``~`` is expanded, as a shell would have done.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return _as_bool(text, "verify")
    return os.path.expanduser(text)


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
    sse_customer_key: CustomerKey | None = None
    """SSE-C key copies through this connection encrypt their destination with (extra ``sse_customer_key``)."""
    source_sse_customer_key: CustomerKey | None = None
    """SSE-C key they read sources with (extra ``source_sse_customer_key``)."""

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
            verify=_as_verify(get("verify", True)),
            pool_size=_as_number(get("pool_size", defaults.pool_size), "pool_size", int),
            retry=RetryPolicy(
                max_attempts=_as_number(
                    get("max_attempts", retry_defaults.max_attempts), "max_attempts", int
                ),
                base_delay=retry_defaults.base_delay,
                max_delay=retry_defaults.max_delay,
            ),
        )
        app_id_field = (
            "app_id" if overrides.get("app_id") is not None else f"connection {conn_id!r} extra app_id"
        )
        app_id = validate_app_id(get("app_id"), app_id_field)
        keys = {
            name: CustomerKey.parse(get(name), f"connection {conn_id!r} extra {name}")
            for name in ("sse_customer_key", "source_sse_customer_key")
        }
        return cls(
            credentials,
            endpoint,
            transport,
            app_id,
            get("bucket"),
            sse_customer_key=keys["sse_customer_key"],
            source_sse_customer_key=keys["source_sse_customer_key"],
        )


def check_connection(settings: ConnectionSettings, client: CosClient) -> tuple[bool, str]:
    """One real signed request, and the fix a human should make if it fails.

    Lists the region's buckets (checks the keys and the clock), then, when
    the connection names a bucket, HEADs it (checks region and APPID).
    """
    region = settings.endpoint.region
    try:
        count = len(client.list_buckets(region=region))
        if settings.bucket:
            client.head_bucket(settings.bucket)
            return True, (
                f"Connected: credentials accepted ({count} bucket(s) in region {region}) "
                f"and bucket {client.bucket(settings.bucket)} is reachable."
            )
        return True, f"Connected: credentials accepted ({count} bucket(s) in region {region})."
    except CosValidationError as exc:
        return False, f"Connection settings are invalid: {exc}"
    except CosServiceError as exc:
        return False, explain_service_error(exc, bucket=settings.bucket, region=region)
    except CosTransportError as exc:
        endpoint = settings.endpoint
        where = endpoint.connect_address or endpoint.base_url(endpoint.service_host())
        return (
            False,
            f"Cannot reach COS at {where}: {exc}. Check the region, domain, connect address and network.",
        )
    except CosError as exc:
        return False, f"COS request failed: {exc}"
