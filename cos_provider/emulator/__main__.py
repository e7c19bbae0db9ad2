"""``python -m cos_provider.emulator``: run the emulator until SIGINT/SIGTERM.

Prints exactly one line on stdout when it is ready to serve,
``COS emulator ready at http://HOST:PORT`` (``https://`` with ``--tls-cert``),
and exits 0 when interrupted;
:func:`~cos_provider.emulator.process.start_emulator_process` starts it and
waits for that line.
Without any credential it uses ``AKIDLOCALEMULATOR`` / ``local-emulator-secret``
(said on stderr), convenient for local DAG development.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from cos_provider.client import limits
from cos_provider.emulator.emulator import CosEmulator
from cos_provider.emulator.faults import parse_cli_fault
from cos_provider.emulator.process import READY_PREFIX
from cos_provider.emulator.tls import server_context

DEFAULT_SECRET_ID = "AKIDLOCALEMULATOR"
DEFAULT_SECRET_KEY = "local-emulator-secret"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cos_provider.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    p.add_argument("--secret-id", action="append", default=[], help="repeatable, paired with --secret-key")
    p.add_argument("--secret-key", action="append", default=[])
    p.add_argument(
        "--temporary",
        action="append",
        default=[],
        metavar="SECRET_ID:SECRET_KEY:TOKEN",
        help="STS credentials",
    )
    p.add_argument(
        "--bucket", action="append", default=[], metavar="NAME-APPID:REGION[:versioned]", help="pre-create"
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--copy-bandwidth", type=float, default=None, help="bytes/s of one copy request")
    p.add_argument("--aggregate-bandwidth", type=float, default=None, help="bytes/s shared by all copies")
    p.add_argument(
        "--restore-seconds",
        action="append",
        default=[],
        metavar="TIER=SECONDS",
        help="seconds a restore takes per tier (expedited, standard, bulk); repeatable",
    )
    p.add_argument(
        "--rate-limit", type=float, default=None, help="requests/s each bucket takes before 503 SlowDown"
    )
    p.add_argument(
        "--rate-limit-burst", type=float, default=None, help="requests a quiet bucket takes at once"
    )
    p.add_argument(
        "--bucket-rate-limit", action="append", default=[], metavar="NAME-APPID=RATE", help="per bucket"
    )
    p.add_argument("--fault", action="append", default=[], metavar="OP:KIND[:RATE]", help="no rate = always")
    p.add_argument("--auth-error-style", choices=("code", "message"), default="code")
    p.add_argument(
        "--no-single-copy-limit", action="store_true", help="let PUT Object - Copy take sources above 5 GB"
    )
    p.add_argument(
        "--tls-cert", metavar="PEM", help="serve HTTPS only, with this certificate (and chain) in PEM"
    )
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert (if not in that file)")
    return p


def build(args: argparse.Namespace) -> CosEmulator:
    if len(args.secret_id) != len(args.secret_key):
        raise SystemExit("--secret-id and --secret-key must be given in pairs")
    credentials = dict(zip(args.secret_id, args.secret_key, strict=True))
    temporary = {}
    for spec in args.temporary:
        parts = spec.split(":", 2)
        if len(parts) != 3:
            raise SystemExit(f"--temporary {spec!r} must be SECRET_ID:SECRET_KEY:TOKEN")
        temporary[parts[0]] = (parts[1], parts[2])
    if not credentials and not temporary:
        credentials = {DEFAULT_SECRET_ID: DEFAULT_SECRET_KEY}
        print(f"no credentials given: using {DEFAULT_SECRET_ID} / {DEFAULT_SECRET_KEY}", file=sys.stderr)
    if args.tls_key and not args.tls_cert:
        raise SystemExit("--tls-key needs --tls-cert")
    ssl_context = None
    if args.tls_cert:
        try:
            ssl_context = server_context(args.tls_cert, args.tls_key)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise SystemExit(f"--tls-cert/--tls-key: cannot load them: {exc}") from exc
    bucket_rates = {}
    for spec in args.bucket_rate_limit:
        name, _, rate = spec.partition("=")
        try:
            bucket_rates[name] = float(rate)
        except ValueError:
            raise SystemExit(f"--bucket-rate-limit {spec!r} must be NAME-APPID=RATE") from None
    try:
        emu = CosEmulator(
            host=args.host,
            port=args.port,
            credentials=credentials,
            temporary_credentials=temporary,
            latency=args.latency,
            copy_bandwidth=args.copy_bandwidth,
            aggregate_bandwidth=args.aggregate_bandwidth,
            auth_error_style=args.auth_error_style,
            single_copy_limit=None if args.no_single_copy_limit else limits.MAX_SINGLE_COPY_SIZE,
            ssl_context=ssl_context,
            rate_limit=args.rate_limit,
            rate_limit_burst=args.rate_limit_burst,
            bucket_rate_limits=bucket_rates,
        )
    except ValueError as exc:  # a model setting out of range (a negative rate limit...)
        raise SystemExit(f"emulator settings: {exc}") from exc
    for spec in args.bucket:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "versioned"):
            raise SystemExit(f"--bucket {spec!r} must be NAME-APPID:REGION[:versioned]")
        emu.create_bucket(parts[0], region=parts[1], versioning=len(parts) == 3)
    for spec in args.restore_seconds:
        tier, _, seconds = spec.partition("=")
        try:
            emu.set_restore_times(**{tier.strip().lower(): float(seconds)})
        except ValueError as exc:
            raise SystemExit(f"--restore-seconds {spec!r}: {exc}") from exc
    for spec in args.fault:
        try:
            emu.add_fault(parse_cli_fault(spec))
        except ValueError as exc:
            raise SystemExit(f"--fault {spec!r}: {exc}") from exc
    return emu


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    emu = build(args)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    emu.start()
    print(f"{READY_PREFIX}{emu.address}", flush=True)
    while not stop.wait(0.5):
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
