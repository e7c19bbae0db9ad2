"""The emulator as a child process, started through its CLI.

Benchmarks and demos run it in a process of its own, so that its CPU and
memory are not theirs; they learn its address from the one line the CLI
prints when it is ready (:data:`READY_PREFIX`), which this module both
defines and reads, so the two sides cannot disagree about it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

READY_PREFIX = "COS emulator ready at "
"""Followed by ``http://HOST:PORT`` (``https://`` with ``--tls-cert``): the CLI's only line on stdout."""


class EmulatorProcess:
    """A running ``python -m cos_provider.emulator``; a context manager that stops it."""

    def __init__(self, proc: subprocess.Popen[str], address: str, *, own_group: bool) -> None:
        self.proc = proc
        self.address = address
        self._own_group = own_group

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _signal(self, signum: signal.Signals) -> None:
        if self.proc.poll() is not None:
            return
        try:
            if self._own_group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        except ProcessLookupError:  # it exited since poll()
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the CLI exits 0 on it); SIGKILL if it is not gone after ``timeout`` seconds."""
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_emulator_process(
    args: Sequence[str] = (),
    *,
    python: str | Path = sys.executable,
    cwd: str | Path | None = None,
    new_session: bool = False,
    tls_cert: str | Path | None = None,
    tls_key: str | Path | None = None,
) -> EmulatorProcess:
    """Start the CLI with ``args`` and return once it is ready to serve.

    A free port is picked unless ``args`` give ``--port``. ``tls_cert`` and
    ``tls_key`` are ``--tls-cert``/``--tls-key``: the child serves HTTPS only,
    and ``.address`` is then an ``https://`` URL. ``python`` is the
    interpreter to run it with (one that can import this package);
    ``new_session`` puts it in a process group of its own, which
    :meth:`EmulatorProcess.stop` then signals as a whole, so a terminal's
    Ctrl-C reaches only the caller. Raises :class:`RuntimeError` (after
    stopping the process) if the first line is not the ready line.
    """
    tls = [
        *(["--tls-cert", str(tls_cert)] if tls_cert else []),
        *(["--tls-key", str(tls_key)] if tls_key else []),
    ]
    proc = subprocess.Popen(
        [str(python), "-m", "cos_provider.emulator", "--port", "0", *args, *tls],
        stdout=subprocess.PIPE,
        text=True,
        cwd=cwd,
        start_new_session=new_session,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(READY_PREFIX):
        EmulatorProcess(proc, "", own_group=new_session).stop()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return EmulatorProcess(proc, line[len(READY_PREFIX) :].strip(), own_group=new_session)


__all__ = ["READY_PREFIX", "EmulatorProcess", "start_emulator_process"]
