"""``python3 scripts/dev.py compat``: the built wheel, installed, against the lowest and newest Airflow.

1. builds the wheel (``uv build``) into ``.cache/compat/dist``;
2. for each target of ``scripts/compat_pins.py`` (``--all``: the ones
   between the lowest and newest too), a fresh venv under
   ``.cache/compat/`` on the first of its Pythons present here, and
   ``uv pip install`` of the wheel itself (not editable, not the checkout),
   ``apache-airflow==<target>`` and the target's pins;
3. runs ``scripts/compat_smoke.py`` there in isolated mode from an empty
   directory: the emulator from the installed wheel, the smoke DAG with
   ``dag.test()``, the checks on what it left behind;
4. prints a table (check x Airflow version -> ok/FAIL) and exits 1 on any
   failure. Each target's full output is in ``.cache/compat/<target>.log``.

uv's cache is ``.cache/uv-cache`` (or ``UV_CACHE_DIR``), so a second run
installs from disk. Standard library only, like ``dev.py``, which passes the
pinned uv with ``--uv``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from compat_pins import TARGETS, Target

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
COMPAT = CACHE / "compat"
SMOKE = ROOT / "scripts" / "compat_smoke.py"
SMOKE_DAG = ROOT / "scripts" / "compat_smoke_dag.py"
RESULT_PREFIX = "COMPAT-RESULT "
SMOKE_TIMEOUT = 600


def log(message: str) -> None:
    print(f"[compat] {message}", flush=True)


def find_python(minor: str) -> Path | None:
    """An interpreter of ``minor`` (e.g. "3.10"): pyenv's newest patch, else ``pythonX.Y`` on PATH.

    uv's own discovery is not used: pyenv's shims answer for versions that
    are installed but not selected, and fail when run.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(
        glob.glob(str(pyenv / f"{minor}.*" / "bin" / "python")),
        key=lambda p: [int(x) for x in Path(p).parent.parent.name.split(".") if x.isdigit()],
        reverse=True,
    )
    on_path = shutil.which(f"python{minor}")
    for candidate in [*found, *([on_path] if on_path else [])]:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == minor:
            return Path(candidate)
    return None


def uv_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_CACHE_DIR", str(CACHE / "uv-cache"))
    return env


