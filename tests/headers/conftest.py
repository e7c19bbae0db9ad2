"""Fixtures of the header tests: the emulator ones come from tests/conftest.py and tests/copy.

SSE-C keys are the two of Tencent's own examples (doc 436/10881, PUT Object
- Copy, example 5), so the MD5s asserted are the ones the documentation
prints: a check that we compute ``x-cos-...-key-MD5`` as COS does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
from tests.conftest import REGION, SECRET_ID, SECRET_KEY, connection_json
from tests.copy.conftest import _restore_emulator, requests_of  # noqa: F401  (fixtures)

KEY_A = "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY="  # base64("0123456789ABCDEF0123456789ABCDEF")
KEY_A_MD5 = "U5L61r7jcwdNvT7frmUG8g=="
KEY_B = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64("0123456789abcdef0123456789abcdef")
KEY_B_MD5 = "hRasmdxgYDKV3nvbahU1MA=="


def sdk_client(address: str) -> Any:
    """The official SDK (the test-only oracle) in Proxies mode against ``address``, no retries.

    It gets its own ``requests`` session: the SDK otherwise shares one pool
    between all its clients, and a test elsewhere mounts a tampering adapter
    on it.
    """
    import requests
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(
        Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http", Proxies={"http": address}
    )
    return CosS3Client(config, retry=0, session=requests.Session())


@pytest.fixture
def conn_with(cos: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """``cos_default`` pointing at the emulator with extra connection fields."""

    def make(**extra: Any) -> str:
        monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address, **extra))
        return "cos_default"

    return make
