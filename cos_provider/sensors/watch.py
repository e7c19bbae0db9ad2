"""What the COS sensors watch and how they judge it, once for every mode.

A sensor in poke or reschedule mode and its trigger in the triggerer must
reach the same verdict from the same bucket state. So the verdict is computed
here, without I/O and without Airflow: each *watch* has a ``plan()`` generator
that yields COS calls (built by :mod:`cos_provider.client.operations`) and
receives their results, then returns an :class:`Outcome`. :func:`run_sync`
drives a plan with the sync client (``poke()``), :func:`run_async` with the
async client (``trigger.run()``). Timing (:func:`next_poke_interval`), error
classification (:func:`classify`) and ``check_fn`` calling
(:func:`call_check_fn`) live here for the same reason.

Nothing in this module imports Airflow, so triggers and benchmarks stay light.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from cos_provider.client import operations as ops
from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError, CosValidationError
from cos_provider.client.etag import unquote_etag
from cos_provider.client.globbing import glob_regex, has_glob, literal_prefix
from cos_provider.client.models import ListedObject, ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.protocol import Call
from cos_provider.client.uri import cos_url, is_cos_url, parse_cos_url

if TYPE_CHECKING:
    from cos_provider.client.aio import AsyncCosClient
    from cos_provider.client.client import CosClient


# ---------------------------------------------------------------- plans and drivers


@dataclass(frozen=True)
class Batch:
    """Calls a plan needs together: run concurrently by the async driver.

    The plan receives a list with, per call, its result or the
    :class:`CosError` it raised.
    """

    calls: tuple[Call[Any], ...]


@dataclass
class Outcome:
    """The verdict of one poke."""

    done: bool
    xcom: Any = None
    """What the sensor pushes when done (JSON-serialisable)."""
    state: dict[str, Any] | None = None
    """What the next poke needs to know (prefix inactivity); JSON-serialisable."""
    reason: str = ""
    """Why it is not done yet, for the log."""


Step = Call[Any] | Batch
Plan = Generator[Step, Any, Outcome]


class Watch(Protocol):
    """Anything that can plan one poke."""

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan: ...


def run_sync(plan: Plan, client: CosClient) -> Outcome:
    """Drive ``plan`` with the blocking client (``poke()``)."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Batch):
                results: list[Any] = []
                for call in step.calls:
                    try:
                        results.append(client.execute(call))
                    except CosError as exc:
                        results.append(exc)
                step = plan.send(results)
                continue
            try:
                result = client.execute(step)
            except CosError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(plan: Plan, client: AsyncCosClient, concurrency: int = 8) -> Outcome:
    """Drive ``plan`` with the async client (``trigger.run()``)."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Batch):
                step = plan.send(await client.execute_many(step.calls, concurrency=concurrency))
                continue
            try:
                result = await client.execute(step)
            except CosError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


# ---------------------------------------------------------------- errors


TRANSIENT = "transient"


class WatchError(Exception):
    """A poke that cannot give a verdict, classified once for every mode.

    ``kind`` is one of ``auth``, ``no_bucket``, ``invalid``,
    ``deleted``, ``service`` (waiting cannot fix these: the sensor fails fast)
    or ``transient`` (COS or the network kept failing after the client's
    retries: the poke fails like any task error).
    """

    def __init__(self, kind: str, message: str, *, code: str = "", http_status: int = 0) -> None:
        self.kind = kind
        self.message = message
        self.code = code
        self.http_status = http_status
        super().__init__(message)

    @property
    def fail_fast(self) -> bool:
        return self.kind != TRANSIENT

    def to_event(self) -> dict[str, Any]:
        return {
            "status": "error",
            "kind": self.kind,
            "message": self.message,
            "code": self.code,
            "http_status": self.http_status,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> WatchError:
        return cls(
            str(event.get("kind", "service")),
            str(event.get("message", "unknown error")),
            code=str(event.get("code", "")),
            http_status=int(event.get("http_status", 0) or 0),
        )


def classify(exc: BaseException, conn_id: str = "") -> WatchError:
    """Turn what a poke raised into a :class:`WatchError` with a message a human can act on."""
    if isinstance(exc, WatchError):
        return exc
    conn = f" of connection {conn_id!r}" if conn_id else ""
    if isinstance(exc, CosValidationError):
        return WatchError("invalid", f"Invalid COS sensor settings{conn}: {exc}")
    if isinstance(exc, CosTransportError):
        return WatchError(TRANSIENT, f"COS could not be reached: {exc}")
    if not isinstance(exc, CosServiceError):
        return WatchError("service", f"{type(exc).__name__}: {exc}")

    def error(kind: str, message: str) -> WatchError:
        return WatchError(kind, message, code=exc.code, http_status=exc.status)

    rid = f" (request id {exc.request_id})" if exc.request_id else ""
    text = f"{exc.code} {exc.message}"
    if exc.is_transient:
        return error(TRANSIENT, f"COS kept failing: {exc}")
    if exc.is_auth_error:
        if "InvalidAccessKeyId" in text:
            why = "the SecretId is not known to COS"
        elif "SignatureDoesNotMatch" in text:
            why = "the SecretKey does not match the SecretId"
        elif "Token" in exc.code:
            why = "the session token is missing, wrong or expired"
        elif "RequestTimeTooSkewed" in text or "expired" in text.lower():
            why = "the request time was rejected; this machine's clock is off"
        elif exc.code == "AccessDenied" and not exc.message:
            what = getattr(exc, "cos_request", "") or exc.resource or "the request"
            why = (
                f"access denied to {what}; the answer has no detail (HEAD), so either the "
                "SecretId/SecretKey are wrong or they lack permission"
            )
        else:
            why = exc.message or exc.code
        return error("auth", f"COS rejected the credentials{conn}: {why} ({exc.code}){rid}")
    if exc.code == "NoSuchBucket":
        return error("no_bucket", f"COS bucket does not exist: {exc}")
    return error("service", f"COS refused the request: {exc}")


BUCKET_RECHECK_SECONDS = 300.0
"""How long a bucket found to exist is trusted before a 404 makes us check it again."""


def _check_bucket(bucket: str, verified: dict[str, float], now: float) -> Generator[Step, Any, None]:
    """After a 404 on HEAD Object: is it the key or the whole bucket that is missing?

    HEAD answers carry no body, so the 404 itself cannot tell. A bucket found
    to exist is remembered in ``verified`` (bucket -> when) for
    :data:`BUCKET_RECHECK_SECONDS`; the sensor hands this to its trigger and
    back, so every mode checks equally often.
    """
    checked = verified.get(bucket)
    if checked is not None and 0 <= now - checked < BUCKET_RECHECK_SECONDS:
        return
    try:
        yield ops.head_bucket(bucket)
    except CosServiceError as exc:
        if exc.is_not_found:
            raise WatchError(
                "no_bucket",
                f"COS bucket {bucket!r} does not exist (or is in another region): "
                "check the bucket name, APPID and region",
                code="NoSuchBucket",
                http_status=404,
            ) from exc
        yield from _explain_denied(bucket, exc)
    verified[bucket] = now


def _explain_denied(bucket: str, exc: CosServiceError) -> Generator[Step, Any, NoReturn]:
    """Raise ``exc``, or the detailed error behind it.

    A 403 to HEAD has no body, so a wrong SecretKey and a missing permission
    look alike. One GET with a body (a one-key listing of the bucket) tells
    them apart; its error, if any, is raised instead.
    """
    if exc.status == 403 and not exc.message:
        try:
            yield ops.list_objects(bucket, max_keys=1)
        except CosServiceError as detail:
            if detail.message:
                raise detail from exc
    raise exc


def _raise_failure(bucket: str, result: Any) -> Generator[Step, Any, None]:
    """Raise the error one call of a :class:`Batch` ended with; a result passes.

    A batch hands errors back in place of results, so that one missing key
    does not cancel its siblings; any other error ends the poke as a single
    call's would, a bodyless 403 explained first.
    """
    if isinstance(result, CosServiceError):
        yield from _explain_denied(bucket, result)
    if isinstance(result, BaseException):
        raise result


def _list_all(bucket: str, prefix: str) -> Generator[Step, Any, list[ListedObject]]:
    out: list[ListedObject] = []
    marker: str | None = ""
    while marker is not None:
        page = yield ops.list_objects(bucket, prefix=prefix, marker=marker)
        out.extend(page.objects)
        marker = page.next_page_marker
    return out


# ---------------------------------------------------------------- targets and globs


@dataclass(frozen=True)
class Target:
    """One thing to wait for: an exact key, or a glob when ``glob`` is set."""

    bucket: str
    key: str
    glob: bool = False

    @property
    def uri(self) -> str:
        return cos_url(self.bucket, self.key)


def parse_targets(
    bucket: str | None, keys: str | Sequence[str], use_glob: bool = False
) -> tuple[Target, ...]:
    """Targets from ``bucket`` plus keys, where each key may be a ``cos://bucket/key`` URL.

    A URL names its own bucket; a plain key needs ``bucket``. With
    ``use_glob``, keys containing ``*``, ``?`` or ``[`` are globs.
    """
    items = [keys] if isinstance(keys, str) else list(keys)
    if not items:
        raise CosValidationError("key", "give at least one key or cos:// URL")
    targets: list[Target] = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise CosValidationError("key", f"must be a non-empty string, got {item!r}")
        if is_cos_url(item):
            b, key = parse_cos_url(item)
        elif bucket:
            b, key = bucket, item
        else:
            raise CosValidationError(
                "bucket", f"is required for key {item!r} (or give a cos://bucket/key URL)"
            )
        targets.append(Target(b, key, glob=use_glob and has_glob(key)))
    return tuple(targets)


def parse_target(bucket: str | None, key: str) -> Target:
    (target,) = parse_targets(bucket, key)
    return target


# ---------------------------------------------------------------- records


def object_record(info: ObjectInfo, with_metadata: bool = False) -> dict[str, Any]:
    """What a sensor pushes about one object (JSON-serialisable).

    ``etag`` is unquoted (``CosCopyObjectOperator(copy_source_if_match=...)``
    accepts it as is); ``crc64`` is the decimal string COS sends, since the
    64-bit value does not survive JSON consumers that use doubles.
    """
    record: dict[str, Any] = {
        "bucket": info.bucket,
        "key": info.key,
        "uri": cos_url(info.bucket, info.key),
        "size": info.size,
        "etag": unquote_etag(info.etag),
        "version_id": info.version_id,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
        "crc64": str(info.crc64) if info.crc64 is not None else None,
        "storage_class": info.storage_class,
    }
    if with_metadata:
        record["content_type"] = info.content_type
        record["metadata"] = dict(info.metadata)
    return record


# ---------------------------------------------------------------- watches


@dataclass(frozen=True)
class ObjectWatch:
    """Done when every target matches at least one object of at least ``min_size`` bytes."""

    targets: tuple[Target, ...]
    min_size: int | None = None
    with_metadata: bool = False

    def _big_enough(self, size: int) -> bool:
        return self.min_size is None or size >= self.min_size

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        # Exact keys first (one HEAD each, together): if one is missing the
        # poke is over without listing anything. Globs are listed from their
        # literal prefix, and each match is HEADed for its version and CRC64.
        per_target: list[list[dict[str, Any]]] = [[] for _ in self.targets]
        exact = [i for i, t in enumerate(self.targets) if not t.glob]
        if exact:
            refs = [
                ObjectRef(full_bucket_name(self.targets[i].bucket, app_id), self.targets[i].key)
                for i in exact
            ]
            results = yield Batch(tuple(ops.head_object(r) for r in refs))
            waiting: list[str] = []
            for i, ref, result in zip(exact, refs, results, strict=True):
                uri = self.targets[i].uri
                if isinstance(result, CosServiceError) and result.is_not_found:
                    yield from _check_bucket(ref.bucket, verified, now)
                    waiting.append(f"{uri} (not found)")
                    continue
                yield from _raise_failure(ref.bucket, result)
                if not self._big_enough(result.size):
                    waiting.append(f"{uri} ({result.size} bytes < min_size {self.min_size})")
                    continue
                per_target[i].append(object_record(result, self.with_metadata))
            if waiting:
                return Outcome(False, reason="waiting for " + ", ".join(waiting))
        for i, target in enumerate(self.targets):
            if not target.glob:
                continue
            bucket = full_bucket_name(target.bucket, app_id)
            listed = yield from _list_all(bucket, literal_prefix(target.key))
            rx = glob_regex(target.key)
            keys = [o.key for o in listed if rx.fullmatch(o.key) and self._big_enough(o.size)]
            if keys:
                results = yield Batch(tuple(ops.head_object(ObjectRef(bucket, k)) for k in keys))
                for result in results:
                    if isinstance(result, CosServiceError) and result.is_not_found:
                        continue  # deleted since it was listed
                    yield from _raise_failure(bucket, result)
                    if self._big_enough(result.size):
                        per_target[i].append(object_record(result, self.with_metadata))
            if not per_target[i]:
                return Outcome(
                    False, reason=f"waiting for {target.uri} (no match among {len(listed)} listed)"
                )
        matched: dict[tuple[str, str], dict[str, Any]] = {}
        for records in per_target:
            for record in records:
                matched.setdefault((record["bucket"], record["key"]), record)
        return Outcome(True, xcom=list(matched.values()))


@dataclass(frozen=True)
class UpdatedWatch:
    """Done when the object exists and was last modified strictly after ``after``.

    COS reports Last-Modified to the second.
    """

    target: Target
    after: datetime
    with_metadata: bool = False

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        ref = ObjectRef(full_bucket_name(self.target.bucket, app_id), self.target.key)
        try:
            info = yield ops.head_object(ref)
        except CosServiceError as exc:
            if not exc.is_not_found:
                yield from _explain_denied(ref.bucket, exc)
            yield from _check_bucket(ref.bucket, verified, now)
            return Outcome(False, reason=f"{self.target.uri} does not exist yet")
        modified = info.last_modified
        if modified is None or modified <= self.after:
            return Outcome(
                False,
                reason=f"{self.target.uri} last modified {modified.isoformat() if modified else 'unknown'}, "
                f"not after {self.after.isoformat()}",
            )
        return Outcome(True, xcom=object_record(info, self.with_metadata))


@dataclass(frozen=True)
class InactivityWatch:
    """Done when the listing under ``prefix`` has not changed for ``inactivity_period``
    seconds and holds at least ``min_objects`` objects.

    A change is any key added, removed, resized or rewritten (ETag). The state
    carried between pokes is the last listing (key -> ``size:etag``) and the
    wall-clock time of the last change.
    """

    bucket: str
    prefix: str
    inactivity_period: float
    min_objects: int = 1
    allow_delete: bool = True

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        bucket = full_bucket_name(self.bucket, app_id)
        where = cos_url(bucket, self.prefix)
        listed = yield from _list_all(bucket, self.prefix)
        current = {o.key: f"{o.size}:{unquote_etag(o.etag)}" for o in listed}
        previous = (state or {}).get("objects")
        if previous is None:
            return Outcome(
                False,
                state={"objects": current, "last_activity": now},
                reason=f"{len(current)} object(s) under {where}; inactivity timer started",
            )
        if current != previous:
            deleted = sorted(set(previous) - set(current))
            if deleted and not self.allow_delete:
                raise WatchError(
                    "deleted",
                    f"{len(deleted)} object(s) under {where} were deleted while waiting "
                    f"(e.g. {', '.join(deleted[:3])}) and allow_delete is False",
                )
            added = len(set(current) - set(previous))
            changed = sum(1 for k, v in current.items() if k in previous and previous[k] != v)
            return Outcome(
                False,
                state={"objects": current, "last_activity": now},
                reason=f"activity under {where}: {added} added, {len(deleted)} deleted, {changed} changed; "
                "inactivity timer reset",
            )
        idle = now - float((state or {})["last_activity"])
        if idle < self.inactivity_period:
            return Outcome(
                False,
                state=dict(state or {}),
                reason=f"{len(current)} object(s) under {where} unchanged for {idle:.0f}s "
                f"of {self.inactivity_period:.0f}s",
            )
        if len(current) < self.min_objects:
            return Outcome(
                False,
                state=dict(state or {}),
                reason=f"{where} inactive for {idle:.0f}s but holds {len(current)} object(s), "
                f"fewer than min_objects={self.min_objects}",
            )
        return Outcome(
            True,
            xcom={
                "bucket": bucket,
                "prefix": self.prefix,
                "count": len(current),
                "total_size": sum(o.size for o in listed),
                "keys": sorted(current),
            },
            state=dict(state or {}),
        )


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Poke cadence and deadline, the same in every mode (seconds)."""

    poke_interval: float
    timeout: float
    exponential_backoff: bool = False
    max_wait: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "poke_interval": self.poke_interval,
            "timeout": self.timeout,
            "exponential_backoff": self.exponential_backoff,
            "max_wait": self.max_wait,
        }


