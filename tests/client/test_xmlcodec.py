from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cos_provider.client import xmlcodec
from cos_provider.client.errors import error_from_response


def test_copy_object_result_with_leading_whitespace():
    body = b'   \n  <CopyObjectResult><ETag>"ba82"</ETag><CRC64>123</CRC64><LastModified>2017-08-04T02:41:45</LastModified><VersionId>v1</VersionId></CopyObjectResult>'
    result = xmlcodec.parse_copy_object_result(body)
    assert result.etag == '"ba82"'
    assert result.crc64 == 123
    assert result.version_id == "v1"
    assert result.last_modified == datetime(2017, 8, 4, 2, 41, 45, tzinfo=timezone.utc)


def test_copy_part_and_initiate_and_complete():
    part = xmlcodec.parse_copy_part_result(
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<CopyPartResult><ETag>"e"</ETag><LastModified>2017-09-04T04:45:45.000Z</LastModified></CopyPartResult>',
        7,
    )
    assert (part.part_number, part.etag, part.crc64) == (7, '"e"', None)
    assert part.last_modified == datetime(2017, 9, 4, 4, 45, 45, tzinfo=timezone.utc)
    init = xmlcodec.parse_initiate_result(
        b"<InitiateMultipartUploadResult><Bucket>b-1</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>"
    )
    assert (init.bucket, init.key, init.upload_id) == ("b-1", "k", "u1")
    done = xmlcodec.parse_complete_result(
        b'<CompleteMultipartUploadResult><Location>b-1.cos.r.myqcloud.com/k</Location><Bucket>b-1</Bucket><Key>k</Key><ETag>"x-2"</ETag></CompleteMultipartUploadResult>'
    )
    assert (done.location, done.bucket, done.key, done.etag) == (
        "b-1.cos.r.myqcloud.com/k",
        "b-1",
        "k",
        '"x-2"',
    )
    with pytest.raises(xmlcodec.XmlDecodeError, match="no UploadId"):
        xmlcodec.parse_initiate_result(
            b"<InitiateMultipartUploadResult><Bucket>b-1</Bucket></InitiateMultipartUploadResult>"
        )


def test_namespaced_bodies_parse():
    body = b'<CopyPartResult xmlns="http://www.qcloud.com/document/product/436/7751"><ETag>"e"</ETag></CopyPartResult>'
    assert xmlcodec.parse_copy_part_result(body, 1).etag == '"e"'


def test_wrong_root_is_rejected():
    with pytest.raises(xmlcodec.XmlDecodeError, match="expected <CopyPartResult>"):
        xmlcodec.parse_copy_part_result(b"<CopyObjectResult/>", 1)
    with pytest.raises(xmlcodec.XmlDecodeError, match="malformed"):
        xmlcodec.parse_copy_part_result(b"<CopyPartResult>", 1)


def test_entities_are_not_expanded():
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><CopyPartResult><ETag>&e;</ETag></CopyPartResult>'
    assert xmlcodec.parse_copy_part_result(body, 1).etag == ""


def test_list_parts_url_encoded_and_paginated():
    body = b"""<ListPartsResult><Bucket>b-1</Bucket><EncodingType>url</EncodingType><Key>a%20b%2Bc</Key>
      <UploadId>u</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>
      <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
      <Part><PartNumber>1</PartNumber><LastModified>2020-03-25T10:07:14.000Z</LastModified><ETag>&quot;a&quot;</ETag><Size>1048576</Size></Part>
      <Part><PartNumber>2</PartNumber><ETag>"b"</ETag><Size>5</Size></Part></ListPartsResult>"""
    page = xmlcodec.parse_list_parts(body)
    assert page.key == "a b+c"
    assert [(p.part_number, p.etag, p.size) for p in page.parts] == [(1, '"a"', 1048576), (2, '"b"', 5)]
    assert page.is_truncated and page.next_part_number_marker == 2


