"""``CosBatchJobTrigger``: polls DescribeJob in the triggerer until a Batch Operations job ends.

Like the other COS triggers it holds only the connection id and JSON
parameters (no secret), resolves the connection through the hook without
blocking the loop (``aget_settings``), and shares the loop's async client
(:func:`~cos_provider.client.aio.shared_client`).

Events (``TriggerEvent.payload``), all JSON:

* ``{"status": "done", "job": JobDescription.to_dict(), "job_id": ...}`` when the job is
  ``Complete``, ``Failed`` or ``Cancelled`` (the operator decides what each means);
* ``{"status": "timeout", "job_id": ..., "job": <last description or None>, "message": ...}``
  once ``timeout`` seconds have passed since ``started_at``;
* ``{"status": "error", "job_id": ..., "message": ..., "code": ..., "http_status": ...}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from cos_provider.client import batch
from cos_provider.client.aio import shared_client
from cos_provider.client.errors import CosError, CosServiceError
from cos_provider.hooks.cos import CosHook

DEFAULT_TIMEOUT = 7 * 24 * 3600.0
PROGRESS_EVERY = 30.0
"""Seconds between progress lines while the job's status stays the same."""


def progress_line(job: batch.JobDescription, elapsed: float) -> str:
    """``Batch job … is Active: 1200/5000 tasks, 240 objects/s, ETA 16 s``."""
    done = job.succeeded + job.failed
    text = (
        f"Batch job {job.job_id} is {job.status}: {done}/{job.total if job.total is not None else '?'} tasks"
    )
    if job.failed:
        text += f" ({job.failed} failed)"
    if done and elapsed > 0:
        rate = done / elapsed
        text += f", {rate:.0f} objects/s"
        if job.total:
            text += f", ETA {max(0.0, (job.total - done) / rate):.0f} s"
    return text


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


class CosBatchJobTrigger(BaseTrigger):
    """Fires when job ``job_id`` of account ``uin`` reaches a terminal status.

    :param job_id: The job (from CreateJob).
    :param uin: The account UIN (the control endpoint's host).
    :param cos_conn_id: Connection id (type ``tencent_cos``), resolved in the triggerer.
    :param region: The job's region (the control endpoint's); defaults to the connection's.
    :param poll_interval: Seconds between DescribeJob calls.
    :param timeout: Seconds from ``started_at`` after which a ``timeout`` event fires.
    :param started_at: Epoch seconds the wait began (defaults to now).
    """

    def __init__(
        self,
        *,
        job_id: str,
        uin: str,
        cos_conn_id: str = CosHook.default_conn_name,
        region: str | None = None,
        poll_interval: float = 30.0,
        timeout: float = DEFAULT_TIMEOUT,
        started_at: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.job_id = job_id
        self.uin = uin
        self.cos_conn_id = cos_conn_id
        self.region = region
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout)
        self.started_at = float(started_at) if started_at is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "uin": self.uin,
                "cos_conn_id": self.cos_conn_id,
                "region": self.region,
                "poll_interval": self.poll_interval,
                "timeout": self.timeout,
                "started_at": self.started_at,
            },
        )

    @cached_property
    def hook(self) -> CosHook:
        return CosHook(self.cos_conn_id, region=self.region)

    def _error(self, exc: Exception) -> dict[str, Any]:
        return {
            "status": "error",
            "job_id": self.job_id,
            "message": str(exc),
            "code": getattr(exc, "code", type(exc).__name__),
            "http_status": getattr(exc, "status", None),
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            settings = await self.hook.aget_settings()
            control = batch.ControlEndpoint.of(
                self.uin, self.region or settings.endpoint.region, settings.app_id
            )
            call = batch.describe_job(control, self.job_id)
        except Exception as exc:
            yield _event(self._error(exc))
            return
        payload = await self._poll(settings, call)
        yield _event(payload)

    async def _poll(self, settings: Any, call: Any) -> dict[str, Any]:
        last: dict[str, Any] | None = None
        last_status = None
        first_seen = last_log = time.monotonic()
        async with shared_client(
            settings.credentials, settings.endpoint, settings.transport, app_id=settings.app_id
        ) as client:
            while True:
                try:
                    job: batch.JobDescription = await client.execute(call)
                except CosServiceError as exc:
                    if exc.status < 500:
                        return self._error(exc)
                    self.log.warning("DescribeJob %s failed, polling on: %s", self.job_id, exc)
                except CosError as exc:  # no answer after the transport's retries
                    self.log.warning("DescribeJob %s failed, polling on: %s", self.job_id, exc)
                else:
                    last = job.to_dict()
                    if job.terminal:
                        return {"status": "done", "job_id": self.job_id, "job": last}
                    now = time.monotonic()
                    if job.status != last_status or now - last_log >= PROGRESS_EVERY:
                        self.log.info("%s", progress_line(job, now - first_seen))
                        last_status, last_log = job.status, now
                elapsed = time.time() - self.started_at
                if elapsed >= self.timeout:
                    return {
                        "status": "timeout",
                        "job_id": self.job_id,
                        "job": last,
                        "message": f"batch job {self.job_id} still {last_status or 'unknown'} after "
                        f"{elapsed:.0f}s (timeout {self.timeout:.0f}s)",
                    }
                await asyncio.sleep(min(self.poll_interval, max(0.0, self.timeout - elapsed)))


__all__ = ["CosBatchJobTrigger"]
