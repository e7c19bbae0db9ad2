"""Trigger tests run on the sensors' fake clock where waits and deadlines are what they assert."""

from __future__ import annotations

import pytest

from tests.sensors.support import FakeClock, install_fake_clock


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_fake_clock(monkeypatch)
