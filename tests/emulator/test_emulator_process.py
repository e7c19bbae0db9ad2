"""``start_emulator_process``: the CLI as a child process, for benchmarks and demos."""

from __future__ import annotations

import os

import pytest
import requests

from cos_provider.emulator import start_emulator_process


@pytest.mark.parametrize("new_session", [False, True])
def test_starts_serves_and_stops(new_session: bool) -> None:
    with start_emulator_process(
        ["--secret-id", "AKIDP", "--secret-key", "k"], new_session=new_session
    ) as emu:
        assert emu.address.startswith("http://127.0.0.1:")
        assert (os.getpgid(emu.pid) == emu.pid) is new_session
        assert requests.get(f"{emu.address}/_emulator/counters", timeout=10).status_code == 200
    assert emu.proc.returncode == 0  # SIGTERM: a clean exit


def test_a_cli_that_does_not_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        start_emulator_process(["--secret-id", "only-id"])