def test_list_uploads_and_bucket():
    uploads = xmlcodec.parse_list_multipart_uploads(
        b"""<ListMultipartUploadsResult><Bucket>b-1</Bucket><Encoding-Type>url</Encoding-Type>
        <IsTruncated>false</IsTruncated><Upload><Key>%E4%B8%AD%20x</Key><UploadId>u1</UploadId>
        <Initiated>2020-01-01T00:00:00.000Z</Initiated></Upload><CommonPrefixes><Prefix>p%2F</Prefix></CommonPrefixes>
        </ListMultipartUploadsResult>"""
    )
    assert uploads.uploads[0].key == "中 x"
    assert uploads.common_prefixes == ["p/"]
    assert not uploads.is_truncated and uploads.next_key_marker is None
    listing = xmlcodec.parse_list_bucket(
        b"""<ListBucketResult><Name>b-1</Name><EncodingType>url</EncodingType><Prefix>a</Prefix>
        <IsTruncated>true</IsTruncated><Contents><Key>a%2B1</Key><Size>3</Size><ETag>"e"</ETag>
        <LastModified>2020-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>"""
    )
    # No NextMarker without a delimiter: the last key is where the next page starts.
    assert listing.objects[0].key == "a+1"
    assert listing.next_marker == "a+1"


def test_complete_body_quotes_etags():
    body = xmlcodec.build_complete_multipart_upload([(1, "abc"), (2, '"def"')])
    assert body == (
        b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"abc"</ETag></Part>'
        b'<Part><PartNumber>2</PartNumber><ETag>"def"</ETag></Part></CompleteMultipartUpload>'
    )


ERROR = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message><Resource>b-1/k</Resource><RequestId>req-1</RequestId><TraceId>trace-1</TraceId></Error>"


def test_error_in_200_body_is_an_error():
    err = error_from_response(200, {"x-cos-request-id": "hdr"}, b"  \n" + ERROR)
    assert err is not None
    assert (err.status, err.code, err.request_id, err.trace_id, err.resource) == (
        200,
        "InternalError",
        "req-1",
        "trace-1",
        "b-1/k",
    )
    assert err.is_transient
    assert "req-1" in str(err) and "trace-1" in str(err) and "b-1/k" in str(err)


def test_success_is_not_an_error_and_headless_errors_get_a_code():
    assert error_from_response(200, {}, b"<CopyObjectResult/>") is None
    assert error_from_response(204, {}, b"") is None
    assert error_from_response(206, {}, b"<Error") is None  # object bytes that merely look like XML
    err = error_from_response(404, {"x-cos-request-id": "r"}, b"")
    assert err is not None and err.code == "NoSuchResource" and err.request_id == "r"


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (403, "AccessDenied", False),
        (412, "PreconditionFailed", False),
        (503, "ServiceUnavailable", True),
        (418, "HTTP418", False),
    ],
)
def test_errors_without_a_body_are_named_by_status(status, code, transient):
    err = error_from_response(status, {"x-cos-trace-id": "t"}, b"not xml", method="HEAD")
    assert err is not None
    assert (err.status, err.code, err.message, err.trace_id, err.method) == (status, code, "", "t", "HEAD")
    assert err.is_transient is transient
    assert str(err).startswith(f"COS error {status} {code} (method=HEAD, trace_id=t)")
    assert (str(err) != f"COS error {status} {code} (method=HEAD, trace_id=t)") is err.is_auth_error  # + hint


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("SignatureDoesNotMatch", "x"),
        ("AccessDenied", "SignatureDoesNotMatch"),
        ("AccessDenied", "Request has expired"),
        ("InvalidAccessKeyId", ""),
    ],
)
def test_auth_errors_recognised_in_code_or_message(code, message):
    body = f"<Error><Code>{code}</Code><Message>{message}</Message><Resource>r</Resource><RequestId>q</RequestId></Error>"
    err = error_from_response(403, {}, body.encode())
    assert err is not None and err.is_auth_error and not err.is_transient


def test_list_buckets():
    buckets = xmlcodec.parse_list_buckets(
        b"<ListAllMyBucketsResult><Owner><ID>x</ID></Owner><Buckets><Bucket><Name>b-1</Name><Location>ap-beijing</Location>"
        b"<CreationDate>2020-01-01T00:00:00Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>"
    )
    assert [(b.name, b.region) for b in buckets] == [("b-1", "ap-beijing")]
