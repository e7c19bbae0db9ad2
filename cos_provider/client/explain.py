"""The one explanation of a COS refusal: what a human should change to fix it.

A wrong SecretKey, an expired session token, a skewed clock and a missing
bucket all reach users through different doors: the connection form's "Test"
button, a sensor failing fast, a trigger's error event. If each door worded
its own advice, the same mistake would be diagnosed differently depending on
where it surfaced, so they all ask :func:`explain_service_error`.

The rules match on the error code and message together, because COS reports
some auth failures as the code and others as the message of an
``AccessDenied``. Their order matters: the session-token rule comes before
the clock rule, since ``ExpiredToken`` also contains "expired" and a stale
STS token is not fixed by syncing the clock.
"""

from __future__ import annotations

from cos_provider.client.errors import CosServiceError


def explain_service_error(
    exc: CosServiceError, *, bucket: str | None = None, region: str | None = None
) -> str:
    """The fix for ``exc``, in one sentence that ends with the request id when COS sent one.

    ``bucket`` and ``region`` are what the caller was using: they name the
    bucket that was not found, and a 404 with a known bucket is read as a
    missing bucket (HEAD answers have no body to say which).
    """
    text = f"{exc.code} {exc.message}"
    rid = f" (request id {exc.request_id})" if exc.request_id else ""
    if "InvalidAccessKeyId" in text:
        return f"The SecretId is not known to COS: check the connection's SecretId{rid}."
    if "SignatureDoesNotMatch" in text:
        return f"The SecretKey does not match the SecretId: check the connection's SecretKey{rid}."
    if "Token" in exc.code:
        return f"The session token is missing, wrong or expired: refresh the temporary credentials{rid}."
    if "RequestTimeTooSkewed" in text or "expired" in text.lower():
        return f"COS rejected the request time: this machine's clock is off; sync it (NTP){rid}."
    if exc.code == "NoSuchBucket" or (exc.status == 404 and bucket):
        name = f"Bucket {bucket!r}" if bucket else "The bucket"
        where = f" in region {region!r}" if region else ""
        return f"{name} does not exist{where}: check the bucket name, APPID and region{rid}."
    if exc.code == "InvalidObjectState":
        return (
            "The object is archived (ARCHIVE/DEEP_ARCHIVE) and not restored: restore it first "
            f"(CosRestoreObjectOperator, or restore_first=True on the copy operators){rid}."
        )
    if exc.status == 403 and not exc.message:
        # the transport tags its errors with the request ("HeadObject bucket/key")
        request = getattr(exc, "cos_request", "")
        what = request or exc.resource or (f"bucket {bucket!r}" if bucket else "the request")
        return (
            f"Access denied to {what}; the answer has no detail (HEAD), so either the "
            f"SecretId/SecretKey are wrong or they lack permission ({exc.code}){rid}."
        )
    if exc.status == 403:
        return f"Access denied: the credentials lack permission ({exc.code}){rid}."
    return f"COS answered {exc}"


__all__ = ["explain_service_error"]
