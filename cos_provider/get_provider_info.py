"""Provider metadata that Airflow reads at discovery, without importing any hook.

Airflow 3.2+ builds the connection form from ``conn-fields`` and
``ui-field-behaviour`` here, so this module stays pure data: importing it
must not import Airflow or ``requests``.
"""

from __future__ import annotations

from typing import Any

PACKAGE_NAME = "airflow-provider-tencent-cos"
CONN_TYPE = "tencent_cos"
HOOK_NAME = "Tencent COS"

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "port", "schema"],
    "relabeling": {"login": "SecretId", "password": "SecretKey"},
    "placeholders": {
        "login": "AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "password": "your SecretKey",
        "extra": '{"region": "ap-guangzhou", "app_id": "1250000000"}',
    },
}

# Extra fields of the connection form. The hook reads each of these (see
# cos_provider.hooks.cos.ConnectionSettings); keep the two in step.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region",
        "description": "COS region of your buckets, e.g. ap-guangzhou.",
        "schema": {"type": ["string", "null"], "pattern": "^[a-z0-9-]*$"},
    },
    "app_id": {
        "label": "APPID",
        "description": "Account APPID, appended to bare bucket names (name -> name-APPID).",
        "schema": {"type": ["string", "null"], "pattern": "^[0-9]*$"},
    },
    "session_token": {
        "label": "Session token",
        "description": "Token of temporary (STS) credentials; sent as x-cos-security-token.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "domain": {
        "label": "Domain",
        "description": "myqcloud.com (default) or tencentcos.cn.",
        "schema": {"type": "string", "enum": ["myqcloud.com", "tencentcos.cn"], "default": "myqcloud.com"},
    },
    "accelerate": {
        "label": "Global acceleration",
        "description": "Use <bucket>.cos.accelerate.myqcloud.com.",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "custom_domain": {
        "label": "Custom domain",
        "description": "A custom origin domain that serves your bucket, e.g. files.example.com.",
        "schema": {"type": ["string", "null"]},
    },
    "connect_address": {
        "label": "Connect address override",
        "description": "Send requests to this address with the real COS Host header, e.g. http://127.0.0.1:9000 for the local emulator.",
        "schema": {"type": ["string", "null"]},
    },
    "scheme": {
        "label": "Scheme",
        "description": "https (default) or http.",
        "schema": {"type": "string", "enum": ["https", "http"], "default": "https"},
    },
    "bucket": {
        "label": "Bucket to test with",
        "description": "Optional; 'Test' also checks that this bucket exists in the region.",
        "schema": {"type": ["string", "null"]},
    },
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "max_attempts": {
        "label": "Attempts per request",
        "description": "Including the first; transient errors are retried with exponential backoff.",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "verify": {
        "label": "Verify TLS",
        "description": "Check the server's certificate (default on). For a private CA, set the extra 'verify' to the path of its CA bundle (a PEM file or directory on the workers and triggerer) instead of true/false.",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "sse_customer_key": {
        "label": "SSE-C key (destination)",
        "description": "Base64 of a 32-byte key: copies through this connection encrypt their destination with it (SSE-C; needs https).",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "source_sse_customer_key": {
        "label": "SSE-C key (source)",
        "description": "Base64 of the 32-byte key copies through this connection read SSE-C sources with.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
}


ASSET_URIS: dict[str, Any] = {
    "schemes": ["cos"],
    "handler": "cos_provider.assets.cos.sanitize_uri",
    "factory": "cos_provider.assets.cos.create_asset",
    "to_openlineage_converter": "cos_provider.assets.cos.convert_asset_to_openlineage",
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": "Tencent Cloud Object Storage (COS)",
        "description": "Copy, multipart range copy, metadata replacement and deferrable sensors for Tencent COS.",
        "integrations": [
            {
                "integration-name": "Tencent COS",
                "external-doc-url": "https://www.tencentcloud.com/document/product/436",
                "tags": ["storage"],
            }
        ],
        "hooks": [{"integration-name": "Tencent COS", "python-modules": ["cos_provider.hooks.cos"]}],
        "operators": [
            {
                "integration-name": "Tencent COS",
                "python-modules": [
                    "cos_provider.operators.object_copy",
                    "cos_provider.operators.metadata",
                    "cos_provider.operators.prefix_copy",
                    "cos_provider.operators.multipart",
                    "cos_provider.operators.delete",
                    "cos_provider.operators.listing",
                    "cos_provider.operators.download",
                    "cos_provider.operators.upload",
                    "cos_provider.operators.batch",
                    "cos_provider.operators.restore",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Tencent COS",
                "python-modules": ["cos_provider.sensors.cos", "cos_provider.sensors.restore"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Tencent COS",
                "python-modules": [
                    "cos_provider.triggers.cos",
                    "cos_provider.triggers.batch",
                    "cos_provider.triggers.restore",
                ],
            }
        ],
        "logging": ["cos_provider.log.cos_task_handler.CosTaskHandler"],
        "remote-logging": [
            {"classpath": "cos_provider.log.cos_task_handler.CosRemoteLogIO", "scheme": "cos"}
        ],
        "filesystems": ["cos_provider.fs.cos"],
        "extra-links": ["cos_provider.links.cos.CosConsoleLink"],
        # Informational: Airflow 3.3 loads bundles from [dag_processor] dag_bundle_config_list only.
        "bundles": [{"integration-name": "Tencent COS", "python-modules": ["cos_provider.bundles.cos"]}],
        "asset-uris": [ASSET_URIS],
        "dataset-uris": [ASSET_URIS],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "cos_provider.hooks.cos.CosHook",
                "hook-name": HOOK_NAME,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
