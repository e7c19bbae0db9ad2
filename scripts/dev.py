#!/usr/bin/env python3
"""One entry point for a fresh machine that has only python3.

    python3 scripts/dev.py demo    # set up, then run the example DAGs on the embedded emulator
    python3 scripts/dev.py test    # set up, then lint, type-check, run the whole test suite, then compat --all
    python3 scripts/dev.py compat  # the built wheel against the lowest and newest Airflow (compat_check.py)

Setting up means: get uv (pinned, from PyPI, into .cache/), then install the
locked environment into .venv with bytecode compiled (PYTHONDONTWRITEBYTECODE
would otherwise make every Airflow start compile it again). It is idempotent:
a second run only checks that the environment matches uv.lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV_VERSION = "0.13.8"
CACHE = ROOT / ".cache"
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def log(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    cmd = [str(a) for a in args]
    log("$ " + " ".join(cmd))
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    if check and code != 0:
        sys.exit(code)
    return code


def uv() -> Path:
    """A pinned uv in .cache/uv-venv, installed with pip from PyPI on first use."""
    uv_venv = CACHE / f"uv-{UV_VERSION}"
    uv_bin = uv_venv / "bin" / "uv"
    if not uv_bin.exists():
        log(f"installing uv {UV_VERSION} into {uv_venv}")
        venv.EnvBuilder(with_pip=True, clear=True).create(uv_venv)
        run(
            uv_venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"uv=={UV_VERSION}",
        )
    return uv_bin


def setup() -> dict[str, str]:
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("VIRTUAL_ENV", None)
    run(uv(), "sync", "--frozen", "--compile-bytecode", "--python", sys.executable, env=env)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def ensure_chromium() -> None:
    """Debian's Chromium, for the connection-form browser test (no browser downloads work here)."""
    if shutil.which("chromium"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*sudo, "apt-get", "update", "-qq", env=apt_env)
    run(*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", env=apt_env)


def test(env: dict[str, str], pytest_args: list[str]) -> int:
    ensure_chromium()
    run(BIN / "ruff", "check", ".", env=env)
    run(BIN / "ruff", "format", "--check", ".", env=env)
    run(BIN / "mypy", env=env)
    code = run(BIN / "python", "-m", "pytest", *pytest_args, env=env, check=False)
    # Every minor release the package declares (3.0 to 3.3), not only the two ends.
    return compat(["--all"]) or code


def compat(args: list[str]) -> int:
    """Needs only uv: the wheel goes into venvs of its own, never into .venv."""
    return run(sys.executable, ROOT / "scripts" / "compat_check.py", "--uv", uv(), *args, check=False)


def demo(env: dict[str, str], args: list[str]) -> int:
    return run(BIN / "python", ROOT / "scripts" / "demo.py", *args, env=env, check=False)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup", "compat"):
        print(__doc__)
        return 2
    if argv[0] == "compat":
        return compat(argv[1:])
    env = setup()
    if argv[0] == "test":
        return test(env, argv[1:])
    if argv[0] == "demo":
        return demo(env, argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
