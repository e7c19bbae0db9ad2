"""The packaged pytest fixture works (imported here; projects list it in ``pytest_plugins``)."""

from __future__ import annotations

from cos_provider.emulator import CosEmulator
from cos_provider.emulator.pytest_plugin import SECRET_ID, SECRET_KEY, cos_emulator  # noqa: F401

from .helpers import Raw


def test_cos_emulator_fixture(cos_emulator: CosEmulator) -> None:  # noqa: F811
    cos_emulator.create_bucket("plugin-1250000000", region="ap-guangzhou")
    resp = Raw(cos_emulator.address, SECRET_ID, SECRET_KEY).request("HEAD", "plugin-1250000000")
    assert resp.status_code == 200
