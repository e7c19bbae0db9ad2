"""Scripted and random failures, per operation.

A :class:`FaultRule` says *which* requests (operation, optionally bucket, key
and part number) get *what* (a kind) and *how often*:

``sequence``
    the n-th matching request gets ``sequence[n]`` (a kind, or ``"ok"`` for no
    fault); once the sequence is used up the rule is spent.
``times``
    the first ``times`` matching requests get ``kind``; then the rule is spent.
``rate``
    each matching request gets ``kind`` with this probability, drawn from the
    rule's own ``random.Random(seed)``, so a run is reproducible.
none of them (or ``permanent=True``)
    every matching request gets ``kind``, forever (rate 1.0).

Rules are consulted in the order they were added; the first one that fires
decides. A rule whose turn says ``"ok"`` does not fire and later rules are
asked. Faults are decided after authentication: a bad signature is never
masked by a fault, and faulted requests still count in the counters.

Kinds:

``internal_error`` / ``slow_down``
    500 ``InternalError`` / 503 ``SlowDown``; the operation does not happen.
``access_denied``
    403 ``AccessDenied``; the operation does not happen. What COS answers
    when a policy forbids one operation (say ListMultipartUploads) to a key
    that may do others. :meth:`FaultBook.decide` raises it itself, so the
    server needs no code for it.
``reset``
    the operation happens, then the connection is reset (RST) after half of
    the response has been sent: the client cannot know it succeeded.
``error_200``
    HTTP 200 whose body is ``<Error>`` with ``code`` (default
    ``InternalError``); the operation does not happen. For CopyObject,
    UploadPartCopy and CompleteMultipartUpload, the operations COS may answer
    this way.
``slow``
    the request is held ``delay`` seconds, then processed and answered - long
    enough to exceed a client's read timeout.
``keepalive_whitespace``
    CompleteMultipartUpload only: 200 with chunked encoding at once, a space
    every ``interval`` seconds for ``delay`` seconds, then the final body with
    no XML declaration. With ``code`` set the final body is that ``<Error>``
    (and the upload stays live), otherwise the real result: validation
    failures of the parts (``InvalidPart``, ``InvalidPartOrder``,
    ``EntityTooSmall``) then arrive as a 200 ``<Error>`` too, as on COS.
``corrupt``
    UploadPartCopy, UploadPart, PutObject and GetObject. GetObject: the body
    sent has its first bit flipped (headers, length and
    ``x-cos-hash-crc64ecma`` unchanged), as a corruption on the way would.
    The others: the stored part (or object) has its first bit flipped, so its
    bytes and CRC64 differ from what was sent (the response reports the
    stored CRC and ETag), and a completed object's CRC64 will not match.
``truncated_body``
    the operation happens, and its 200 answer carries only the first half of
    its XML body (``Content-Length`` matches the cut body, so the client
    reads a complete HTTP answer holding a broken document): what a proxy or
    a connection cut short leaves. For the operations that answer with XML
    (:data:`XML_ANSWERS`).
``garbage_body``
    the operation does not happen; the answer is 200 with an HTML page that
    is not well-formed XML, as a captive portal or a misconfigured gateway
    sends. For the operations of :data:`XML_ANSWERS`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cos_provider.emulator.errors import CosError

KINDS = frozenset(
    {
        "internal_error",
        "slow_down",
        "access_denied",
        "reset",
        "error_200",
        "slow",
        "keepalive_whitespace",
        "corrupt",
        "truncated_body",
        "garbage_body",
    }
)
OK = "ok"
XML_ANSWERS = frozenset(
    {
        "CopyObject",
        "UploadPartCopy",
        "InitiateMultipartUpload",
        "CompleteMultipartUpload",
        "ListObjects",
        "ListParts",
        "ListMultipartUploads",
        "GetService",
        "GetBucketVersioning",
        "DeleteMultipleObjects",
        "ListObjectVersions",
    }
)
"""Operations whose success is an XML document (the ones a broken body can break)."""
GARBAGE_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>Gateway</title></head>"
    b"<body>The service is temporarily unavailable.<br></body></html>\n"
)
ONLY_FOR = {
    "truncated_body": XML_ANSWERS,
    "garbage_body": XML_ANSWERS,
    "error_200": frozenset({"CopyObject", "UploadPartCopy", "CompleteMultipartUpload"}),
    "keepalive_whitespace": frozenset({"CompleteMultipartUpload"}),
    "corrupt": frozenset({"UploadPartCopy", "UploadPart", "PutObject", "GetObject"}),
}


@dataclass
class Fault:
    """One decided fault: what the server does to this request."""

    kind: str
    code: str | None = None
    delay: float = 0.0
    interval: float = 0.5


@dataclass
class FaultRule:
    operation: str  # an operation name, or "*" for all
    kind: str | None = None
    rate: float | None = None
    times: int | None = None
    sequence: list[str] | None = None
    key: str | None = None
    part_number: int | None = None
    bucket: str | None = None
    permanent: bool = False
    code: str | None = None  # error_200 (default InternalError) / keepalive_whitespace final error
    delay: float = 5.0  # slow: hold time; keepalive_whitespace: "merge" time
    interval: float = 0.5  # keepalive_whitespace: seconds between spaces
    seed: int | None = None  # rate: RNG seed
    _used: int = field(default=0, init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        modes = sum(x is not None for x in (self.rate, self.times, self.sequence))
        if modes > 1:
            raise ValueError("give at most one of rate, times and sequence")
        if self.sequence is not None:
            for k in self.sequence:
                self._check_kind(k, allow_ok=True)
        else:
            if self.kind is None:
                raise ValueError("kind is required unless sequence is given")
            self._check_kind(self.kind, allow_ok=False)
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.delay < 0 or self.interval <= 0:
            raise ValueError("delay must be >= 0 and interval > 0")
        self._rng = random.Random(self.seed)

    def _check_kind(self, kind: str, *, allow_ok: bool) -> None:
        if kind == OK and allow_ok:
            return
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        allowed = ONLY_FOR.get(kind)
        if allowed is not None and self.operation != "*" and self.operation not in allowed:
            raise ValueError(f"fault {kind!r} applies only to {', '.join(sorted(allowed))}")

    @classmethod
    def always(cls, operation: str, kind: str, **filters: Any) -> FaultRule:
        """Shorthand for a permanent rule (rate 1.0, forever)."""
        return cls(operation=operation, kind=kind, permanent=True, **filters)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        allowed = {
            "operation",
            "kind",
            "rate",
            "times",
            "sequence",
            "key",
            "part_number",
            "bucket",
            "permanent",
            "code",
            "delay",
            "interval",
            "seed",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "rate": self.rate,
            "times": self.times,
            "sequence": self.sequence,
            "key": self.key,
            "part_number": self.part_number,
            "bucket": self.bucket,
            "permanent": self.permanent,
            "code": self.code,
            "delay": self.delay,
            "interval": self.interval,
            "seed": self.seed,
            "used": self._used,
        }

    def matches(self, operation: str, bucket: str | None, key: str, part_number: int | None) -> bool:
        if self.operation not in ("*", operation):
            return False
        if self.bucket is not None and self.bucket != bucket:
            return False
        if self.key is not None and self.key != key:
            return False
        return self.part_number is None or self.part_number == part_number

    def _turn(self) -> str | None:
        """The kind this matching request gets, or None (caller holds the lock)."""
        n = self._used
        self._used += 1
        if self.sequence is not None:
            if n >= len(self.sequence):
                return None
            kind = self.sequence[n]
            return None if kind == OK else kind
        if self.times is not None:
            return self.kind if n < self.times else None
        if self.rate is not None and not self.permanent:
            return self.kind if self._rng.random() < self.rate else None
        return self.kind

    def _applies_to(self, kind: str, operation: str) -> bool:
        allowed = ONLY_FOR.get(kind)
        return allowed is None or operation in allowed


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.injected: dict[str, dict[str, int]] = {}

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.injected.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def decide(self, operation: str, bucket: str | None, key: str, part_number: int | None) -> Fault | None:
        """The fault this request gets, if any; raises the error of ``access_denied``."""
        fault = self._decide(operation, bucket, key, part_number)
        if fault is not None and fault.kind == "access_denied":
            raise CosError(403, "AccessDenied", "Access Denied.")
        return fault

    def _decide(self, operation: str, bucket: str | None, key: str, part_number: int | None) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if not rule.matches(operation, bucket, key, part_number):
                    continue
                kind = rule._turn()
                if kind is None or not rule._applies_to(kind, operation):
                    continue
                per_op = self.injected.setdefault(operation, {})
                per_op[kind] = per_op.get(kind, 0) + 1
                return Fault(kind=kind, code=rule.code, delay=rule.delay, interval=rule.interval)
        return None

    def injected_counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {op: dict(kinds) for op, kinds in self.injected.items()}


def parse_cli_fault(spec: str) -> FaultRule:
    """``op:kind[:rate]`` - without a rate the fault is permanent."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"fault {spec!r} must be op:kind[:rate]")
    if len(parts) == 2:
        return FaultRule.always(parts[0], parts[1])
    return FaultRule(operation=parts[0], kind=parts[1], rate=float(parts[2]))


def rules_from_json(data: object) -> Iterable[FaultRule]:
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a fault must be a JSON object")
        yield FaultRule.from_dict(item)
