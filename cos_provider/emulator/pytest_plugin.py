"""A pytest fixture for projects that test against the emulator.

Enable it with ``pytest_plugins = ["cos_provider.emulator.pytest_plugin"]`` in
a ``conftest.py``. It imports pytest, so nothing else in the package imports
it. The fixture is session-scoped; ``emu.reset()`` between tests if they need
a clean slate.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cos_provider.emulator.emulator import CosEmulator

SECRET_ID = "AKIDEMULATOR"
SECRET_KEY = "emulator-secret-key"


@pytest.fixture(scope="session")
def cos_emulator() -> Iterator[CosEmulator]:
    """A running emulator on a free loopback port, credentials ``SECRET_ID`` / ``SECRET_KEY``."""
    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}) as emu:
        yield emu
