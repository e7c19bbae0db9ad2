"""One emulator per session, fixed test credentials, and clean faults per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from qcloud_cos import CosConfig, CosS3Client

from cos_provider.emulator import CosEmulator

from .helpers import APPID, SECRET_ID, SECRET_KEY, STS_ID, STS_KEY, STS_TOKEN, Raw


@pytest.fixture(scope="session")
def emu() -> Iterator[CosEmulator]:
    with CosEmulator(
        credentials={SECRET_ID: SECRET_KEY, "AKIDSECOND": "second-secret"},
        temporary_credentials={STS_ID: (STS_KEY, STS_TOKEN)},
    ) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean_faults(emu: CosEmulator) -> Iterator[None]:
    yield
    emu.clear_faults()
    emu.set_model(latency=0.0, copy_bandwidth=None, aggregate_bandwidth=None)


@pytest.fixture
def new_bucket(emu: CosEmulator) -> Callable[..., str]:
    """Create a bucket with a unique name; returns its name."""

    def make(region: str = "ap-guangzhou", versioning: bool = False) -> str:
        name = f"t{uuid.uuid4().hex[:12]}-{APPID}"
        emu.create_bucket(name, region=region, versioning=versioning)
        return name

    return make


@pytest.fixture
def bucket(new_bucket: Callable[..., str]) -> str:
    return new_bucket()


@pytest.fixture
def raw(emu: CosEmulator) -> Raw:
    return Raw(emu.address)


@pytest.fixture
def sdk(emu: CosEmulator) -> Callable[..., CosS3Client]:
    """SDK clients: ``sdk(mode="proxy"|"ip", region=..., **config)``."""

    def make(
        mode: str = "proxy", region: str = "ap-guangzhou", retry: int = 0, **config: object
    ) -> CosS3Client:
        kwargs: dict[str, object] = {
            "Region": region,
            "SecretId": SECRET_ID,
            "SecretKey": SECRET_KEY,
            "Scheme": "http",
        }
        kwargs.update(config)
        if mode == "proxy":
            kwargs["Proxies"] = {"http": emu.address}
        else:
            kwargs["IP"] = "127.0.0.1"
            kwargs["Port"] = emu.port
        return CosS3Client(CosConfig(**kwargs), retry=retry)

    return make