def next_poke_interval(
    timing: Timing, *, poke_count: int, elapsed: float, seed: str, estimate_poke_count: bool = False
) -> float:
    """Seconds to wait after poke number ``poke_count``: Airflow's own formula.

    This is ``BaseSensorOperator._get_next_poke_interval`` of Airflow 3.3 as a
    pure function (the COS sensors route that method here, and their triggers
    call it), so poke, reschedule and deferrable modes wait exactly alike.
    ``seed`` is ``"<dag_id>#<task_id>#<started_at>"``, the jitter's hash input.
    In reschedule mode the poke count is estimated from ``elapsed``, as Airflow does.
    """
    if not timing.exponential_backoff:
        return timing.poke_interval

    def backoff(n: int) -> float:
        min_backoff = max(int(timing.poke_interval * (2 ** (n - 2))), 1)
        run_hash = int(hashlib.sha1(f"{seed}#{n}".encode(), usedforsecurity=False).hexdigest(), 16)
        return float(min(min_backoff + run_hash % min_backoff, timedelta.max.total_seconds() - 1))

    if estimate_poke_count:
        cumulative, estimated = 0.0, 0
        while cumulative <= elapsed:
            estimated += 1
            cumulative += backoff(estimated)
        poke_count = estimated or poke_count
    interval = min(timing.timeout - int(elapsed), backoff(poke_count))
    if timing.max_wait:
        interval = min(timing.max_wait, interval)
    return interval


