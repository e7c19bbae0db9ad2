from __future__ import annotations

import pytest

from cos_provider.client.endpoints import (
    Endpoint,
    ParsedCopySource,
    ParsedHost,
    copy_source,
    full_bucket_name,
    object_path,
    parse_copy_source,
    parse_host,
)
from cos_provider.client.errors import CosValidationError


def test_bucket_forms():
    assert full_bucket_name("examplebucket-1250000000") == "examplebucket-1250000000"
    assert full_bucket_name("examplebucket", "1250000000") == "examplebucket-1250000000"
    assert full_bucket_name("examplebucket-1250000000", "1250000000") == "examplebucket-1250000000"
    with pytest.raises(CosValidationError, match=r"bucket.*<name>-<appid>"):
        full_bucket_name("examplebucket")
    with pytest.raises(CosValidationError, match="bucket"):
        full_bucket_name("Upper-1250000000")
    with pytest.raises(CosValidationError, match="app_id"):
        full_bucket_name("b", "12a")


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        (Endpoint(region="ap-beijing"), "b-1250000000.cos.ap-beijing.myqcloud.com"),
        (Endpoint(region="ap-beijing", domain="tencentcos.cn"), "b-1250000000.cos.ap-beijing.tencentcos.cn"),
        (Endpoint(accelerate=True), "b-1250000000.cos.accelerate.myqcloud.com"),
        (Endpoint(custom_domain="Files.Example.com"), "files.example.com"),
    ],
)
def test_hosts(endpoint, host):
    assert endpoint.host("b-1250000000") == host
    assert endpoint.base_url(host) == f"https://{host}"


def test_connect_address_changes_destination_not_host():
    ep = Endpoint(region="ap-beijing", connect_address="http://127.0.0.1:9000/")
    host = ep.host("b-1250000000")
    assert host == "b-1250000000.cos.ap-beijing.myqcloud.com"
    assert ep.base_url(host) == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"region": "ap-beijing", "scheme": "ftp"}, "scheme"),
        ({"region": "AP BEIJING"}, "region"),
        ({}, "region"),
        ({"region": "ap-beijing", "connect_address": "127.0.0.1:9000"}, "connect_address"),
        ({"region": "ap-beijing", "domain": "example.com"}, "domain"),
    ],
)
def test_bad_endpoints_name_the_field(kwargs, field):
    with pytest.raises(CosValidationError) as info:
        Endpoint(**kwargs)
    assert info.value.field == field


def test_object_path_protects_dot_segments_and_encodes():
    # The SDK's encoding (./ -> .%2F), which leaves no dot segment to resolve...
    assert object_path("a/./b/../c d+e/%41/中") == "/a/.%2Fb/..%2Fc%20d%2Be/%2541/%E4%B8%AD"
    assert object_path("dir//x") == "/dir//x"
    # ...plus the case it misses: a last segment of dots has no slash to escape.
    assert [object_path(k) for k in ("..", ".", "a/..", "a/.", "...")] == [
        "/%2E%2E",
        "/%2E",
        "/a/%2E%2E",
        "/a/%2E",
        "/...",
    ]


def test_copy_source_round_trip():
    host = "src-1250000000.cos.ap-beijing.myqcloud.com"
    value = copy_source(host, "dir/a b+c/中文?&=#.txt", "MTg0NDUx")
    assert value == (
        "src-1250000000.cos.ap-beijing.myqcloud.com/dir/a%20b%2Bc/%E4%B8%AD%E6%96%87%3F%26%3D%23.txt?versionId=MTg0NDUx"
    )
    parsed = parse_copy_source(value)
    assert (parsed.bucket, parsed.region, parsed.key, parsed.version_id) == (
        "src-1250000000",
        "ap-beijing",
        "dir/a b+c/中文?&=#.txt",
        "MTg0NDUx",
    )


def test_parse_host_forms():
    assert parse_host("b-1.cos.ap-guangzhou.myqcloud.com:8080") == ParsedHost(
        "b-1", "ap-guangzhou", "myqcloud.com", False
    )
    assert parse_host("B-1.cos-internal.ap-guangzhou.tencentcos.cn") == ParsedHost(
        "b-1", "ap-guangzhou", "tencentcos.cn", False
    )
    assert parse_host("b-1.cos.accelerate.myqcloud.com") == ParsedHost("b-1", None, "myqcloud.com", True)
    assert parse_host("example.com") is None
    assert parse_host("b-1.cos.ap-guangzhou.example.com") is None


def test_parse_copy_source_forms():
    parsed = parse_copy_source("https://B-1.cos.ap-beijing.myqcloud.com/a%2Bb+c")
    assert parsed == ParsedCopySource("b-1.cos.ap-beijing.myqcloud.com", "b-1", "ap-beijing", "a+b+c", None)
    other = parse_copy_source("files.example.com/k?VersionId=v%201")
    assert (other.bucket, other.region, other.key, other.version_id) == (None, None, "k", "v 1")
    for bad in ("b-1.cos.ap-beijing.myqcloud.com", "b-1.cos.ap-beijing.myqcloud.com/", "/k"):
        with pytest.raises(ValueError, match="copy source must be"):
            parse_copy_source(bad)
