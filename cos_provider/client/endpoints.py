"""Where a bucket lives: hosts, URLs, and the ``x-cos-copy-source`` value.

COS addresses buckets virtual-host style. The Host header (and so the
signature) is always the bucket's real domain; only the TCP destination may be
overridden (``connect_address``), which is how the same code path, byte for
byte, reaches the local emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from cos_provider.client.errors import CosValidationError

_APPID = re.compile(r"^[0-9]{1,20}$")
_APPID_SUFFIX = re.compile(r"-1[0-9]{9}$")
"""What an APPID at the end of a bucket name looks like: 10 digits starting with 1."""
_REGION = re.compile(r"^[a-z0-9-]+$")
_FULL_BUCKET = re.compile(r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(?P<appid>[0-9]{1,20})$")
_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9-]+-[0-9]+)\."
    r"(?:cos\.(?P<accelerate>accelerate)\.myqcloud\.com"
    r"|cos(?P<internal>-internal)?\.(?P<region>[a-z0-9-]+)\.(?P<domain>myqcloud\.com|tencentcos\.cn))$"
)

DOMAIN_MYQCLOUD = "myqcloud.com"
DOMAIN_TENCENTCOS = "tencentcos.cn"


def validate_app_id(app_id: object, field: str = "app_id") -> str | None:
    """The APPID as text (``None`` if not set); :class:`CosValidationError` unless it is digits.

    APPIDs are numbers that COS assigns (``1250000000``); a JSON connection
    extra may hold one as a number, so numbers are accepted and turned into
    text. Anything else is refused here, when the client is made, rather than
    later as a puzzling bucket name.
    """
    if app_id is None or app_id == "":
        return None
    if isinstance(app_id, bool) or not isinstance(app_id, (str, int)):
        raise CosValidationError(field, f"must be the numeric APPID, got {type(app_id).__name__}")
    text = str(app_id).strip()
    if not _APPID.match(text):
        raise CosValidationError(field, f"must be the numeric APPID such as '1250000000', got {app_id!r}")
    return text


def has_appid_suffix(bucket: str) -> bool:
    """Whether ``bucket`` already ends in an APPID-shaped ``-<appid>`` (see :func:`full_bucket_name`)."""
    return bool(_APPID_SUFFIX.search(bucket))


def full_bucket_name(bucket: str, app_id: str | None = None) -> str:
    """``name-appid`` from ``name-appid`` or from ``name`` plus ``app_id``.

    The connection's APPID is appended to a *bare* name only. A name that
    already ends in ``-`` plus the connection's APPID, or plus any
    APPID-shaped number, is already full and kept: that is how a bucket of
    another account (``other-1300000000``) is named, and COS's APPIDs are
    10-digit numbers starting with ``1`` (``1250000000``, ``1300000000``; the
    docs name no other shape). So ``logs-2024`` becomes ``logs-2024-<appid>``
    while ``other-1300000000`` stays as it is. A bare name that itself ends
    in such a number (``backup-1700000000``) must be written in full
    (``backup-1700000000-1250000000``). (The official SDK appends the APPID
    unless the name ends with that same APPID, which breaks cross-account
    copies.)

    Raises :class:`CosValidationError` naming the rule when neither form fits.
    """
    if not bucket:
        raise CosValidationError("bucket", "must not be empty")
    app_id = validate_app_id(app_id)
    if app_id is not None and not bucket.endswith(f"-{app_id}") and not has_appid_suffix(bucket):
        bucket = f"{bucket}-{app_id}"
    m = _FULL_BUCKET.match(bucket)
    if not m:
        raise CosValidationError(
            "bucket",
            f"{bucket!r} must be <name>-<appid> (lowercase letters, digits and hyphens, "
            "then the numeric APPID), or give app_id separately",
        )
    if len(m.group("name")) > 50 or len(bucket) > 60:
        raise CosValidationError("bucket", f"{bucket!r} is too long (name at most 50, with APPID at most 60)")
    return bucket


@dataclass(frozen=True)
class Endpoint:
    """How to reach buckets of one account.

    ``region`` is needed unless ``accelerate`` or ``custom_domain`` says
    otherwise. ``custom_domain`` maps every bucket to one host (a CDN or
    custom origin); ``connect_address`` (``http://127.0.0.1:9000``) changes
    only where the bytes go.
    """

    region: str | None = None
    domain: str = DOMAIN_MYQCLOUD
    accelerate: bool = False
    custom_domain: str | None = None
    scheme: str = "https"
    connect_address: str | None = None

    def __post_init__(self) -> None:
        if self.scheme not in ("http", "https"):
            raise CosValidationError("scheme", f"must be 'http' or 'https', got {self.scheme!r}")
        if self.domain not in (DOMAIN_MYQCLOUD, DOMAIN_TENCENTCOS):
            raise CosValidationError("domain", f"must be {DOMAIN_MYQCLOUD!r} or {DOMAIN_TENCENTCOS!r}")
        if self.region is not None and not _REGION.match(self.region):
            raise CosValidationError("region", f"{self.region!r} is not a COS region such as 'ap-guangzhou'")
        if self.connect_address:
            parts = urlsplit(self.connect_address)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise CosValidationError(
                    "connect_address", f"must look like 'http://127.0.0.1:9000', got {self.connect_address!r}"
                )
        if not (self.region or self.accelerate or self.custom_domain):
            raise CosValidationError("region", "is required unless accelerate or a custom domain is set")

    def host(self, bucket: str, region: str | None = None) -> str:
        """The virtual host of ``bucket`` (a full ``name-appid``)."""
        if self.custom_domain and region is None:
            return self.custom_domain.lower()
        if self.accelerate and region is None:
            return f"{bucket}.cos.accelerate.{DOMAIN_MYQCLOUD}"
        reg = region or self.region
        if not reg:
            raise CosValidationError("region", f"is required to address bucket {bucket!r}")
        return f"{bucket}.cos.{reg}.{self.domain}"

    def service_host(self, region: str | None = None) -> str:
        """Host of GET Service: region-scoped when a region is known."""
        reg = region or self.region
        return f"cos.{reg}.{self.domain}" if reg else f"service.cos.{self.domain}"

    def base_url(self, host: str) -> str:
        """Where requests for ``host`` are sent (the override, if any)."""
        if self.connect_address:
            return self.connect_address.rstrip("/")
        return f"{self.scheme}://{host}"


def object_path(key: str) -> str:
    """The request-target path of ``key``, percent-encoded so no front end can re-resolve it.

    Keys may hold dot segments (``a/./b``, ``a/../b``, ``..``). Sent
    literally, an HTTP stack or front end normalising the path (RFC 3986
    §5.2.4: ``urllib3.parse_url`` and httpx do, so may COS's gateway)
    would address, and verify the signature of, another key. The encoding
    is the official SDK's, byte for byte: ``quote(key, '/-_.~')`` then every
    ``./`` written ``.%2F``, which leaves no dot segment and only escapes a
    reserved character, which normalisers must not decode. The SDK misses the
    one case that has no slash to escape, a *last* segment of ``.`` or
    ``..`` (it then sends ``/`` and the request fails); here those dots are
    written ``%2E``. The transports send this path exactly as built
    (``requests`` would otherwise decode ``%2E`` back to ``.``).
    """
    path = quote(key, safe="/-_.~").replace("./", ".%2F")
    head, slash, last = path.rpartition("/")
    if last in (".", ".."):
        path = head + slash + "%2E" * len(last)
    return "/" + path


def signed_path(key: str) -> str:
    """The path that goes into the signature: decoded, ``/`` plus the key."""
    return "/" + key


def copy_source(host: str, key: str, version_id: str | None = None) -> str:
    """The ``x-cos-copy-source`` value: ``<host>/<encoded key>[?versionId=…]``."""
    value = f"{host}/{quote(key, safe='/-_.~')}"
    if version_id:
        value += f"?versionId={quote(version_id, safe='-_.~=')}"
    return value


@dataclass(frozen=True)
class ParsedHost:
    bucket: str
    region: str | None
    domain: str
    accelerate: bool


def parse_host(host: str) -> ParsedHost | None:
    """Recognise a COS virtual host (port ignored); ``None`` if it is not one."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    m = _HOST.match(name.lower())
    if not m:
        return None
    return ParsedHost(
        bucket=m.group("bucket"),
        region=m.group("region"),
        domain=m.group("domain") or DOMAIN_MYQCLOUD,
        accelerate=bool(m.group("accelerate")),
    )


@dataclass(frozen=True)
class ParsedCopySource:
    host: str
    bucket: str | None
    region: str | None
    key: str
    version_id: str | None


def parse_copy_source(value: str) -> ParsedCopySource:
    """Inverse of :func:`copy_source`; ``ValueError`` if it has no key.

    The key is percent-decoded with ``+`` kept literal (the path rule, not the
    form rule), and ``versionId`` split off the end.
    """
    value = value.strip()
    for prefix in ("http://", "https://"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    host, sep, rest = value.partition("/")
    if not sep or not host or not rest:
        raise ValueError("copy source must be <bucket-appid>.cos.<region>.myqcloud.com/<key>")
    path, _, query = rest.partition("?")
    version_id = None
    if query:
        for pair in query.split("&"):
            name, _, val = pair.partition("=")
            if name.lower() == "versionid":
                version_id = unquote(val)
    parsed = parse_host(host)
    return ParsedCopySource(
        host=host.lower(),
        bucket=parsed.bucket if parsed else None,
        region=parsed.region if parsed else None,
        key=unquote(path),
        version_id=version_id,
    )
