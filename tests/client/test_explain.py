"""The one explanation of a COS refusal, used by the hook's "Test" button, the
sensors and the triggers alike: each rule, and the order between them."""

from __future__ import annotations

import pytest

from cos_provider.client.errors import CosServiceError
from cos_provider.client.explain import explain_service_error


def error(status: int, code: str, message: str = "", **kw: str) -> CosServiceError:
    return CosServiceError(status, code, message, request_id="r1", **kw)


@pytest.mark.parametrize(
    ("exc", "advice"),
    [
        (
            error(403, "InvalidAccessKeyId"),
            "The SecretId is not known to COS: check the connection's SecretId",
        ),
        (error(403, "AccessDenied", "InvalidAccessKeyId"), "check the connection's SecretId"),
        (
            error(403, "SignatureDoesNotMatch", "calc"),
            "The SecretKey does not match the SecretId: check the connection's SecretKey",
        ),
        (error(403, "RequestTimeTooSkewed"), "this machine's clock is off; sync it (NTP)"),
        (error(403, "AccessDenied", "Request has expired"), "this machine's clock is off"),
        (error(403, "InvalidToken"), "The session token is missing, wrong or expired"),
        # "ExpiredToken" also says "expired": it is the token, not the clock
        (error(400, "ExpiredToken", "The provided token has expired"), "refresh the temporary credentials"),
        (
            error(404, "NoSuchBucket", "gone"),
            "The bucket does not exist: check the bucket name, APPID and region",
        ),
        (
            error(403, "AccessDenied", method="HEAD"),
            "Access denied to the request; the answer has no detail (HEAD), so either the "
            "SecretId/SecretKey are wrong or they lack permission (AccessDenied)",
        ),
        (error(403, "AccessDenied", "no policy allows it"), "Access denied: the credentials lack permission"),
        (error(400, "InvalidArgument", "bad"), "COS answered COS error 400 InvalidArgument: bad"),
    ],
)
def test_rules(exc, advice):
    assert advice in explain_service_error(exc)


def test_the_request_id_ends_the_sentence():
    assert explain_service_error(error(403, "InvalidAccessKeyId")).endswith(" (request id r1).")
    assert "request id" not in explain_service_error(CosServiceError(403, "InvalidAccessKeyId"))


def test_a_404_names_the_bucket_and_region_the_caller_used():
    # HEAD Bucket's 404 has no body, so no NoSuchBucket code: the caller's bucket says what is missing
    assert explain_service_error(
        error(404, "NoSuchResource"), bucket="nosuch-1250000000", region="ap-beijing"
    ) == (
        "Bucket 'nosuch-1250000000' does not exist in region 'ap-beijing': "
        "check the bucket name, APPID and region (request id r1)."
    )
    # without a bucket, a 404 is only a missing bucket when COS says so
    assert explain_service_error(error(404, "NoSuchKey", "k")).startswith("COS answered")


def test_a_bodyless_403_names_what_was_denied():
    assert "Access denied to bucket 'src-1250000000';" in explain_service_error(
        error(403, "AccessDenied", method="HEAD"), bucket="src-1250000000"
    )
    assert "Access denied to /k;" in explain_service_error(error(403, "AccessDenied", resource="/k"))
    tagged = error(403, "AccessDenied", method="HEAD")
    tagged.cos_request = "HeadObject src-1250000000/k"  # as the transport tags what it sent
    assert "Access denied to HeadObject src-1250000000/k;" in explain_service_error(tagged, bucket="x")