# ---------------------------------------------------------------- check_fn


def check_fn_kwargs(check_fn: Callable[..., Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``check_fn`` gets besides the objects.

    ``check_fn(objects)`` gets none; ``check_fn(objects, **context)`` gets the
    whole task context; ``check_fn(objects, ti, params)`` gets just the named
    context entries. Poke mode and the deferrable resume both call through
    here, so a ``check_fn`` behaves the same in every mode.
    """
    params = list(inspect.signature(check_fn).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(context)
    named = [
        p.name
        for p in params[1:]
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    return {name: context[name] for name in named if name in context}


def validate_check_fn(check_fn: Callable[..., Any] | None) -> None:
    """Fail at DAG parse time if ``check_fn`` cannot take the objects positionally."""
    if check_fn is None:
        return
    if not callable(check_fn):
        raise TypeError(f"check_fn must be callable, got {check_fn!r}")
    try:
        params = inspect.signature(check_fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    if not any(p.kind in positional for p in params):
        raise TypeError(
            "check_fn must accept the matched objects as its first positional argument: "
            "check_fn(objects) or check_fn(objects, **context)"
        )


def call_check_fn(check_fn: Callable[..., Any], objects: Any, context: Mapping[str, Any]) -> bool:
    return bool(check_fn(objects, **check_fn_kwargs(check_fn, context)))


__all__ = [
    "Batch",
    "InactivityWatch",
    "ObjectWatch",
    "Outcome",
    "Target",
    "Timing",
    "UpdatedWatch",
    "Watch",
    "WatchError",
    "call_check_fn",
    "check_fn_kwargs",
    "classify",
    "glob_regex",
    "literal_prefix",
    "next_poke_interval",
    "object_record",
    "parse_cos_url",
    "parse_targets",
    "run_async",
    "run_sync",
]