def declared_airflow_floor() -> str:
    """The ``apache-airflow>=X`` of pyproject.toml (read without tomllib, which Python 3.10 lacks)."""
    match = re.search(r'^\s*"apache-airflow>=([^",;]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    if match is None:
        raise SystemExit("pyproject.toml declares no apache-airflow>= floor")
    return match.group(1)


def build_wheel(uv: str, env: dict[str, str]) -> Path:
    dist = COMPAT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(dist), str(ROOT)], check=True, env=env
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def run_target(uv: str, env: dict[str, str], wheel: Path, target: Target) -> dict[str, object]:
    """Install and smoke-test one target; returns its row for the table."""
    row: dict[str, object] = {"target": target, "results": {}, "meta": {}}
    python = next((p for p in map(find_python, target.pythons) if p), None)
    if python is None:
        row["error"] = f"none of Python {', '.join(target.pythons)} is installed"
        return row
    venv = COMPAT / f"{target.name}-airflow-{target.airflow}"
    work = COMPAT / f"{target.name}-work"
    logfile = COMPAT / f"{target.name}.log"
    for path in (venv, work):
        shutil.rmtree(path, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.monotonic()
    with logfile.open("w") as out:
        steps = [
            [uv, "venv", "--quiet", "--python", str(python), str(venv)],
            [
                uv,
                "pip",
                "install",
                "--python",
                str(venv / "bin" / "python"),
                str(wheel),
                f"apache-airflow=={target.airflow}",
                *target.requirements,
            ],
        ]
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            if subprocess.call(step, stdout=out, stderr=subprocess.STDOUT, env=env) != 0:
                row["error"] = f"install failed, see {logfile}"
                return row
        row["install_s"] = time.monotonic() - started
        started = time.monotonic()
        smoke = [str(venv / "bin" / "python"), "-I", str(SMOKE), "--work", str(work), "--dag", str(SMOKE_DAG)]
        out.write("$ " + " ".join(smoke) + "\n")
        out.flush()
        try:
            proc = subprocess.run(
                smoke, cwd=work, env=env, stdout=subprocess.PIPE, stderr=out, text=True, timeout=SMOKE_TIMEOUT
            )
            stdout = proc.stdout
        except subprocess.TimeoutExpired as exc:
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            row["error"] = f"smoke run timed out after {SMOKE_TIMEOUT} s, see {logfile}"
        out.write(stdout)
        row["smoke_s"] = time.monotonic() - started
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        row.setdefault("error", f"the smoke run printed no result, see {logfile}")
        return row
    report = json.loads(lines[-1][len(RESULT_PREFIX) :])
    row["results"], row["meta"] = report["results"], report["meta"]
    return row


def table(rows: list[dict[str, object]]) -> tuple[str, bool]:
    """The compat table, and whether every check of every target passed."""
    checks: list[str] = []
    for row in rows:
        checks += [c for c in row["results"] if c not in checks]  # type: ignore[attr-defined]
    headers = []
    for row in rows:
        meta = row["meta"]
        target = row["target"]
        airflow = meta.get("airflow", target.airflow)  # type: ignore[attr-defined]
        headers.append(f"Airflow {airflow} / Python {meta.get('python', '?')}")  # type: ignore[attr-defined]
    width = max(len(c) for c in [*checks, "check"])
    cols = [max(len(h), 6) for h in headers]
    lines = [
        "check".ljust(width) + " | " + " | ".join(h.ljust(w) for h, w in zip(headers, cols, strict=True))
    ]
    lines.append("-" * width + "-+-" + "-+-".join("-" * w for w in cols))
    all_ok = bool(rows) and all(not row.get("error") for row in rows)
    for check in checks:
        cells = []
        for row, w in zip(rows, cols, strict=True):
            value = row["results"].get(check)  # type: ignore[attr-defined]
            cells.append(("ok" if value == "ok" else "FAIL").ljust(w))
            all_ok = all_ok and value == "ok"
        lines.append(check.ljust(width) + " | " + " | ".join(cells))
    for row in rows:
        name = row["target"].name  # type: ignore[attr-defined]
        if row.get("error"):
            lines.append(f"{name}: FAIL: {row['error']}")
        for check, value in row["results"].items():  # type: ignore[attr-defined]
            if value != "ok":
                lines.append(f"{name}: {check}: {value}")
    return "\n".join(lines), all_ok


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="dev.py compat")
    p.add_argument("--uv", required=True, help="the uv to use (dev.py passes its pinned one)")
    p.add_argument("--all", action="store_true", help="also the Airflow versions between lowest and newest")
    args = p.parse_args(argv)
    floor, lowest = declared_airflow_floor(), TARGETS[0].airflow
    if floor != lowest:
        log(f"FAIL: pyproject.toml declares apache-airflow>={floor} but the lowest target tests {lowest}")
        return 1
    env = uv_env()
    COMPAT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    wheel = build_wheel(args.uv, env)
    log(f"built {wheel.name} in {time.monotonic() - started:.1f} s")
    rows = []
    for target in (t for t in TARGETS if t.always or args.all):
        log(f"{target.name}: Airflow {target.airflow} ({', '.join(target.requirements) or 'no pins'})")
        row = run_target(args.uv, env, wheel, target)
        timing = ", ".join(f"{k} {row[k]:.1f} s" for k in ("install_s", "smoke_s") if k in row)
        log(f"{target.name}: done ({timing or 'not run'})")
        rows.append(row)
    text, ok = table(rows)
    print(text, flush=True)
    log(f"total {time.monotonic() - started:.1f} s: {'all ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
